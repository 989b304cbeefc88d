"""The rethreshold pipeline: a detector's events re-derived at a new threshold from its stored scores.

An admin picks a threshold on the detector page (the evaluation's slider); this job makes it the detector's. For
each ready ScoreRun it reads the frame scores under media/scores/<id>/ and asks the detector for the events at
the new threshold (`events_at`: the same event rules its `score_frames` applies, then the area's masks), so no
video is decoded or scored again. Reviews stay with the anomaly they judged: a new event takes the review of the reviewed old event
whose peak frame it contains (or that it overlaps as scoring matches them); a reviewed event that no longer
passes the threshold is kept as it is, since reviews are labels for the next training. Unreviewed old events
go. The run's events.json and threshold are rewritten too, so evaluations count the new events. Finally the
detector's threshold changes and a DetectorDecision records who asked for it and when. Every event of the
runs gets its level at the new threshold (`webapp.detectors.levels.level_of`), kept reviewed ones included.

Each run is replaced in its own transaction; a job stopped midway leaves some runs at the new threshold and
the detector at the old one, and running it again (retry) redoes every run from the same scores.
"""

from __future__ import annotations

import math
from pathlib import Path

from django.conf import settings
from django.db import transaction

from detection.masks import drop_masked
from detection.score_store import load_video_scores, save_events
from webapp.catalog.masks import video_masks
from webapp.detectors.levels import level_of
from webapp.detectors.models import Detector, DetectorDecision, Event, ScoreRun
from webapp.jobs.models import Job
from workers.model_cache import cached_detector
from workers.progress import JobError, JobReporter
from workers.scoring import replace_events


def wanted_threshold(job: Job) -> float:
    """The job's threshold: a finite number, else a clear error."""
    try:
        value = float(job.params["threshold"])
    except (KeyError, TypeError, ValueError) as exc:
        raise JobError("a rethreshold job needs a numeric params['threshold']") from exc
    if not math.isfinite(value):
        raise JobError(f"the threshold must be a finite number, not {value}")
    return value


def run_rethreshold(job: Job, reporter: JobReporter) -> dict:
    detector = Detector.objects.get(pk=job.detector_id)
    threshold = wanted_threshold(job)
    model_file = Path(settings.MEDIA_ROOT) / detector.artifact
    if detector.status != Detector.Status.READY or not detector.artifact or not model_file.exists():
        raise JobError(f"{detector.name} has no trained model file to take its event rules from; train it first")
    model = cached_detector(model_file)
    runs = list(detector.score_runs.filter(status=ScoreRun.Status.READY).select_related("video").order_by("pk"))
    events = 0
    for index, run in enumerate(runs):
        reporter.check_cancelled()
        reporter.progress(index / max(1, len(runs)), f"Events of {run.video.original_name} ({index + 1} of {len(runs)})")
        events += rederive(run, model, threshold)
    old = detector.threshold
    with transaction.atomic():
        Detector.objects.filter(pk=detector.pk).update(threshold=threshold)
        DetectorDecision.objects.create(
            detector=detector, decision=DetectorDecision.Decision.THRESHOLD, old_threshold=old,
            new_threshold=threshold, job=job, user_id=job.created_by_id,
            detail=f"events of {len(runs)} scored video{'s' if len(runs) != 1 else ''} re-derived: {events} now")
    reporter.stage("Done")
    return {"threshold": threshold, "previous": old, "runs": len(runs), "events": events}


def rederive(run: ScoreRun, model, threshold: float) -> int:
    """Replace one run's events with those at `threshold` from its stored scores; how many there are now."""
    directory = Path(settings.MEDIA_ROOT) / run.media_dir
    try:
        scores = load_video_scores(directory)
    except (OSError, ValueError, KeyError) as exc:
        raise JobError(f"the scores of {run.video.original_name} cannot be read ({exc}); score it again") from exc
    found = drop_masked(model.events_at(scores, threshold), *video_masks(run.video))
    save_events(directory, threshold, found)
    run.threshold = threshold  # the events' levels are relative to the threshold they passed
    with transaction.atomic():
        replace_events(run, found, same_scores=True)
        ScoreRun.objects.filter(pk=run.pk).update(threshold=threshold)
        relevel(run)
    return len(found)


def relevel(run: ScoreRun) -> None:
    """Every event of the run on the level scale of its new threshold, the reviewed ones kept from before too
    (a kept event that no longer passes gets a level below 1, which is what it is now)."""
    events = list(Event.objects.filter(score_run=run))
    for event in events:
        event.level = level_of(run.detector, event.peak_score, run.threshold)
    Event.objects.bulk_update(events, ["level"])
