"""The level scale: a detector's scores re-expressed so that every kind reads the same.

    level = (score - zero) / (threshold - zero)

`zero` is what a typical normal frame scores (the median of the detector's normal validation frames,
`val_normal_median` in its validation metrics), so level 0 is a typical normal frame and level 1 is the
detector's own threshold, whatever the kind's raw scale. It is an affine map per detector: it keeps each
detector's ranking and its flagged frames (level >= 1 exactly when score >= threshold). The web app shows and
filters events by it; `evaluate` reports each detector's test frames on it, which is how comparable the scale
is across kinds is measured.
"""

from __future__ import annotations

import math

import numpy as np


def level_zero(threshold: float, zero: float | None) -> float:
    """The score that is level 0: `zero`, or 0 when unknown; one step below a threshold that is not above it."""
    typical = 0.0 if zero is None or not math.isfinite(zero) else float(zero)
    if threshold <= typical:  # a degenerate threshold: keep the threshold at level 1 and the scale increasing
        typical = 0.0 if threshold > 0 else threshold - 1.0
    return typical


def to_level(score: float | None, threshold: float | None, zero: float | None) -> float | None:
    """One score on the level scale; None when the score or the threshold is missing or not finite."""
    if score is None or threshold is None or not math.isfinite(threshold) or not math.isfinite(score):
        return None
    typical = level_zero(threshold, zero)
    return (score - typical) / (threshold - typical)


def to_levels(scores: np.ndarray, threshold: float, zero: float | None) -> np.ndarray:
    """(N,) scores on the level scale (a finite threshold is required)."""
    typical = level_zero(threshold, zero)
    return (np.asarray(scores, dtype=np.float64) - typical) / (threshold - typical)
