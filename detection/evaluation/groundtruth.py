"""Ground truth beyond the manifest's intervals: classes, sizes and pixel masks of generated videos.

Generated videos carry it (`detection.synth.groundtruth.load_groundtruth(path)`, None for other videos).
A normal video needs none: nothing is in view, so its classes are empty, its sizes zero, its masks blank.
An anomalous video without it gets None, and the metrics fall back to the intervals (classes) or leave the
breakdown out (sizes, pixel AUROC). Object-intervals (`detection.evaluation.objects`) are measured at the
video's native resolution, which the decoder reports (`probe`); the generated size stands in when the file
cannot be probed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from detection.errors import VideoError
from detection.evaluation.objects import ObjectInterval, from_intervals, object_intervals
from detection.types import VideoRecord

# What the decoder says of a video file: ((height, width) as displayed, duration in seconds), or None.
VideoFacts = tuple[tuple[int, int], float] | None


def _default_loader() -> Callable[[Path], object | None]:
    try:
        from detection.synth.groundtruth import load_groundtruth
    except ModuleNotFoundError:
        return lambda path: None
    return load_groundtruth


def probe_facts(path: Path) -> VideoFacts:
    """Native (height, width) and duration of a video file; None when it cannot be probed."""
    from detection.video.probe import probe

    try:
        info = probe(path)
    except (VideoError, OSError):
        return None
    return (info.height, info.width), info.duration


class GroundTruthCache:
    """Loads each video's ground truth once and answers per-frame questions at given times."""

    def __init__(
        self,
        loader: Callable[[Path], object | None] | None = None,
        prober: Callable[[Path], VideoFacts] = probe_facts,
    ) -> None:
        self.loader = loader or _default_loader()
        self.prober = prober
        self._loaded: dict[Path, object | None] = {}
        self._probed: dict[Path, VideoFacts] = {}

    def facts(self, record: VideoRecord) -> VideoFacts:
        path = Path(record.path)
        if path not in self._probed:
            self._probed[path] = self.prober(path)
        return self._probed[path]

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

    def objects(self, record: VideoRecord) -> tuple[ObjectInterval, ...]:
        """Each labelled object's contiguous appearance, sized in native pixels when the ground truth has masks.

        Without ground truth a normal video has none, and an anomalous one counts each labelled interval as
        one object of unknown size.
        """
        truth = self.truth(record)
        if truth is None:
            return () if record.label == "normal" else from_intervals(record.intervals)
        facts = self.facts(record)
        return object_intervals(truth, native_size=None if facts is None else facts[0])

    def duration(self, record: VideoRecord) -> float | None:
        """The video's length in seconds: as decoded, else as generated; None when neither is known."""
        facts = self.facts(record)
        if facts is not None:
            return float(facts[1])
        truth = self.truth(record)
        return None if truth is None else truth.frame_count / truth.fps
