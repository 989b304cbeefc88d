"""Accuracy metrics of anomaly scores against labels, anomaly being the positive class.

Pure numpy and scikit-learn, on plain arrays, so that each number can be checked by hand:
- ranking: ROC-AUC (pooled, and averaged per video), average precision, ROC and PR curve points;
- at a threshold (a frame is flagged when its score is at or above it, `detection.thresholds.flag_frames`):
  the confusion matrix and
  accuracy, precision, recall and F1 for the anomaly class and for the normal class (the origin report's form);
- time: false alarms (runs of flagged normal frames) per hour of normal footage; event level (a labelled
  interval is found when a flagged event overlaps it), false events per hour, seconds to the first flag;
- breakdowns: recall per anomaly class and per anomaly size (fraction of the frame it covers); pixel AUROC;
- objects: the share of labelled objects (object-intervals) found, per size in native pixels and per class.

Undefined values (an AUC with one class present, a precision with nothing predicted) are None, never NaN,
so that they survive JSON and read as "no data" in the reports.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

from detection.thresholds import flag_frames
from detection.types import DetectedEvent, Interval

__all__ = ["flag_frames"]  # re-exported: the one flagging rule, shared with thresholds and events

SECONDS_PER_HOUR = 3600.0

# Anomaly size buckets by the fraction of the frame the anomaly covers: (name, low inclusive, high exclusive).
SIZE_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("<0.1%", 0.0, 0.001),
    ("0.1-0.5%", 0.001, 0.005),
    ("0.5-2%", 0.005, 0.02),
    (">2%", 0.02, float("inf")),
)
NOT_VISIBLE = "not visible"  # labelled anomalous, but the ground truth has no pixels in view

# Object size buckets in native-resolution pixels (sqrt of the mask's area): (name, low inclusive, high exclusive).
PIXEL_SIZE_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("<16", 0.0, 16.0),
    ("16-32", 16.0, 32.0),
    ("32-64", 32.0, 64.0),
    ("64-128", 64.0, 128.0),
    (">128", 128.0, float("inf")),
)
# Classes listed even when no test object has them, so that their absence reads as "not measured".
ALWAYS_REPORTED_CLASSES = ("vanished",)


def _both_classes(labels: np.ndarray) -> bool:
    return 0 < int(labels.sum()) < len(labels)


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve (ties count one half); None unless both classes are present."""
    labels = np.asarray(labels, dtype=bool)
    if not _both_classes(labels):
        return None
    return float(roc_auc_score(labels, np.asarray(scores, dtype=np.float64)))


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Average precision (area under the step PR curve, as scikit-learn defines it); None without positives."""
    labels = np.asarray(labels, dtype=bool)
    if not labels.any():
        return None
    return float(average_precision_score(labels, np.asarray(scores, dtype=np.float64)))


def macro_roc_auc(per_video: Sequence[tuple[np.ndarray, np.ndarray]]) -> float | None:
    """Mean of per-video ROC-AUCs over (labels, scores) pairs, skipping videos with only one class."""
    values = [auc for labels, scores in per_video if (auc := roc_auc(labels, scores)) is not None]
    return float(np.mean(values)) if values else None


def roc_points(labels: np.ndarray, scores: np.ndarray) -> dict | None:
    """ROC curve points {"fpr": [...], "tpr": [...]} for plotting; None unless both classes are present."""
    labels = np.asarray(labels, dtype=bool)
    if not _both_classes(labels):
        return None
    fpr, tpr, _ = roc_curve(labels, np.asarray(scores, dtype=np.float64), drop_intermediate=True)
    return {"fpr": fpr.tolist(), "tpr": tpr.tolist()}


def pr_points(labels: np.ndarray, scores: np.ndarray) -> dict | None:
    """Precision-recall curve points {"recall": [...], "precision": [...]}; None without positives."""
    labels = np.asarray(labels, dtype=bool)
    if not labels.any():
        return None
    precision, recall, _ = precision_recall_curve(labels, np.asarray(scores, dtype=np.float64))
    return {"recall": recall.tolist(), "precision": precision.tolist()}


def confusion_counts(labels: np.ndarray, predicted: np.ndarray) -> dict[str, int]:
    """{"tp", "fp", "tn", "fn"} with anomaly (True) as the positive class."""
    labels = np.asarray(labels, dtype=bool)
    predicted = np.asarray(predicted, dtype=bool)
    return {
        "tp": int(np.sum(labels & predicted)),
        "fp": int(np.sum(~labels & predicted)),
        "tn": int(np.sum(~labels & ~predicted)),
        "fn": int(np.sum(labels & ~predicted)),
    }


def confusion_at_thresholds(labels: np.ndarray, scores: np.ndarray, thresholds: np.ndarray) -> dict[str, np.ndarray]:
    """{"tp", "fp", "tn", "fn"}, each (T,): the confusion at each of `thresholds` at once, by sorting.

    Flagged as `flag_frames` flags (the rule is read from it, so the two cannot drift apart).
    """
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    thresholds = np.asarray(thresholds, dtype=np.float64)
    side = "left" if bool(flag_frames(np.array([1.0]), 1.0)[0]) else "right"  # is a score equal to it flagged?
    positives, negatives = np.sort(scores[labels]), np.sort(scores[~labels])
    tp = len(positives) - np.searchsorted(positives, thresholds, side=side)  # (T,)
    fp = len(negatives) - np.searchsorted(negatives, thresholds, side=side)  # (T,)
    return {"tp": tp, "fp": fp, "tn": len(negatives) - fp, "fn": len(positives) - tp}


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def classification_rates(confusion: dict[str, int]) -> dict[str, float | None]:
    """Accuracy, and precision/recall/F1 of both classes (anomaly plain, normal prefixed), from a confusion."""
    tp, fp, tn, fn = confusion["tp"], confusion["fp"], confusion["tn"], confusion["fn"]
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    normal_precision, normal_recall = _ratio(tn, tn + fn), _ratio(tn, tn + fp)
    return {
        "accuracy": _ratio(tp + tn, tp + fp + tn + fn),
        "precision": precision,
        "recall": recall,
        "f1": _f1(precision, recall),
        "normal_precision": normal_precision,
        "normal_recall": normal_recall,
        "normal_f1": _f1(normal_precision, normal_recall),
    }


def frame_step_seconds(times: np.ndarray) -> float:
    """The sampling step of a video's frames (median gap); 0 for fewer than two frames."""
    times = np.asarray(times, dtype=np.float64)
    return float(np.median(np.diff(times))) if len(times) > 1 else 0.0


