"""Choosing a detector's threshold from validation scores, never from test data.

A frame is flagged when `score >= threshold` (`flag_frames`), the same rule as scikit-learn's curves.
With anomalies in validation the threshold maximises F1 and sits halfway between the lowest flagged
score and the next lower one, so it does not rest on one sample. Without anomalies only the normal
scores' distribution is known: the threshold is a high quantile of it, and the choice says so in `warning`.
A detector may also ask for the quantile rule on purpose (`method="quantile"`): it then ignores validation
anomalies and bounds the false-alarm rate instead, for users who would rather miss faint anomalies than
review many false ones.

With few validation videos the F1 curve is flat and noisy: thresholds far apart reach nearly the same F1, and
which one wins is decided by a frame or two. `se_factor` > 0 applies the one-standard-error rule (Breiman et
al.'s, as used to choose among models): take the *highest* threshold whose validation F1 lies within
`se_factor` standard errors of the best F1, i.e. the fewest false alarms that validation cannot tell apart
from the best. The standard error is that of F1 at the best threshold under a bootstrap of the validation
frames (resampling n frames with replacement only moves the four confusion counts, so it is drawn as a
multinomial over them; fixed seed, so the choice repeats). Frames of one video are correlated, so this error is
if anything too small and the rule too timid. `se_factor=0` is the plain maximum.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from detection.errors import TrainingDataError

THRESHOLD_METHODS = ("best_f1", "quantile")
BOOTSTRAP_SAMPLES = 1000


@dataclass(frozen=True)
class ThresholdChoice:
    """A threshold and how it was found: method 'best_f1' (f1 is its validation F1) or 'quantile' (f1 None)."""

    value: float
    method: str
    f1: float | None = None
    warning: str = ""
    best_f1: float | None = None  # best_f1: the best validation F1 (f1 is the chosen threshold's)
    f1_se: float | None = None  # best_f1 with se_factor > 0: the bootstrap standard error of best_f1


def threshold_setting_problems(method: str, quantile: float, se_factor: float) -> list[str]:
    """What is wrong with a config's threshold settings (`threshold_method`, `threshold_quantile`,
    `threshold_se`: the names every kind's config uses for `pick_threshold`'s arguments); [] when nothing."""
    problems = []
    if method not in THRESHOLD_METHODS:
        problems.append(f"threshold_method must be one of {', '.join(THRESHOLD_METHODS)}, got {method!r}")
    if not 0.0 < quantile < 1.0:
        problems.append("threshold_quantile must lie strictly between 0 and 1")
    if not se_factor >= 0.0:
        problems.append(f"threshold_se must be >= 0, got {se_factor}")
    return problems


def flag_frames(scores: np.ndarray, threshold: float) -> np.ndarray:
    """(N,) bool: the frames a detector flags at `threshold`."""
    return np.asarray(scores) >= threshold


def normal_median(scores: np.ndarray, labels: np.ndarray | None = None) -> float | None:
    """The median score of the normal frames (all frames when labels are None): what a typical normal frame
    scores, the zero of the level scale the web app shows (level 1 is the threshold)."""
    scores = np.asarray(scores, dtype=np.float64).ravel()
    normal = scores if labels is None else scores[~np.asarray(labels, dtype=bool).ravel()]
    normal = normal[np.isfinite(normal)]
    return float(np.median(normal)) if normal.size else None


def pick_threshold(
    val_scores: np.ndarray,
    val_labels: np.ndarray | None = None,
    *,
    quantile: float = 0.99,
    method: str = "best_f1",
    se_factor: float = 0.0,
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
    if not se_factor >= 0.0:
        raise ValueError(f"se_factor must be >= 0, got {se_factor}")
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
    choice = _best_f1_threshold(scores, labels, se_factor)
    if labels.all():
        return replace(choice, warning="validation has no normal frames: false alarms are unmeasured")
    return choice


def _quantile_threshold(normal_scores: np.ndarray, quantile: float) -> ThresholdChoice:
    value = float(np.quantile(normal_scores, quantile))
    warning = (
        f"validation has no anomalies: threshold is the {quantile:.1%} quantile of {normal_scores.size} "
        "normal validation scores; how many anomalies it finds is unknown"
    )
    return ThresholdChoice(value=value, method="quantile", f1=None, warning=warning)


def _best_f1_threshold(scores: np.ndarray, labels: np.ndarray, se_factor: float = 0.0) -> ThresholdChoice:
    order = np.argsort(-scores, kind="stable")
    ranked, ranked_labels = scores[order], labels[order]
    true_pos = np.cumsum(ranked_labels)  # (N,): anomalies among the k+1 highest scores
    flagged = np.arange(1, ranked.size + 1)
    f1 = 2.0 * true_pos / (flagged + labels.sum())
    # A cut is only possible where the next score is lower: tied scores are flagged together.
    cut_allowed = np.append(ranked[1:] < ranked[:-1], True)
    f1 = np.where(cut_allowed, f1, -1.0)
    best = int(np.argmax(f1))  # first maximum: the highest threshold reaching the best F1
    chosen, spread = best, None
    if se_factor > 0.0:
        spread = f1_standard_error(int(true_pos[best]), int(flagged[best]), int(labels.sum()), ranked.size)
        chosen = int(np.flatnonzero(f1 >= f1[best] - se_factor * spread)[0])  # the highest such threshold
    lowest_flagged = ranked[chosen]
    value = lowest_flagged if chosen + 1 == ranked.size else 0.5 * (lowest_flagged + ranked[chosen + 1])
    return ThresholdChoice(
        value=float(value), method="best_f1", f1=float(f1[chosen]), best_f1=float(f1[best]), f1_se=spread
    )


def f1_standard_error(true_pos: int, flagged: int, positives: int, total: int, *, seed: int = 0) -> float:
    """Bootstrap standard error of F1 = 2TP / (flagged + positives) over `total` frames resampled with
    replacement: the resample's confusion counts are one multinomial draw over (TP, FP, FN, TN)."""
    false_pos, false_neg = flagged - true_pos, positives - true_pos
    counts = np.array([true_pos, false_pos, false_neg, total - true_pos - false_pos - false_neg], dtype=np.float64)
    draws = np.random.default_rng(seed).multinomial(total, counts / total, size=BOOTSTRAP_SAMPLES)
    denominator = 2 * draws[:, 0] + draws[:, 1] + draws[:, 2]
    f1 = 2.0 * draws[denominator > 0, 0] / denominator[denominator > 0]  # a draw without anomalies or flags has none
    return float(f1.std()) if f1.size else 0.0
