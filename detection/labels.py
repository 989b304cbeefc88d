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


def frame_truth(times: np.ndarray, record: VideoRecord) -> tuple[np.ndarray, np.ndarray] | None:
    """(labels, known), both (N,) bool: what is known of each frame, None when nothing is.

    A normal video and an anomalous one with intervals are known everywhere (`record_frame_labels`); elsewhere
    only the record's normal intervals (dismissed events) are known, and normal. Reviews thus add truth to
    videos nobody labelled, without claiming anything about their other frames.
    """
    labels = record_frame_labels(times, record)
    if labels is not None:
        return labels, np.ones(len(labels), dtype=bool)
    known = frame_labels(times, record.normal_intervals) & ~frame_labels(times, record.intervals)
    if not known.any():
        return None
    return np.zeros(len(known), dtype=bool), known


def known_runs(known: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the runs of consecutive True values."""
    edges = np.flatnonzero(np.diff(np.concatenate([[False], np.asarray(known, dtype=bool), [False]]).astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]
