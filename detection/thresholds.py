"""Choosing a detector's threshold from validation scores, never from test data.

A frame is flagged when `score >= threshold` (`flag_frames`), the same rule as scikit-learn's curves.
With anomalies in validation the threshold maximises F1 and sits halfway between the lowest flagged
score and the next lower one, so it does not rest on one sample. Without anomalies only the normal
scores' distribution is known: the threshold is a high quantile of it, and the choice says so in `warning`.
A detector may also ask for the quantile rule on purpose (`method="quantile"`): it then ignores validation
anomalies and bounds the false-alarm rate instead, for users who would rather miss faint anomalies than
review many false ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detection.errors import TrainingDataError

THRESHOLD_METHODS = ("best_f1", "quantile")


@dataclass(frozen=True)
class ThresholdChoice:
    """A threshold and how it was found: method 'best_f1' (f1 is its validation F1) or 'quantile' (f1 None)."""

    value: float
    method: str
    f1: float | None = None
    warning: str = ""


def flag_frames(scores: np.ndarray, threshold: float) -> np.ndarray:
    """(N,) bool: the frames a detector flags at `threshold`."""
    return np.asarray(scores) >= threshold


def pick_threshold(
    val_scores: np.ndarray,
    val_labels: np.ndarray | None = None,
    *,
    quantile: float = 0.99,
    method: str = "best_f1",
) -> ThresholdChoice:
    """The threshold for validation scores (N,) and their frame labels (N,) bool (True = anomalous).

    method "best_f1": best F1 when the labels hold at least one anomaly; else the `quantile` of the normal
    scores, with a warning. method "quantile": the `quantile` of the normal scores whatever the labels hold.
    """
    if method not in THRESHOLD_METHODS:
        raise ValueError(f"threshold method must be one of {', '.join(THRESHOLD_METHODS)}, got {method!r}")
    scores = np.asarray(val_scores, dtype=np.float64).ravel()
    if scores.size == 0:
        raise TrainingDataError("no validation scores to choose a threshold from")
    if not np.all(np.isfinite(scores)):
        raise TrainingDataError("validation scores contain NaN or infinite values")
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must lie strictly between 0 and 1, got {quantile}")
    labels = None if val_labels is None else np.asarray(val_labels, dtype=bool).ravel()
    if labels is not None and labels.shape != scores.shape:
        raise ValueError(f"{labels.size} validation labels for {scores.size} scores")
    if method == "quantile":
        normal = scores if labels is None else scores[~labels]
        if normal.size == 0:
            raise TrainingDataError("the quantile threshold needs normal validation frames, and there are none")
        return ThresholdChoice(value=float(np.quantile(normal, quantile)), method="quantile")
    if labels is None or not labels.any():
        return _quantile_threshold(scores if labels is None else scores[~labels], quantile)
    choice = _best_f1_threshold(scores, labels)
    if labels.all():
        return ThresholdChoice(
            choice.value, choice.method, choice.f1, "validation has no normal frames: false alarms are unmeasured"
        )
    return choice


def _quantile_threshold(normal_scores: np.ndarray, quantile: float) -> ThresholdChoice:
    value = float(np.quantile(normal_scores, quantile))
    warning = (
        f"validation has no anomalies: threshold is the {quantile:.1%} quantile of {normal_scores.size} "
        "normal validation scores; how many anomalies it finds is unknown"
    )
    return ThresholdChoice(value=value, method="quantile", f1=None, warning=warning)


def _best_f1_threshold(scores: np.ndarray, labels: np.ndarray) -> ThresholdChoice:
    order = np.argsort(-scores, kind="stable")
    ranked, ranked_labels = scores[order], labels[order]
    true_pos = np.cumsum(ranked_labels)  # (N,): anomalies among the k+1 highest scores
    flagged = np.arange(1, ranked.size + 1)
    f1 = 2.0 * true_pos / (flagged + labels.sum())
    # A cut is only possible where the next score is lower: tied scores are flagged together.
    cut_allowed = np.append(ranked[1:] < ranked[:-1], True)
    f1 = np.where(cut_allowed, f1, -1.0)
    best = int(np.argmax(f1))  # first maximum: the highest threshold reaching the best F1
    lowest_flagged = ranked[best]
    value = lowest_flagged if best + 1 == ranked.size else 0.5 * (lowest_flagged + ranked[best + 1])
    return ThresholdChoice(value=float(value), method="best_f1", f1=float(f1[best]))
