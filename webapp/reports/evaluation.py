"""A detector's evaluation as the detector page shows it: the files the evaluate job wrote, and whether they are stale.

The numbers are computed once, by the evaluate job (`workers.evaluation`) with `detection.evaluation`, and
written as metrics.json (the schema's document) and curves.json (what the page draws: ROC and PR points, the
slider's threshold table, peak scores per class, the side-by-side rows). A request reads those two files and
runs a few aggregate queries (`evaluation_inputs`); it never loads a score array or computes a metric.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Max, Q

from webapp.catalog.models import LabelInterval, Video
from webapp.detectors.models import Detector, Event, ScoreRun
from webapp.jobs.models import Job

LABELLED = (Video.Label.NORMAL, Video.Label.ANOMALOUS)
LABEL_KEYS = ("labelled_videos", "last_labelled", "intervals", "last_interval", "confirmed_events", "last_review")
SCORE_KEYS = ("score_runs", "last_scored")
DETECTOR_KEYS = ("threshold", "trained")


def _text(value) -> str | None:
    return None if value is None else str(value.isoformat() if hasattr(value, "isoformat") else value)


def evaluation_inputs(detector: Detector) -> dict:
    """What an evaluation of `detector` depends on, as counts and latest times (four aggregate queries).

    The evaluate job stores it in its result; the page compares it with the current one to say the numbers
    are stale. A label set or changed moves last_labelled, an interval added or deleted moves intervals or
    last_interval, a review moves last_review, a new or repeated score run moves score_runs or last_scored.
    """
    videos = Video.objects.filter(mission__area=detector.area_id)
    labels = videos.filter(status=Video.Status.READY).aggregate(
        labelled_videos=Count("pk", filter=Q(label__in=LABELLED)), last_labelled=Max("labelled_at"))
    intervals = LabelInterval.objects.filter(video__in=videos).aggregate(intervals=Count("pk"), last_interval=Max("pk"))
    reviews = Event.objects.filter(score_run__video__in=videos).aggregate(
        confirmed_events=Count("pk", filter=Q(review=Event.Review.CONFIRMED)), last_review=Max("reviewed_at"))
    runs = ScoreRun.objects.filter(detector=detector, status=ScoreRun.Status.READY).aggregate(
        score_runs=Count("pk"), last_scored=Max("finished"))
    found = {**labels, **intervals, **reviews, **runs, "threshold": detector.threshold, "trained": detector.trained}
    return {key: value if isinstance(value, int | float) or value is None else _text(value) for key, value in found.items()}


def stale_reasons(recorded: dict, current: dict) -> list[str]:
    """Why numbers computed from `recorded` inputs no longer describe `current` ones (empty: up to date)."""
    if not recorded:
        return ["it was made before evaluations recorded their inputs"]
    changed = {key for key in (*LABEL_KEYS, *SCORE_KEYS, *DETECTOR_KEYS) if recorded.get(key) != current.get(key)}
    reasons = []
    if "trained" in changed:
        reasons.append("the detector was trained again")
    elif "threshold" in changed:
        reasons.append(f"its threshold changed ({recorded.get('threshold')} then, {current.get('threshold')} now)")
    if changed & set(LABEL_KEYS):
        reasons.append("labels or reviews of the area's videos changed")
    if changed & set(SCORE_KEYS):
        reasons.append(f"score runs changed ({recorded.get('score_runs')} then, {current.get('score_runs')} now)")
    return reasons


@dataclass(frozen=True)
class ShownEvaluation:
    """The latest succeeded evaluate job of a detector, its metrics entry and curves, and why it is stale."""

    job: Job
    entry: dict  # the detector's entry of metrics.json (detection.evaluation.schema)
    curves: dict  # curves.json
    stale: list[str]


def _read_json(relative: str) -> dict | None:
    path = Path(settings.MEDIA_ROOT) / relative
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def latest_evaluation(detector: Detector) -> ShownEvaluation | None:
    """What the page shows: None when no evaluation succeeded or its files are gone."""
    job = (Job.objects.filter(kind=Job.Kind.EVALUATE, detector=detector, state=Job.State.SUCCEEDED)
           .order_by("-finished", "-pk").first())
    if job is None or not job.result.get("metrics") or not job.result.get("curves"):
        return None
    document, curves = _read_json(job.result["metrics"]), _read_json(job.result["curves"])
    entries = list((document or {}).get("detectors", {}).values())  # the job measures one detector
    if len(entries) != 1 or curves is None:
        return None
    stale = stale_reasons(job.result.get("inputs") or {}, evaluation_inputs(detector))
    return ShownEvaluation(job=job, entry=entries[0], curves=curves, stale=stale)
