"""A detector's accuracy against the labels of the videos it scored: curves, confusion, slider table, classes.

The conventions are those of `detection.evaluation.metrics`: anomaly is the positive class, a frame is flagged
by `detection.thresholds.flag_frames` (the one rule the detectors, events and metrics share), undefined
ratios are None. Frame labels come from
`detection.labels.record_frame_labels` (normal video: all negative; anomalous with intervals: the intervals;
anything else has no frame truth and is left out).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

from detection.labels import record_frame_labels
from detection.score_store import load_video_scores
from detection.thresholds import flag_frames
from detection.types import Interval, VideoRecord
from webapp.detectors.models import Detector, ScoreRun

MAX_CURVE_POINTS = 1500
SLIDER_STEPS = 200
# Whether a score equal to the threshold is flagged, read from the shared rule so that the vectorised
# counts below can never drift from it.
FLAGS_EQUAL = bool(flag_frames(np.array([1.0]), 1.0)[0])
FLAG_RULE = "at or above" if FLAGS_EQUAL else "above"


@dataclass(frozen=True)
class LabelledRun:
    """One scored video with frame truth: labels and scores (N,), and the anomaly classes it holds."""

    video_id: int
    video_name: str
    labels: np.ndarray
    scores: np.ndarray
    classes: tuple[str, ...]


def labelled_runs(detector, video_ids: set[int] | None = None) -> list[LabelledRun]:
    """The detector's ready score runs on videos whose frame labels are known."""
    runs = (ScoreRun.objects.filter(detector=detector, status=ScoreRun.Status.READY)
            .select_related("video").prefetch_related("video__intervals").order_by("video_id"))
    found = []
    for run in runs:
        video = run.video
        if video_ids is not None and video.pk not in video_ids:
            continue
        intervals = tuple(Interval(i.start, i.end, i.anomaly_class) for i in video.intervals.all())
        record = VideoRecord(path=Path(video.file or "."), label=video.label, intervals=intervals, video_id=str(video.pk))
        try:
            scores = load_video_scores(Path(settings.MEDIA_ROOT) / run.media_dir, with_heatmaps=False)
        except (OSError, ValueError, KeyError):
            continue  # a run whose files are gone is shown as missing elsewhere; it cannot count here
        labels = record_frame_labels(scores.times, record)
        if labels is None:
            continue
        classes = tuple(sorted({i.anomaly_class or "unclassified" for i in intervals})) if video.label == "anomalous" else ()
        found.append(LabelledRun(video.pk, video.original_name, labels, np.asarray(scores.frame_scores, np.float64),
                                 classes))
    return found


def pooled(runs: list[LabelledRun]) -> tuple[np.ndarray, np.ndarray]:
    if not runs:
        return np.zeros(0, dtype=bool), np.zeros(0)
    return np.concatenate([r.labels for r in runs]), np.concatenate([r.scores for r in runs])


def counts_at(labels: np.ndarray, scores: np.ndarray, thresholds: np.ndarray) -> dict[str, np.ndarray]:
    """Confusion counts at each threshold at once (flagged as `flag_frames` does), by sorting, not looping."""
    side = "left" if FLAGS_EQUAL else "right"  # how many scores lie below (or at) each threshold
    positives = np.sort(scores[labels])
    negatives = np.sort(scores[~labels])
    tp = len(positives) - np.searchsorted(positives, thresholds, side=side)
    fp = len(negatives) - np.searchsorted(negatives, thresholds, side=side)
    return {"tp": tp, "fp": fp, "fn": len(positives) - tp, "tn": len(negatives) - fp}


def _ratio(num: np.ndarray, den: np.ndarray) -> list[float | None]:
    return [float(n / d) if d else None for n, d in zip(num, den)]


def rates(counts: dict[str, np.ndarray]) -> dict[str, list[float | None]]:
    """Precision, recall and F1 of the anomaly class, and accuracy, for each row of `counts_at`."""
    tp, fp, tn, fn = (np.asarray(counts[k]) for k in ("tp", "fp", "tn", "fn"))
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = [None if p is None or r is None else (2 * p * r / (p + r) if p + r else 0.0)
          for p, r in zip(precision, recall)]
    return {"precision": precision, "recall": recall, "f1": f1, "accuracy": _ratio(tp + tn, tp + fp + tn + fn)}


