"""The data contracts shared across `detection`: what ingest, detectors, metrics and the web app pass around."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

# Progress callbacks take (fraction done in 0..1, stage text). Workers write them to the Job row, the CLI to tqdm.
ProgressFn = Callable[[float, str], None]


def no_progress(fraction: float, stage: str) -> None:
    return None


@dataclass(frozen=True)
class Interval:
    """A labelled anomalous span in seconds, with an optional class name."""

    start: float
    end: float
    anomaly_class: str = ""


@dataclass(frozen=True)
class VideoRecord:
    """One labelled video, as a manifest row resolves to (label: 'normal', 'anomalous' or '')."""

    path: Path
    label: str = ""
    split: str = ""
    intervals: tuple[Interval, ...] = ()
    video_id: str = ""  # stable id: the manifest's relative path, or the web app's Video pk
    telemetry: Path | None = None  # the video's telemetry sidecar (detection.telemetry), if it has one
    # Spans an analyst saw and called normal (dismissed events): normal frames even where the rest of the video
    # has no frame truth (unlabelled, or anomalous without intervals). Never inside `intervals`.
    normal_intervals: tuple[Interval, ...] = ()

    @property
    def is_anomalous(self) -> bool:
        return self.label == "anomalous"


@dataclass(frozen=True)
class SampledFrames:
    """Frames sampled from one video: `frames` is (N, H, W, 3) uint8 RGB (often a np.memmap), `times` (N,) seconds."""

    frames: np.ndarray
    times: np.ndarray
    source_fps: float = 0.0
    warning: str = ""  # e.g. where decoding of a truncated file stopped


@dataclass(frozen=True)
class DetectedEvent:
    """A flagged span: frames over the threshold merged; peak_x/peak_y are fractions (0..1) of width/height."""

    start: float
    end: float
    peak_time: float
    peak_score: float
    peak_x: float | None = None
    peak_y: float | None = None
    change: str = ""  # CHANGE events: "new" (there today, not in the references) or "vanished"
    reference_id: str = ""  # CHANGE events: the video_id of the reference flight compared at the peak
    reference_time: float | None = None  # seconds into that reference flight


@dataclass(frozen=True)
class VideoScores:
    """One detector's output for one video.

    frame_scores (N,) float32 at `times` (N,); higher is more anomalous, compared with `threshold`.
    heatmaps (N, h, w) uint8 or None: error maps quantised, value v standing for v * heatmap_scale.
    segment_scores (S,) and segment_bounds (S, 2) seconds, for segment-level detectors (MIL), else None.
    """

    times: np.ndarray
    frame_scores: np.ndarray
    threshold: float
    events: tuple[DetectedEvent, ...] = ()
    heatmaps: np.ndarray | None = None
    heatmap_scale: float = 1.0
    segment_scores: np.ndarray | None = None
    segment_bounds: np.ndarray | None = None
    extras: dict = field(default_factory=dict)


class Detector(Protocol):
    """A trained detector: built by a `train_*` function or `detection.detector_file.load_detector`."""

    kind: str
    threshold: float

    def score_frames(self, frames: np.ndarray, times: np.ndarray, progress: ProgressFn = no_progress) -> VideoScores:
        """Score sampled frames of one video ((N, H, W, 3) uint8 RGB at `times` seconds). A detector whose
        `uses_telemetry` is True also takes `poses=` (a detection.telemetry.PoseTable or None)."""
        ...

    def save(self, path: Path) -> None:
        """Write one file holding everything needed to rebuild the detector (see detector_file)."""
        ...
