"""Per-frame ground truth of a generated video, stored next to it as `<video stem>.gt.npz`.

For every video frame: the union mask of the anomalies in view (bit-packed, compressed), and one row per
anomaly in view with its class, bounding box and pixel count. Evaluation asks it at any times (seconds),
and the manifest's intervals are derived from it, so the two always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from detection.types import Interval

FORMAT_VERSION = 1


def groundtruth_path(video_path: Path | str) -> Path:
    """Where a video's ground truth lives: `day01/patrol.mp4` -> `day01/patrol.gt.npz`."""
    return Path(video_path).with_suffix(".gt.npz")


@dataclass(frozen=True)
class GroundTruth:
    """Frame-level truth of one video. Frame i covers times [i / fps, (i + 1) / fps).

    masks: (N, ceil(h * w / 8)) uint8, np.packbits of each frame's (h, w) union mask.
    object_frame, object_class (index into class_names), object_box (x0, y0, x1, y1; x1, y1 exclusive),
    object_pixels: one row per anomaly in view per frame; object_latlon (rows, 2) float64 its latitude and
    longitude (the patrol presets; NaN for frame-level anomalies), or None where the video has no telemetry.
    """

    fps: float
    size: tuple[int, int]
    class_names: tuple[str, ...]
    masks: np.ndarray
    object_frame: np.ndarray
    object_class: np.ndarray
    object_box: np.ndarray
    object_pixels: np.ndarray
    notes: dict
    object_latlon: np.ndarray | None = None

    @property
    def frame_count(self) -> int:
        return len(self.masks)

    def frame_index(self, times) -> np.ndarray:
        """(N,) frame index for each time, or -1 where the time lies outside the video."""
        times = np.asarray(times, dtype=np.float64)
        index = np.floor(times * self.fps + 1e-6).astype(np.int64)
        return np.where((index >= 0) & (index < self.frame_count), index, -1)

    def _objects_per_frame(self) -> np.ndarray:
        pixels = np.zeros(self.frame_count, dtype=np.int64)
        np.add.at(pixels, self.object_frame, 1)
        return pixels

    def labels_at(self, times) -> np.ndarray:
        """(N,) bool: an anomaly is in view at each time."""
        index = self.frame_index(times)
        in_view = self._objects_per_frame() > 0
        return np.where(index >= 0, in_view[np.maximum(index, 0)], False)

    def classes_at(self, times) -> list[set[str]]:
        """The classes of the anomalies in view at each time."""
        per_frame: list[set[str]] = [set() for _ in range(self.frame_count)]
        for frame, cls in zip(self.object_frame.tolist(), self.object_class.tolist()):
            per_frame[frame].add(self.class_names[cls])
        return [set(per_frame[i]) if i >= 0 else set() for i in self.frame_index(times).tolist()]

    def area_fraction_at(self, times) -> np.ndarray:
        """(N,) float: the fraction of the frame covered by anomalies at each time."""
        h, w = self.size
        index = self.frame_index(times)
        counts = np.unpackbits(self.masks, axis=1, count=h * w).sum(axis=1) / float(h * w)
        return np.where(index >= 0, counts[np.maximum(index, 0)], 0.0)

    def masks_at(self, times, size: tuple[int, int] | None = None) -> np.ndarray:
        """(N, h, w) bool masks at each time, resized to `size` (h, w) if given.

        Shrinking marks a cell if any source pixel inside it is marked, so a few-pixel object stays visible.
        """
        h, w = self.size
        index = self.frame_index(times)
        full = np.unpackbits(self.masks[np.maximum(index, 0)], axis=1, count=h * w).reshape(-1, h, w).astype(bool)
        full[index < 0] = False
        if size is None or tuple(size) == (h, w):
            return full
        out_h, out_w = size
        rows = np.floor(np.arange(out_h) * h / out_h).astype(np.int64)
        cols = np.floor(np.arange(out_w) * w / out_w).astype(np.int64)
        pooled = np.maximum.reduceat(full, rows, axis=1)
        return np.maximum.reduceat(pooled, cols, axis=2)

    def intervals(self, *, decimals: int = 3) -> tuple[Interval, ...]:
        """Spans in seconds where each class is in view, one per run of frames, sorted by start.

        The end is just before the next frame starts, so `detection.labels.frame_labels` at any frame's time
        agrees with `labels_at`.
        """
        found = []
        step = 10.0 ** -decimals
        for cls_index, name in enumerate(self.class_names):
            frames = np.zeros(self.frame_count + 2, dtype=np.int8)
            frames[np.unique(self.object_frame[self.object_class == cls_index]) + 1] = 1
            edges = np.diff(frames)
            for first, after in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]):
                start = round(first / self.fps, decimals)
                end = round(after / self.fps - step, decimals)
                found.append(Interval(start, max(end, start + step), name))
        return tuple(sorted(found, key=lambda i: (i.start, i.anomaly_class)))

    def save(self, path: Path | str) -> None:
        extra = {} if self.object_latlon is None else {"object_latlon": self.object_latlon}
        np.savez_compressed(
            path, version=FORMAT_VERSION, fps=self.fps, size=np.array(self.size), **extra,
            class_names=np.array(self.class_names, dtype=str), masks=self.masks,
            object_frame=self.object_frame, object_class=self.object_class,
            object_box=self.object_box, object_pixels=self.object_pixels,
            notes_keys=np.array(list(self.notes), dtype=str),
            notes_values=np.array([float(v) for v in self.notes.values()], dtype=np.float64),
        )