def slider_table(labels: np.ndarray, scores: np.ndarray, threshold: float | None, steps: int = SLIDER_STEPS) -> dict:
    """Thresholds the slider can take (score quantiles plus the detector's own) and the metrics at each."""
    if len(scores) == 0:
        return {"thresholds": [], "index": 0}
    grid = np.quantile(scores, np.linspace(0, 1, steps + 1))
    ends = [grid[0] - 1e-6, grid[-1] + 1e-6]  # everything flagged, nothing flagged
    grid = np.unique(np.concatenate([grid, ends] + ([[threshold]] if threshold is not None else [])))
    counts = counts_at(labels, scores, grid)
    index = int(np.argmin(np.abs(grid - threshold))) if threshold is not None else len(grid) // 2
    table = {"thresholds": grid.tolist(), "index": index, **{k: v.tolist() for k, v in counts.items()}}
    return {**table, **rates(counts)}


def thin(x: np.ndarray, y: np.ndarray, limit: int = MAX_CURVE_POINTS) -> tuple[list, list]:
    """At most `limit` points of a curve, keeping both ends."""
    if len(x) <= limit:
        return x.tolist(), y.tolist()
    index = np.unique(np.linspace(0, len(x) - 1, limit).round().astype(int))
    return x[index].tolist(), y[index].tolist()


def curves(name: str, labels: np.ndarray, scores: np.ndarray) -> dict:
    """ROC and PR curve points with their areas; areas None when a class is missing."""
    result = {"name": name, "auc": None, "ap": None, "fpr": [], "tpr": [], "curve_recall": [], "curve_precision": []}
    if labels.any():
        precision, recall, _ = precision_recall_curve(labels, scores)
        result["curve_recall"], result["curve_precision"] = thin(recall, precision)
        result["ap"] = float(average_precision_score(labels, scores))
    if 0 < labels.sum() < len(labels):
        fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=True)
        result["fpr"], result["tpr"] = thin(fpr, tpr)
        result["auc"] = float(roc_auc_score(labels, scores))
    return result


def summary(name: str, runs: list[LabelledRun], threshold: float | None) -> dict:
    """Frame metrics of one detector over `runs`: curves, and the confusion and rates at its threshold."""
    labels, scores = pooled(runs)
    result = curves(name, labels, scores)
    result.update(videos=len(runs), frames=int(len(labels)), anomalous_frames=int(labels.sum()))
    result["frame_auc"], result["frame_ap"] = result["auc"], result["ap"]
    if threshold is not None and len(labels):
        counts = counts_at(labels, scores, np.array([threshold]))
        result["confusion"] = {k: int(v[0]) for k, v in counts.items()}
        result.update({k: v[0] for k, v in rates(counts).items()})
    return result


def class_scores(runs: list[LabelledRun]) -> dict[str, list[float]]:
    """Each video's maximum score, grouped by its anomaly classes ("normal" for normal videos)."""
    groups: dict[str, list[float]] = {"normal": []}
    for run in runs:
        peak = float(run.scores.max()) if len(run.scores) else 0.0
        for name in run.classes or ("normal",):
            groups.setdefault(name, []).append(peak)
    return {k: v for k, v in groups.items() if v}


def class_recall(runs: list[LabelledRun], threshold: float | None) -> dict[str, dict]:
    """Per class: videos, and how many have a frame flagged inside their labelled spans (video-level recall)."""
    out: dict[str, dict] = {}
    for run in runs:
        for name in run.classes:
            row = out.setdefault(name, {"videos": 0, "found": 0})
            row["videos"] += 1
            row["found"] += int(threshold is not None and bool(flag_frames(run.scores[run.labels], threshold).any()))
    for row in out.values():
        row["recall"] = row["found"] / row["videos"]
    return out


def comparison(detector, runs: list[LabelledRun]) -> list[dict]:
    """For each other detector of the area: both measured on the videos both scored (CAE against MIL)."""
    others = Detector.objects.filter(area=detector.area).exclude(pk=detector.pk).exclude(threshold=None)
    own_videos = {r.video_id for r in runs}
    pairs = []
    for other in others.order_by("kind", "pk"):
        theirs = labelled_runs(other, own_videos)
        common = {r.video_id for r in theirs}
        if not common:
            continue
        mine = [r for r in runs if r.video_id in common]
        pairs.append({"other": other, "videos": len(common), "rows": [
            summary(f"{detector.name} ({detector.kind})", mine, detector.threshold),
            summary(f"{other.name} ({other.kind})", theirs, other.threshold),
        ]})
    return pairs
