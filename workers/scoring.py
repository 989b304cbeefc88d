"""The scoring pipeline: (detectors x ready videos of a mission or one video) -> ScoreRuns, score files, Events.

The area's masks (webapp.catalog.masks) apply before anything is saved: events peaking in a mask are dropped
(detection.masks); ground masks are projected into each frame of a flight with telemetry through its pose.
One ScoreRun per (detector, video), updated in place on a re-run; its arrays go to media/scores/<run id>/
through `save_video_scores` (written whole or not at all). Events are replaced idempotently: a new event that
overlaps a reviewed old one inherits its review; unreviewed old events go; reviewed ones that match nothing
are kept, since reviews are labels for the next training. Running twice gives the same rows and files.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from detection.masks import apply_masks
from webapp.catalog.masks import video_masks
from webapp.catalog.models import Video
from webapp.detectors.levels import level_of
from webapp.detectors.models import Detector, Event, ScoreRun
from webapp.jobs.models import Job
from webapp.maps.locate import locate_events
from workers.claim import describe_error
from workers.frames import detector_frames
from workers.leftovers import remove_leftovers
from workers.model_cache import cached_detector
from workers.progress import JobError, JobReporter, JobStopped

MATCH_OVERLAP = 0.5  # intersection over union of time spans for a new event to take an old one's review


def videos_of(job: Job) -> list[Video]:
    if job.video_id:
        videos = Video.objects.filter(pk=job.video_id, status=Video.Status.READY)
    elif job.mission_id:
        videos = Video.objects.filter(mission=job.mission_id, status=Video.Status.READY)
    else:
        raise JobError("a scoring job needs a video or a mission")
    return list(videos.select_related("mission").order_by("pk"))


def detectors_of(job: Job) -> list[Detector]:
    ids = job.params.get("detectors") or []
    return list(Detector.objects.filter(pk__in=ids, status=Detector.Status.READY).order_by("pk"))


def run_scoring(job: Job, reporter: JobReporter) -> dict:
    videos, detectors = videos_of(job), detectors_of(job)
    if not videos or not detectors:
        reporter.stage("Nothing to score")
        return {"runs": [], "note": "no ready video or no ready detector"}
    pairs = [(d, v) for d in detectors for v in videos]
    runs, failures = score_each(
        pairs, reporter,
        lambda i, d, v: f"Scoring {v.original_name} with {d.name} ({i + 1} of {len(pairs)})",
        lambda d, v, message: f"{v.original_name} with {d.name}: {message}",
    )
    if failures:
        raise JobError(f"{len(failures)} of {len(pairs)} scorings failed: " + "; ".join(failures))
    return {"runs": runs}


def score_each(pairs, reporter: JobReporter, stage, failure) -> tuple[list[int], list[str]]:
    """Score (detector, video) pairs one after another, each on its share of the progress bar, with a
    cancellation check before each; a pair that fails gets a failed ScoreRun and a line `failure(d, v, message)`,
    and the others still run. Returns the ids of the runs made and the failure lines."""
    runs, failures = [], []
    for index, (detector, video) in enumerate(pairs):
        reporter.check_cancelled()
        step = reporter.span(index / len(pairs), (index + 1) / len(pairs))
        step.stage(stage(index, detector, video))
        try:
            runs.append(score_one(detector, video, step).pk)
        except JobStopped:
            raise
        except Exception as exc:
            message = describe_error(exc)
            _fail_run(detector, video, message)
            failures.append(failure(detector, video, message))
    return runs, failures


def with_peak_reconstructions(model, frames, scores):
    """Keep the model's reconstruction of each event's peak frame for the heatmap view, when it has one."""
    reconstruct = getattr(model, "reconstruct", None)
    if reconstruct is None or not scores.events:
        return scores
    peaks = np.unique(np.searchsorted(frames.times, [e.peak_time for e in scores.events]).clip(0, len(frames.times) - 1))
    images = reconstruct(frames.frames[peaks])
    if images is None:
        return scores
    return dataclasses.replace(scores, extras={**scores.extras, "reconstructions": (peaks, images)})


def with_peak_comparisons(model, frames, scores):
    """Keep today's frame and the aligned reference frame of each event's peak for the compare view, when the
    model compares flights (CHANGE)."""
    compare = getattr(model, "comparison_images", None)
    if compare is None or not scores.events:
        return scores
    kept = compare(frames.frames, scores)
    if kept is None:
        return scores
    return dataclasses.replace(scores, extras={**scores.extras, "comparisons": kept})


def flight_poses(model, video: Video) -> dict:
    """`poses=` for a detector that uses telemetry, from the video's sidecar; nothing otherwise."""
    if not getattr(model, "uses_telemetry", False) or video.telemetry_path is None:
        return {}
    from detection.errors import TelemetryError
    from detection.telemetry import read_telemetry

    try:
        return {"poses": read_telemetry(video.telemetry_path)}
    except (OSError, TelemetryError) as exc:
        raise JobError(f"the telemetry of “{video.original_name}” could not be read: {exc}") from exc


def at_threshold(model, scores, threshold: float | None):
    """`scores` with their events at the detector's threshold: the row's, which an admin may have changed since
    the model file was written with its own (workers/rethreshold.py)."""
    if threshold is None or float(threshold) == float(scores.threshold):
        return scores
    return dataclasses.replace(scores, threshold=float(threshold), events=model.events_at(scores, float(threshold)))