class GroundTruthBuilder:
    """Collects the masks of each rendered frame, then builds a `GroundTruth`."""

    def __init__(self, *, fps: float, size: tuple[int, int], class_names: tuple[str, ...]):
        self.fps, self.size, self.class_names = fps, size, class_names
        self.masks: list[np.ndarray] = []
        self.rows: list[tuple[int, int, int, int, int, int, int]] = []
        self.latlon: list[tuple[float, float]] = []
        self.has_latlon = False

    def add_frame(self, objects: list[tuple[str, np.ndarray]], latlon: list[tuple[float, float]] | None = None) -> None:
        """One frame's anomalies in view, as (class, (h, w) bool mask), and optionally each one's (lat, lon)."""
        frame = len(self.masks)
        union = np.zeros(self.size, dtype=bool)
        self.has_latlon |= latlon is not None
        for k, (name, mask) in enumerate(objects):
            ys, xs = np.nonzero(mask)
            if len(xs) == 0:
                continue
            union |= mask
            box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
            self.rows.append((frame, self.class_names.index(name), *box, len(xs)))
            self.latlon.append(latlon[k] if latlon is not None else (np.nan, np.nan))
        self.masks.append(np.packbits(union.ravel()))

    def build(self, notes: dict | None = None) -> GroundTruth:
        rows = np.array(self.rows, dtype=np.int64).reshape(-1, 7)
        return GroundTruth(
            fps=float(self.fps), size=tuple(self.size), class_names=tuple(self.class_names),
            masks=np.stack(self.masks) if self.masks else np.zeros((0, 0), np.uint8),
            object_frame=rows[:, 0].astype(np.int32), object_class=rows[:, 1].astype(np.int16),
            object_box=rows[:, 2:6].astype(np.int32), object_pixels=rows[:, 6].astype(np.int32),
            notes=dict(notes or {}),
            object_latlon=np.array(self.latlon, dtype=np.float64).reshape(-1, 2) if self.has_latlon else None,
        )


def load_groundtruth(video_path: Path | str) -> GroundTruth | None:
    """The ground truth stored next to a video, or None if it has none (e.g. a real, not generated, video)."""
    path = groundtruth_path(video_path)
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as data:
        return GroundTruth(
            fps=float(data["fps"]), size=tuple(int(v) for v in data["size"]),
            class_names=tuple(str(v) for v in data["class_names"]), masks=data["masks"],
            object_frame=data["object_frame"], object_class=data["object_class"],
            object_box=data["object_box"], object_pixels=data["object_pixels"],
            notes=dict(zip((str(k) for k in data["notes_keys"]), (float(v) for v in data["notes_values"]))),
            object_latlon=data["object_latlon"] if "object_latlon" in data else None,
        )
