"""Frame-level ground truth from labelled intervals."""

from __future__ import annotations

import numpy as np

from detection.types import Interval, VideoRecord


def frame_labels(times: np.ndarray, intervals: tuple[Interval, ...] | list[Interval]) -> np.ndarray:
    """(N,) bool: True where a sampled frame's time lies inside any interval [start, end]."""
    times = np.asarray(times, dtype=np.float64)
    inside = np.zeros(times.shape, dtype=bool)
    for interval in intervals:
        inside |= (times >= interval.start) & (times <= interval.end)
    return inside


def record_frame_labels(times: np.ndarray, record: VideoRecord) -> np.ndarray | None:
    """Frame labels for a record: all False for a normal video, the intervals for an anomalous one.

    None when they are unknown: an unlabelled video, or an anomalous one with no intervals (a weak label).
    """
    if record.label == "normal":
        return np.zeros(len(times), dtype=bool)
    if record.label == "anomalous" and record.intervals:
        return frame_labels(times, record.intervals)
    return None
