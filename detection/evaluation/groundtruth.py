"""Ground truth beyond the manifest's intervals: classes, sizes and pixel masks of generated videos.

Generated videos carry it (`detection.synth.groundtruth.load_groundtruth(path)`, None for other videos).
A normal video needs none: nothing is in view, so its classes are empty, its sizes zero, its masks blank.
An anomalous video without it gets None, and the metrics fall back to the intervals (classes) or leave the
breakdown out (sizes, pixel AUROC).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from detection.types import VideoRecord


def _default_loader() -> Callable[[Path], object | None]:
    try:
        from detection.synth.groundtruth import load_groundtruth
    except ModuleNotFoundError:
        return lambda path: None
    return load_groundtruth


class GroundTruthCache:
    """Loads each video's ground truth once and answers per-frame questions at given times."""

    def __init__(self, loader: Callable[[Path], object | None] | None = None) -> None:
        self.loader = loader or _default_loader()
        self._loaded: dict[Path, object | None] = {}

    def truth(self, record: VideoRecord):
        path = Path(record.path)
        if path not in self._loaded:
            self._loaded[path] = self.loader(path)
        return self._loaded[path]

    def classes(self, record: VideoRecord, times: np.ndarray) -> tuple[tuple[str, ...], ...] | None:
        """The anomaly classes in view at each time, or None when unknown."""
        truth = self.truth(record)
        if truth is None:
            return tuple(() for _ in times) if record.label == "normal" else None
        return tuple(tuple(sorted({str(c) for c in names if c})) for names in truth.classes_at(times))

    def area_fraction(self, record: VideoRecord, times: np.ndarray) -> np.ndarray | None:
        """(N,) share of the frame covered by anomalies at each time, or None when unknown."""
        truth = self.truth(record)
        if truth is None:
            return np.zeros(len(times)) if record.label == "normal" else None
        return np.asarray(truth.area_fraction_at(times), dtype=np.float64)

    def masks(self, record: VideoRecord, times: np.ndarray, shape: tuple[int, int]) -> np.ndarray | None:
        """(N, h, w) bool anomaly masks at `shape` (h, w), or None when unknown."""
        truth = self.truth(record)
        height, width = int(shape[0]), int(shape[1])
        if truth is None:
            return np.zeros((len(times), height, width), dtype=bool) if record.label == "normal" else None
        return np.asarray(truth.masks_at(times, (height, width)), dtype=bool)
