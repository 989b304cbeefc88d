"""Turning per-frame scores into flagged events: runs of frames over the threshold, merged across short gaps.

A frame is over the threshold when `score >= threshold` (as in `detection.thresholds.flag_frames`).
Runs whose gap (from the last flagged frame of one to the first of the next) is at most `max_gap`
seconds become one event, spanning the first to the last flagged frame. The peak is the highest score
inside the span; with heatmaps, peak_x/peak_y are the centre of the hottest heatmap cell at the peak
frame as fractions (0..1) of the width and height.
"""

from __future__ import annotations

import numpy as np

from detection.thresholds import flag_frames
from detection.types import DetectedEvent


def merge_events(
    times: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    *,
    heatmaps: np.ndarray | None = None,
    max_gap: float = 1.0,
    min_duration: float = 0.0,
) -> tuple[DetectedEvent, ...]:
    """Events from frame `scores` (N,) at increasing `times` (N,) seconds; `heatmaps` (N, h, w) if given.

    Spans shorter than `min_duration` seconds (end - start; one frame lasts 0) are dropped.
    """
    times = np.asarray(times, dtype=np.float64).ravel()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if times.shape != scores.shape:
        raise ValueError(f"{times.size} times for {scores.size} scores")
    if heatmaps is not None and len(heatmaps) != scores.size:
        raise ValueError(f"{len(heatmaps)} heatmaps for {scores.size} scores")
    flagged = np.flatnonzero(flag_frames(scores, threshold))
    if flagged.size == 0:
        return ()
    # A new event starts at a flagged frame whose gap to the previous flagged frame exceeds max_gap.
    starts_new = np.append(True, np.diff(times[flagged]) > max_gap)
    first = flagged[starts_new]
    last = flagged[np.append(starts_new[1:], True)]
    events = []
    for start_index, end_index in zip(first, last):
        if times[end_index] - times[start_index] < min_duration:
            continue
        peak = start_index + int(np.argmax(scores[start_index : end_index + 1]))
        peak_x, peak_y = heatmap_peak(heatmaps[peak]) if heatmaps is not None else (None, None)
        events.append(
            DetectedEvent(
                start=float(times[start_index]),
                end=float(times[end_index]),
                peak_time=float(times[peak]),
                peak_score=float(scores[peak]),
                peak_x=peak_x,
                peak_y=peak_y,
            )
        )
    return tuple(events)


def heatmap_peak(heatmap: np.ndarray) -> tuple[float, float]:
    """(x, y) fractions of the frame at the centre of the heatmap's highest cell: where an event is."""
    heatmap = np.asarray(heatmap)
    row, col = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
    return float((col + 0.5) / heatmap.shape[1]), float((row + 0.5) / heatmap.shape[0])
