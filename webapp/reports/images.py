"""Frames and heatmaps as images, with numpy and Pillow only: colour maps, overlays and PNG encoding."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from django.conf import settings
from PIL import Image

# Anchor colours of an "inferno"-like map (dark purple -> red -> yellow), interpolated into a 256-entry table.
_ANCHORS = np.array([[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], dtype=np.float32)
COLORMAP = np.stack(
    [np.interp(np.linspace(0, len(_ANCHORS) - 1, 256), np.arange(len(_ANCHORS)), _ANCHORS[:, c]) for c in range(3)],
    axis=1,
).astype(np.uint8)  # (256, 3)


def media_path(relative: str) -> Path:
    return Path(settings.MEDIA_ROOT) / relative


def load_frames(video) -> np.ndarray | None:
    """The video's sampled frames (N, H, W, 3) uint8, memory-mapped, or None when ingest wrote none."""
    path = media_path(video.frames_path)
    return np.load(path, mmap_mode="r") if path.exists() else None


def load_timestamps(video) -> np.ndarray | None:
    path = media_path(video.timestamps_path)
    return np.load(path) if path.exists() else None


def nearest_index(times: np.ndarray, t: float) -> int:
    """Index of the sampled time closest to `t` (times ascending, non-empty)."""
    i = int(np.searchsorted(times, t))
    if i <= 0:
        return 0
    if i >= len(times):
        return len(times) - 1
    return i if times[i] - t < t - times[i - 1] else i - 1


def stretch(heatmap: np.ndarray) -> np.ndarray:
    """uint8 (h, w) with its values as they are: quantised errors already span 0..255 by construction."""
    return np.asarray(heatmap, dtype=np.uint8)


# Opacity of a heatmap value: clear up to OPACITY_FLOOR (the low error every frame has, which would only tint the
# video), then rising linearly to opaque at OPACITY_FULL, so that what stands out is what the detector flagged.
OPACITY_FLOOR, OPACITY_FULL = 40, 170


def heatmap_opacity(values: np.ndarray) -> np.ndarray:
    """uint8 values -> uint8 alpha, 0 at or below OPACITY_FLOOR, 255 from OPACITY_FULL."""
    ramp = (values.astype(np.float32) - OPACITY_FLOOR) / (OPACITY_FULL - OPACITY_FLOOR)
    return (np.clip(ramp, 0, 1) * 255).round().astype(np.uint8)


def colorize(heatmap: np.ndarray, *, alpha: bool = True) -> np.ndarray:
    """(h, w) uint8 -> (h, w, 4) RGBA: colour from the map, transparent where the error is low."""
    values = stretch(heatmap)
    rgb = COLORMAP[values]
    if not alpha:
        return rgb
    return np.concatenate([rgb, heatmap_opacity(values)[..., None]], axis=-1)


def colour_scale_css(stops: int = 9) -> str:
    """A CSS linear-gradient of the heatmap's colours with their opacity (low error clear): the colour scale
    drawn beside every heatmap, from the same table and ramp that colour the images."""
    values = np.linspace(0, 255, stops).round().astype(np.uint8)
    colours = COLORMAP[values]
    alphas = heatmap_opacity(values) / 255
    parts = [f"rgba({r}, {g}, {b}, {a:.2f}) {100 * int(v) / 255:.0f}%" for (r, g, b), a, v in zip(colours, alphas, values)]
    return f"linear-gradient(to right, {', '.join(parts)})"


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of an (h, w[, c]) uint8 array to (height, width)."""
    height, width = size
    if image.shape[:2] == (height, width):
        return np.asarray(image)
    return np.asarray(Image.fromarray(np.ascontiguousarray(image)).resize((width, height), Image.BILINEAR))


def overlay(frame: np.ndarray, heatmap: np.ndarray, *, opacity: float = 0.6) -> np.ndarray:
    """The frame (H, W, 3) with the colourised heatmap blended over it where the error is high."""
    rgba = resize(colorize(heatmap), frame.shape[:2]).astype(np.float32)
    weight = rgba[..., 3:] / 255.0 * opacity
    return (frame.astype(np.float32) * (1 - weight) + rgba[..., :3] * weight).clip(0, 255).astype(np.uint8)


def difference(frame: np.ndarray, reconstruction: np.ndarray) -> np.ndarray:
    """Per-pixel absolute difference averaged over channels, (H, W) uint8, as the origin report's Figure 13."""
    diff = np.abs(frame.astype(np.int16) - reconstruction.astype(np.int16)).mean(axis=-1)
    return diff.clip(0, 255).astype(np.uint8)


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def load_heatmaps(run) -> tuple[np.ndarray, np.ndarray] | None:
    """A score run's (times (N,), heatmaps (N, h, w) memmap), or None when it stored no heatmaps."""
    folder = media_path(run.media_dir)
    if not (folder / "heatmaps.npy").exists():
        return None
    with np.load(folder / "scores.npz") as data:
        times = data["times"]
    return times, np.load(folder / "heatmaps.npy", mmap_mode="r")


def frame_with_heatmap(video, run, t: float, *, with_heatmap: bool = True) -> np.ndarray | None:
    """The sampled frame nearest `t` seconds, with `run`'s heatmap for that moment blended over it."""
    frames, times = load_frames(video), load_timestamps(video)
    if frames is None or times is None or len(times) == 0:
        return None
    frame = np.asarray(frames[nearest_index(times, t)])
    stored = load_heatmaps(run) if (with_heatmap and run is not None) else None
    if stored is not None and len(stored[0]):
        run_times, heatmaps = stored
        frame = overlay(frame, np.asarray(heatmaps[nearest_index(run_times, t)]))
    return frame


THUMBNAIL_WIDTH = 320


def display_aspect(video, image: np.ndarray) -> float:
    """Width over height as the video is shown (its probed size is after rotation); the image's own shape when
    the video's size is unknown. Detectors sample square frames (124x124) from 16:9 video: shown as they are,
    every thumbnail would be squashed."""
    if video.width and video.height:
        return video.width / video.height
    return image.shape[1] / max(1, image.shape[0])


def at_video_aspect(image: np.ndarray, video, width: int) -> np.ndarray:
    """The image resized to `width` pixels wide at the video's aspect ratio (bilinear)."""
    return resize(image, (max(1, round(width / display_aspect(video, image))), width))


def event_thumbnail_png(event) -> bytes | None:
    """PNG of the event's peak frame with its heatmap, at the video's aspect ratio, for a card; None without frames."""
    video = event.score_run.video
    image = frame_with_heatmap(video, event.score_run, event.peak_time)
    return None if image is None else png_bytes(at_video_aspect(image, video, THUMBNAIL_WIDTH))


def fit_width(image: np.ndarray, width: int) -> np.ndarray:
    """The image scaled down (never up) to at most `width` pixels wide, keeping its aspect ratio."""
    height, current = image.shape[:2]
    if current <= width:
        return image
    return resize(image, (max(1, round(height * width / current)), width))
