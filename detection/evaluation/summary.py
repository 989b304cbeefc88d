"""One detector's metrics entry (see `schema`) from its scores on the test videos.

The runner gathers, per test video, a `ScoredVideo` (scores, labels, ground truth); `summarise` turns a
detector's list of them into the numbers of `metrics.json`, and `curves` into the points the HTML plots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from detection.evaluation import everyday, metrics
from detection.evaluation.objects import ObjectInterval, from_intervals
from detection.evaluation.schema import LARGE_ANOMALY_KEYS, LEVEL_KEYS, empty_detector_entry
from detection.levels import to_levels
from detection.types import DetectedEvent, Interval

LARGE_AREA_FRACTION = 0.005  # the CAE target's "anomalies covering at least 0.5% of the frame"


@dataclass(frozen=True)
class ScoredVideo:
    """One test video scored by one detector, beside its labels.

    times, scores, labels: (N,) arrays (labels bool, anomaly True). classes[i] lists the anomaly classes in
    frame i; area_fraction (N,) the share of the frame the anomalies cover, or None without ground truth.
    pixel_masks (N, h, w) bool and heatmaps (N, h, w) at the same size, or None.
    objects: its object-intervals (None: each labelled interval is one object of unknown size); seconds: its
    length (None: the span its sampled frames cover).
    """

    video_id: str
    is_anomalous: bool
    times: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    intervals: tuple[Interval, ...] = ()
    events: tuple[DetectedEvent, ...] = ()
    classes: tuple[tuple[str, ...], ...] | None = None
    area_fraction: np.ndarray | None = None
    pixel_masks: np.ndarray | None = None
    heatmaps: np.ndarray | None = None
    objects: tuple[ObjectInterval, ...] | None = None
    seconds: float | None = None
    everyday: dict | None = None  # detection.evaluation.everyday.count_video, where the area lists fixtures


def _pooled(videos: Sequence[ScoredVideo]) -> tuple[np.ndarray, np.ndarray]:
    labels = np.concatenate([v.labels for v in videos]).astype(bool)
    scores = np.concatenate([np.asarray(v.scores, dtype=np.float64) for v in videos])
    return labels, scores


def _frame_level(videos: Sequence[ScoredVideo], threshold: float) -> dict:
    labels, scores = _pooled(videos)
    confusion = metrics.confusion_counts(labels, metrics.flag_frames(scores, threshold))
    normal_seconds = sum(int((~v.labels).sum()) * metrics.frame_step_seconds(v.times) for v in videos)
    alarms = sum(metrics.false_alarm_runs(v.labels, metrics.flag_frames(v.scores, threshold)) for v in videos)
    return {
        "frames": len(labels),
        "positives": int(labels.sum()),
        "frame_auc": metrics.roc_auc(labels, scores),
        "frame_auc_macro": metrics.macro_roc_auc([(v.labels, v.scores) for v in videos]),
        "frame_ap": metrics.average_precision(labels, scores),
        **metrics.classification_rates(confusion),
        "confusion": confusion,
        "false_alarms_per_hour": metrics.per_hour(alarms, normal_seconds),
    }


def _video_level(videos: Sequence[ScoredVideo], threshold: float) -> dict:
    labels = np.array([v.is_anomalous for v in videos], dtype=bool)
    peaks = np.array([float(np.max(v.scores)) if len(v.scores) else -np.inf for v in videos])
    confusion = metrics.confusion_counts(labels, metrics.flag_frames(peaks, threshold))
    rates = metrics.classification_rates(confusion)
    return {
        "video_auc": metrics.roc_auc(labels, peaks),
        **{f"video_{name}": value for name, value in rates.items()},
        "video_confusion": confusion,
    }


def _footage_seconds(video: ScoredVideo) -> float:
    """The video's length; without one, its frames' span plus one step (each frame stands for a step of video)."""
    if video.seconds is not None:
        return float(video.seconds)
    times = np.asarray(video.times, dtype=np.float64)
    return float(times[-1] - times[0]) + metrics.frame_step_seconds(times) if len(times) else 0.0


def _event_level(videos: Sequence[ScoredVideo]) -> dict:
    latencies: list[float | None] = []
    false_events = 0
    for video in videos:
        found, false = metrics.match_events(video.intervals, video.events)
        latencies += found
        false_events += false
    normal_seconds = sum(int((~v.labels).sum()) * metrics.frame_step_seconds(v.times) for v in videos)
    hits = [latency for latency in latencies if latency is not None]
    flight_seconds = sum(_footage_seconds(v) for v in videos)
    return {
        "intervals": len(latencies),
        "found": len(hits),
        "missed": len(latencies) - len(hits),
        "false_events": false_events,
        "false_events_per_hour": metrics.per_hour(false_events, normal_seconds),
        "mean_latency_seconds": float(np.mean(hits)) if hits else None,
        "median_latency_seconds": float(np.median(hits)) if hits else None,
        "flight_hours": flight_seconds / metrics.SECONDS_PER_HOUR,
        "false_events_per_flight_hour": metrics.per_hour(false_events, flight_seconds),
    }


def _frame_classes(video: ScoredVideo) -> tuple[tuple[str, ...], ...]:
    if video.classes is not None:
        return video.classes
    return tuple(
        tuple(sorted({i.anomaly_class or "unnamed" for i in video.intervals if i.start <= t <= i.end}))
        for t in np.asarray(video.times, dtype=np.float64)
    )


def _per_class(videos: Sequence[ScoredVideo], threshold: float) -> dict:
    labels, scores = _pooled(videos)
    groups = [c for v in videos for c in _frame_classes(v)]
    table = metrics.recall_by_group(labels, metrics.flag_frames(scores, threshold), groups)
    for video in videos:
        latencies, _ = metrics.match_events(video.intervals, video.events)
        for interval, latency in zip(video.intervals, latencies):
            row = table.setdefault(interval.anomaly_class or "unnamed", {"frames": 0, "recall": None})
            row["intervals"] = row.get("intervals", 0) + 1
            row["found"] = row.get("found", 0) + int(latency is not None)
    for row in table.values():
        row.setdefault("intervals", 0)
        row.setdefault("found", 0)
    return table


def _object_level(videos: Sequence[ScoredVideo]) -> dict:
    """Object-intervals found (a flagged event overlaps them), overall, per native pixel size and per class."""
    objects: list[ObjectInterval] = []
    found: list[bool] = []
    for video in videos:
        listed = video.objects if video.objects is not None else from_intervals(video.intervals)
        objects += listed
        found += metrics.objects_found(listed, video.events)
    sized = [(metrics.pixel_size_bucket(o.size_px), hit) for o, hit in zip(objects, found) if o.size_px is not None]
    classes = sorted({o.anomaly_class for o in objects} | set(metrics.ALWAYS_REPORTED_CLASSES))
    buckets = [name for name, _, _ in metrics.PIXEL_SIZE_BUCKETS]
    overall = metrics.recall_by_name(["all"] * len(objects), found, always=["all"])["all"]
    return {
        "object_recall": {**overall, "sized_objects": len(sized)},
        "per_object_size": metrics.recall_by_name([b for b, _ in sized], [h for _, h in sized], always=buckets),
        "per_object_class": metrics.recall_by_name([o.anomaly_class for o in objects], found, always=classes),
    }


def _sized(videos: Sequence[ScoredVideo], threshold: float) -> dict:
    if any(v.area_fraction is None for v in videos):
        return {"per_size": {}, "large_anomalies": dict.fromkeys(LARGE_ANOMALY_KEYS)}
    labels, scores = _pooled(videos)
    area = np.concatenate([np.asarray(v.area_fraction, dtype=np.float64) for v in videos])
    per_size = metrics.recall_by_size(labels, metrics.flag_frames(scores, threshold), area)
    keep = ~labels | (area >= LARGE_AREA_FRACTION)
    large = {
        "min_area_fraction": LARGE_AREA_FRACTION,
        **metrics.subset_rates(labels, scores, threshold, keep),
    }
    return {"per_size": per_size, "large_anomalies": large}


def _pixel_auc(videos: Sequence[ScoredVideo]) -> float | None:
    usable = [v for v in videos if v.pixel_masks is not None and v.heatmaps is not None]
    if not usable:
        return None
    return metrics.pixel_roc_auc([v.pixel_masks for v in usable], [v.heatmaps for v in usable])


def summarise(
    kind: str, videos: Sequence[ScoredVideo], threshold: float, *, train_seconds: float, score_seconds: float,
    level_zero: float | None = None,
) -> dict:
    """The full metrics entry of one detector over the test videos (every key of schema.DETECTOR_KEYS)."""
    entry = empty_detector_entry(kind)
    frames = sum(len(v.scores) for v in videos)
    entry.update(
        status="ok",
        threshold=float(threshold),
        train_seconds=float(train_seconds),
        score_seconds=float(score_seconds),
        score_fps=frames / score_seconds if score_seconds > 0 else None,
    )
    if not videos:
        entry["warnings"].append("no test videos with frame labels")
        return entry
    entry.update(_frame_level(videos, threshold))
    entry.update(_video_level(videos, threshold))
    entry["events"] = _event_level(videos)
    entry["per_class"] = _per_class(videos, threshold)
    entry.update(_sized(videos, threshold))
    entry.update(_object_level(videos))
    entry["pixel_auc"] = _pixel_auc(videos)
    entry["levels"] = _levels(videos, threshold, level_zero)
    entry["everyday_objects"] = everyday.summarise([v.everyday for v in videos])
    return entry


def _levels(videos: Sequence[ScoredVideo], threshold: float, zero: float | None) -> dict:
    """The test frames on the level scale: where normal and anomalous frames fall (1 = the threshold)."""
    if not np.isfinite(threshold):
        return dict.fromkeys(LEVEL_KEYS)
    labels, scores = _pooled(videos)
    levels = to_levels(scores, threshold, zero)
    normal, anomalous = levels[~labels], levels[labels]
    return {
        "zero": zero,
        "normal_median": float(np.median(normal)) if normal.size else None,
        "normal_p99": float(np.quantile(normal, 0.99)) if normal.size else None,
        "normal_at_or_above_1": float(np.mean(normal >= 1.0)) if normal.size else None,
        "anomalous_median": float(np.median(anomalous)) if anomalous.size else None,
    }


def curves(videos: Sequence[ScoredVideo]) -> dict:
    """Points for the HTML page: pooled ROC and PR curves, and each video's score timeline."""
    if not videos:
        return {"roc": None, "pr": None, "timelines": []}
    labels, scores = _pooled(videos)
    timelines = [
        {
            "video_id": v.video_id,
            "times": np.asarray(v.times, dtype=np.float64).round(3).tolist(),
            "scores": np.asarray(v.scores, dtype=np.float64).round(5).tolist(),
            "intervals": [[i.start, i.end, i.anomaly_class] for i in v.intervals],
        }
        for v in videos
    ]
    return {
        "roc": metrics.roc_points(labels, scores),
        "pr": metrics.pr_points(labels, scores),
        "timelines": timelines,
    }
