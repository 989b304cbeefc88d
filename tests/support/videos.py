"""Tiny real videos made with PyAV for tests: a textured scene panned over time, optionally with a bright box."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import av
import numpy as np


def scene_frame(index: int, width: int, height: int, box: tuple[int, int, int] | None = None) -> np.ndarray:
    """A deterministic RGB frame: smooth texture drifting right, and a white square (x, y, side) if `box`."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    shift = index * 2.0
    red = 96 + 60 * np.sin((xs + shift) / 9.0) * np.cos(ys / 13.0)
    green = 120 + 50 * np.sin((xs + shift) / 17.0 + ys / 11.0)
    blue = 140 + 40 * np.cos((ys - shift) / 7.0)
    frame = np.stack([red, green, blue], axis=-1).clip(0, 255).astype(np.uint8)
    if box is not None:
        x, y, side = box
        frame[y : y + side, x : x + side] = 255
    return frame


@lru_cache(maxsize=2)
def _ground(seed: int) -> np.ndarray:
    from tests.detection.change_scenes import textured_world

    return textured_world(seed=seed, size=900)


def route_scene(width: int, height: int, *, start: float = 0.0, step: float = 3.0, seed: int = 0
                ) -> Callable[[int], np.ndarray]:
    """Frame `index` of a flight along one route over textured ground (fields, roofs, roads), the camera moving
    `step` ground pixels per frame from `start`: flights of one route on different days, which the CHANGE
    detector can align (the default scene's smooth waves have no keypoints)."""
    import cv2

    ground = _ground(seed)

    def frame(index: int) -> np.ndarray:
        x = 100 + start + step * index
        to_ground = np.array([[1.0, 0, x], [0, 1.0, 300], [0, 0, 1]])
        return cv2.warpPerspective(ground, to_ground, (width, height), flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR)

    return frame


def make_video(
    path: Path,
    *,
    seconds: float = 2.0,
    fps: int = 10,
    width: int = 64,
    height: int = 48,
    codec: str = "libx264",
    box_from: float | None = None,
    box: tuple[int, int, int] = (10, 10, 12),
    rotation: int | None = None,
    gop: int | None = None,
    faststart: bool = False,
    scene: Callable[[int], np.ndarray] | None = None,
) -> Path:
    """Write a real H.264 (or `codec`) MP4 of a panning scene; from `box_from` seconds on, a white box shows.

    `faststart` puts the index (moov) before the data, as streaming encoders and our proxies do. `scene`
    (index -> (height, width, 3) uint8 frame, e.g. `route_scene`) replaces the panning scene; the box still shows.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if gop:
            stream.codec_context.gop_size = gop
        if rotation is not None:
            stream.set_display_rotation(rotation)  # counter-clockwise degrees, as VideoFrame.rotation reads
        stream.codec_context.time_base = Fraction(1, fps)
        for index in range(int(round(seconds * fps))):
            show_box = box_from is not None and index / fps >= box_from
            if scene is None:
                image = scene_frame(index, width, height, box if show_box else None)
            else:
                image = np.array(scene(index), dtype=np.uint8)
                if show_box:
                    x, y, side = box
                    image[y : y + side, x : x + side] = 255
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path