def true_runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of True as (first index, last index) pairs."""
    flags = np.asarray(flags, dtype=bool)
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.diff(padded)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return list(zip(starts.tolist(), ends.tolist()))


def false_alarm_runs(labels: np.ndarray, predicted: np.ndarray) -> int:
    """How many separate false alarms: maximal runs of consecutive frames flagged while labelled normal."""
    labels = np.asarray(labels, dtype=bool)
    return len(true_runs(np.asarray(predicted, dtype=bool) & ~labels))


def per_hour(count: int, seconds: float) -> float | None:
    """A count per hour of footage; None when there is no footage."""
    return count * SECONDS_PER_HOUR / seconds if seconds > 0 else None


def overlaps(event: DetectedEvent, interval: Interval) -> bool:
    """Whether a flagged event's span [start, end] meets a labelled interval's [start, end]."""
    return event.start <= interval.end and event.end >= interval.start


def match_events(
    intervals: Sequence[Interval], events: Sequence[DetectedEvent]
) -> tuple[list[float | None], int]:
    """Event-level matching for one video.

    Returns (latencies, false_events): for each interval, None when no event overlaps it (missed), else the
    seconds from its start to the first flagged frame of an overlapping event (0 when flagged before it
    began); and the number of events that overlap no interval.
    """
    latencies: list[float | None] = []
    for interval in intervals:
        starts = [event.start for event in events if overlaps(event, interval)]
        latencies.append(max(0.0, min(starts) - interval.start) if starts else None)
    false_events = sum(1 for event in events if not any(overlaps(event, i) for i in intervals))
    return latencies, false_events


def recall_by_group(labels: np.ndarray, predicted: np.ndarray, groups: Sequence[Sequence[str]]) -> dict:
    """Frame recall per group name: {name: {"frames": n, "recall": flagged / n}} over anomalous frames.

    `groups[i]` lists the names frame i belongs to (several classes can be in view at once); a frame counts
    in each of its groups.
    """
    labels, predicted = np.asarray(labels, dtype=bool), np.asarray(predicted, dtype=bool)
    totals: dict[str, list[int]] = {}
    for index in np.flatnonzero(labels):
        for name in groups[index]:
            counts = totals.setdefault(name, [0, 0])
            counts[0] += 1
            counts[1] += int(predicted[index])
    return {name: {"frames": n, "recall": hit / n} for name, (n, hit) in sorted(totals.items())}


def size_bucket(area_fraction: float) -> str:
    """The name of the size bucket for an anomaly covering `area_fraction` (0..1) of the frame."""
    if area_fraction <= 0:
        return NOT_VISIBLE
    return next(name for name, low, high in SIZE_BUCKETS if low <= area_fraction < high)


def recall_by_size(labels: np.ndarray, predicted: np.ndarray, area_fraction: np.ndarray) -> dict:
    """Frame recall per size bucket of the anomaly in view (see SIZE_BUCKETS), over anomalous frames."""
    groups = [(size_bucket(float(a)),) for a in np.asarray(area_fraction, dtype=np.float64)]
    return recall_by_group(labels, predicted, groups)


def subset_rates(
    labels: np.ndarray, scores: np.ndarray, threshold: float, keep: np.ndarray
) -> dict[str, float | int | None]:
    """AUC and anomaly-class precision/recall/F1 on a subset of frames (e.g. normal plus large anomalies)."""
    keep = np.asarray(keep, dtype=bool)
    labels, scores = np.asarray(labels, dtype=bool)[keep], np.asarray(scores, dtype=np.float64)[keep]
    confusion = confusion_counts(labels, flag_frames(scores, threshold))
    rates = classification_rates(confusion)
    return {
        "frames": int(keep.sum()),
        "positives": int(labels.sum()),
        "frame_auc": roc_auc(labels, scores),
        "precision": rates["precision"],
        "recall": rates["recall"],
        "f1": rates["f1"],
        "confusion": confusion,
    }


def pixel_roc_auc(
    masks: Sequence[np.ndarray], heatmaps: Sequence[np.ndarray], *, max_pixels: int = 4_000_000
) -> float | None:
    """ROC-AUC of heatmap values against mask pixels, pooled over frames.

    `masks[i]` and `heatmaps[i]` are (N_i, h, w) arrays of the same shape; when more than `max_pixels`
    pixels are pooled, every k-th frame is kept (deterministically) so that the cost stays bounded.
    None unless both anomalous and normal pixels are present.
    """
    total = sum(int(np.prod(m.shape)) for m in masks)
    if total == 0:
        return None
    stride = max(1, int(np.ceil(total / max_pixels)))
    labels = np.concatenate([np.asarray(m[::stride], dtype=bool).ravel() for m in masks])
    values = np.concatenate([np.asarray(h[::stride], dtype=np.float32).ravel() for h in heatmaps])
    return roc_auc(labels, values)


def pixel_size_bucket(size_px: float) -> str:
    """The PIXEL_SIZE_BUCKETS name of an object `size_px` native pixels across (a bucket's low edge belongs to it)."""
    return next(name for name, low, high in PIXEL_SIZE_BUCKETS if low <= size_px < high)


def objects_found(objects: Sequence, events: Sequence[DetectedEvent]) -> list[bool]:
    """For each object-interval (anything with start and end seconds), whether a flagged event overlaps it."""
    return [any(overlaps(event, obj) for event in events) for obj in objects]


def recall_by_name(names: Sequence[str], found: Sequence[bool], always: Sequence[str] = ()) -> dict:
    """{name: {"objects": n, "found": k, "recall": k / n}} per name, `always` first and listed even when n is 0.

    A recall over no objects is None: neither a perfect nor a failed score, but no measurement.
    """
    counts = {name: [0, 0] for name in always}
    for name, hit in zip(names, found):
        counts.setdefault(name, [0, 0])
        counts[name][0] += 1
        counts[name][1] += int(hit)
    return {name: {"objects": n, "found": k, "recall": _ratio(k, n)} for name, (n, k) in counts.items()}
