"""What a page draws of one detector's evaluation, computed with `metrics` when the evaluation runs.

The web app's evaluate job writes this beside metrics.json (as curves.json) so that the detector page reads
numbers and points and never loads a score array or computes a metric in a request:
- `curve_row`: the headline numbers at the threshold and the ROC and PR points, thinned for plotting;
- `threshold_table`: the confusion and rates at thresholds spread over the scores (the page's slider);
- `class_peaks`: each video's highest score, grouped by the anomaly classes it holds ("normal" for none).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from detection.evaluation import metrics
from detection.evaluation.summary import ScoredVideo

MAX_CURVE_POINTS = 1500
SLIDER_STEPS = 200
NO_CLASS = "unnamed"  # as `summary` names an interval without a class
# How the page words the flagging rule, read from the rule itself so that the two cannot drift apart.
FLAG_RULE = "at or above" if bool(metrics.flag_frames(np.array([1.0]), 1.0)[0]) else "above"


def pooled(videos: Sequence[ScoredVideo]) -> tuple[np.ndarray, np.ndarray]:
    """(labels, scores), each (sum of N_i,): the videos' frames one after another."""
    if not videos:
        return np.zeros(0, dtype=bool), np.zeros(0)
    labels = np.concatenate([np.asarray(v.labels, dtype=bool) for v in videos])
    return labels, np.concatenate([np.asarray(v.scores, dtype=np.float64) for v in videos])


def thin(x: Sequence[float], y: Sequence[float], limit: int = MAX_CURVE_POINTS) -> tuple[list, list]:
    """At most `limit` points of a curve, evenly spaced along it, keeping both ends."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) > limit:
        index = np.unique(np.linspace(0, len(x) - 1, limit).round().astype(int))
        x, y = x[index], y[index]
    return x.tolist(), y.tolist()


def curve_row(name: str, videos: Sequence[ScoredVideo], threshold: float) -> dict:
    """{"name", "threshold", "frame_auc", "frame_ap", "precision", "recall", "f1", "confusion", "fpr", "tpr",
    "curve_recall", "curve_precision"} over the pooled frames; curve lists are empty where a class is missing."""
    labels, scores = pooled(videos)
    confusion = metrics.confusion_counts(labels, metrics.flag_frames(scores, threshold))
    rates = metrics.classification_rates(confusion)
    roc, pr = metrics.roc_points(labels, scores), metrics.pr_points(labels, scores)
    fpr, tpr = thin(roc["fpr"], roc["tpr"]) if roc else ([], [])
    recall, precision = thin(pr["recall"], pr["precision"]) if pr else ([], [])
    return {"name": name, "threshold": float(threshold), "frame_auc": metrics.roc_auc(labels, scores),
            "frame_ap": metrics.average_precision(labels, scores), "precision": rates["precision"],
            "recall": rates["recall"], "f1": rates["f1"], "confusion": confusion, "fpr": fpr, "tpr": tpr,
            "curve_recall": recall, "curve_precision": precision}


def threshold_table(labels: np.ndarray, scores: np.ndarray, threshold: float, steps: int = SLIDER_STEPS) -> dict:
    """{"thresholds", "index", "rule", "tp", "fp", "tn", "fn", "precision", "recall", "f1", "accuracy", "fpr"}:
    lists over the score quantiles and `steps` even steps from the lowest score to the highest (the page's
    slider is linear in the threshold, and dense where the scores are), one step past each end (all and nothing
    flagged) and `threshold` itself, which `index` points at; "rule" words the flagging rule ("at or above")."""
    scores = np.asarray(scores, dtype=np.float64)
    if len(scores) == 0:
        return {"thresholds": [], "index": 0, "rule": FLAG_RULE}
    grid = np.quantile(scores, np.linspace(0, 1, steps + 1))
    even = np.linspace(grid[0], grid[-1], steps + 1)
    grid = np.unique(np.concatenate([grid, even, [grid[0] - 1e-6, grid[-1] + 1e-6, threshold]]))
    counts = metrics.confusion_at_thresholds(labels, scores, grid)
    rows = [metrics.classification_rates({k: int(v[i]) for k, v in counts.items()}) for i in range(len(grid))]
    table = {"thresholds": grid.tolist(), "index": int(np.argmin(np.abs(grid - threshold))), "rule": FLAG_RULE}
    table.update({k: v.tolist() for k, v in counts.items()})
    table.update({k: [row[k] for row in rows] for k in ("precision", "recall", "f1", "accuracy")})
    table["fpr"] = [None if row["normal_recall"] is None else 1.0 - row["normal_recall"] for row in rows]
    return table


def class_peaks(videos: Sequence[ScoredVideo]) -> dict[str, list[float]]:
    """{class: [each video's highest score]}: "normal" for normal videos, else each class of its intervals."""
    groups: dict[str, list[float]] = {"normal": []}
    for video in videos:
        peak = float(np.max(video.scores)) if len(video.scores) else 0.0
        names = sorted({i.anomaly_class or NO_CLASS for i in video.intervals}) if video.is_anomalous else []
        for name in names or ["normal"]:
            groups.setdefault(name, []).append(peak)
    return {name: peaks for name, peaks in groups.items() if peaks}