def score_one(detector: Detector, video: Video, progress) -> ScoreRun:
    model_file = Path(settings.MEDIA_ROOT) / detector.artifact
    if not detector.artifact or not model_file.exists():
        raise JobError(f"the model file of {detector.name} is missing; train it again")
    model = cached_detector(model_file)
    frames = detector_frames(video, detector.kind)
    scores = at_threshold(model, model.score_frames(frames.frames, frames.times, progress=progress,
                                                    **flight_poses(model, video)), detector.threshold)
    return store_scores(detector, video, model, frames, scores)


def store_scores(detector: Detector, video: Video, model, frames, scores) -> ScoreRun:
    """Save a detector's scores of a video (files, events, the ready ScoreRun); also used by the live pipeline,
    whose scores were computed while the drone flew."""
    from detection.score_store import save_video_scores

    scores, _ = apply_masks(scores, *video_masks(video))  # a masked region raises no event
    scores = with_peak_comparisons(model, frames, with_peak_reconstructions(model, frames, scores))
    run, _ = ScoreRun.objects.get_or_create(detector=detector, video=video)
    remove_leftovers(Path(settings.MEDIA_ROOT) / "scores", f".{run.pk}.*")  # a killed earlier run's staging
    save_video_scores(Path(settings.MEDIA_ROOT) / run.media_dir, scores)
    run.threshold = float(scores.threshold)  # the events' levels are relative to the threshold they passed
    with transaction.atomic():
        replace_events(run, scores.events)
        max_score = float(np.max(scores.frame_scores)) if len(scores.frame_scores) else None
        ScoreRun.objects.filter(pk=run.pk).update(
            status=ScoreRun.Status.READY, threshold=float(scores.threshold), max_score=max_score,
            frame_count=len(scores.frame_scores), has_heatmaps=scores.heatmaps is not None, error="",
            finished=timezone.now(),
        )
    run.refresh_from_db()
    return run


def overlap(a_start: float, a_end: float, b_start: float, b_end: float) -> float:
    """Intersection over union of two time spans (a zero-length span matches a span containing it)."""
    inter = min(a_end, b_end) - max(a_start, b_start)
    union = max(a_end, b_end) - min(a_start, b_start)
    if union <= 0:
        return 1.0 if inter >= 0 else 0.0
    return max(0.0, inter) / union


def replace_events(run: ScoreRun, detected, *, same_scores: bool = False) -> None:
    """Make the run's events exactly `detected`, carrying reviews over to matching new events.

    A new event matches a reviewed old one when their spans overlap by MATCH_OVERLAP; with `same_scores` (events
    re-derived from the frame scores the old ones came from, at another threshold) also when the old event's
    peak lies inside the new span: it is the same frame, so the same anomaly, however much the span grew or shrank.
    """
    old = list(Event.objects.select_for_update().filter(score_run=run))
    reviewed = [e for e in old if e.review != Event.Review.UNREVIEWED]
    references = reference_videos(detected)
    taken: set[int] = set()
    new_rows = []
    for found in detected:
        row = Event(score_run=run, start=found.start, end=found.end, peak_time=found.peak_time,
                    peak_score=found.peak_score, level=level_of(run.detector, found.peak_score, run.threshold),
                    peak_x=found.peak_x, peak_y=found.peak_y,
                    change=found.change, reference_time=found.reference_time,
                    reference_video_id=references.get(found.reference_id))
        best = max((e for e in reviewed if e.pk not in taken),
                   key=lambda e: (same_scores and found.start <= e.peak_time <= found.end,
                                  overlap(e.start, e.end, found.start, found.end)), default=None)
        if best is not None and (overlap(best.start, best.end, found.start, found.end) >= MATCH_OVERLAP
                                 or (same_scores and found.start <= best.peak_time <= found.end)):
            taken.add(best.pk)
            row.review, row.reviewer_id, row.reviewed_at, row.note = (
                best.review, best.reviewer_id, best.reviewed_at, best.note)
        new_rows.append(row)
    keep = [e.pk for e in reviewed if e.pk not in taken]
    Event.objects.filter(score_run=run).exclude(pk__in=keep).delete()
    Event.objects.bulk_create(new_rows)
    if run.video.has_telemetry:  # where on the ground (webapp.maps.locate)
        locate_events(Event.objects.filter(score_run=run).select_related("score_run__video__mission__area"))


def reference_videos(detected) -> dict[str, int]:
    """The reference flights the events name (their `reference_id` is the Video's pk, as `as_record` sets
    it) that still exist, as {reference_id: pk}; a deleted one leaves the event without its reference."""
    ids = {e.reference_id for e in detected if e.reference_id.isdigit()}
    found = Video.objects.filter(pk__in=[int(i) for i in ids]).values_list("pk", flat=True)
    return {str(pk): pk for pk in found}


def _fail_run(detector: Detector, video: Video, message: str) -> None:
    run, _ = ScoreRun.objects.get_or_create(detector=detector, video=video)
    ScoreRun.objects.filter(pk=run.pk).update(status=ScoreRun.Status.FAILED, error=message[:5000],
                                              finished=timezone.now())
