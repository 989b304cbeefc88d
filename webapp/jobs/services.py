"""The one way background work starts, stops and restarts: a Job row first, a message by id after commit.

Every state change here is a conditional update (`filter(pk=..., state=...).update(...) == 1`), so a request
and a worker, or two workers, never both move the same job. Messages carry only the job id; the row is the
record. Web processes import this module, so it must never import torch or the pipelines.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from webapp.catalog.models import Mission, Video
from webapp.celery import app
from webapp.detectors.models import Detector
from webapp.jobs.kinds import JOB_KINDS, QUEUES
from webapp.jobs.models import Job
from webapp.jobs.quotas import check_job_quota

log = logging.getLogger(__name__)

NO_DETECTOR = "No ready, active detector in this area: train one on the area page first."


def _checked(kind, targets) -> Job.Kind:
    """The Job.Kind (ValueError for an unknown one), checked against the targets its row in JOB_KINDS allows."""
    kind = Job.Kind(kind)
    extra = sorted(set(targets) - set(JOB_KINDS[kind].targets))
    if extra:
        raise ValueError(f"{kind.value} jobs do not work on a {' or '.join(extra)}")
    return kind


def start_job(kind, *, video=None, mission=None, detector=None, params=None, user=None) -> Job:
    """Create a queued Job row and send its message once the surrounding transaction commits.

    A heavy job a person asks for must fit the caps (quotas.check_job_quota), else JobLimitReached.
    """
    given = (("video", video), ("mission", mission), ("detector", detector))
    targets = {name: obj for name, obj in given if obj is not None}
    kind = _checked(kind, targets)
    with transaction.atomic():
        check_job_quota(kind, user, video=video, mission=mission, detector=detector)
        job = Job.objects.create(
            kind=kind, params=dict(params or {}), **targets,
            created_by=user if user is not None and user.is_authenticated else None, enqueued=timezone.now(),
        )
        enqueue_on_commit(job)
    return job


def start_jobs(kind, params_list: list[dict], *, user=None) -> list[Job]:
    """Many target-less jobs at once (batches, benchmarks): one INSERT, one broker connection after commit."""
    kind = _checked(kind, ())
    now, owner = timezone.now(), user if user is not None and user.is_authenticated else None
    with transaction.atomic():
        jobs = Job.objects.bulk_create(
            [Job(kind=kind, params=dict(p), created_by=owner, created=now, enqueued=now) for p in params_list]
        )
        messages = [(job.pk, kind, queue_for(kind, job.params)) for job in jobs]
        transaction.on_commit(lambda: send_job_messages(messages))
    return jobs


def enqueue_on_commit(job: Job) -> None:
    job_id, kind, queue = job.pk, job.kind, queue_for(job.kind, job.params)
    transaction.on_commit(lambda: send_job_message(job_id, kind, queue))


def send_job_message(job_id: int, kind: str, queue: str | None = None, producer=None) -> None:
    """Publish the task message for a job, by task name. Callers stamp `enqueued` in the update that queued it."""
    spec = JOB_KINDS[Job.Kind(kind)]
    app.send_task(spec.task, args=[job_id], queue=queue or spec.queue, producer=producer)


def send_job_messages(messages: list[tuple[int, str, str | None]]) -> None:
    with app.producer_or_acquire() as producer:
        for job_id, kind, queue in messages:
            send_job_message(job_id, kind, queue, producer=producer)


def queue_for(kind: str, params: dict) -> str:
    """The queue a job's message goes to: its kind's, except that noop jobs may pick theirs (params["queue"])."""
    if kind == Job.Kind.NOOP and params.get("queue") in QUEUES:
        return params["queue"]
    return JOB_KINDS[Job.Kind(kind)].queue


def cancel_job(job: Job, user=None) -> bool:
    """Cancel a queued job at once; ask a running one to stop at its next step. False if already over."""
    now = timezone.now()
    who = f" by {user.get_username()}" if user is not None and user.is_authenticated else ""
    if Job.objects.filter(pk=job.pk, state=Job.State.QUEUED).update(
        state=Job.State.CANCELLED, cancel_requested=True, finished=now, eta_seconds=None,
        stage=f"Cancelled{who} before it started",
    ):
        job.refresh_from_db()
        return True
    asked = Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(
        cancel_requested=True, stage=f"Cancelling{who}: stops after the current step"
    )
    job.refresh_from_db()
    return bool(asked)


def retry_job(job: Job, user=None) -> bool:
    """Put a failed or cancelled job back in the queue with a fresh attempt count. False if not retryable.
    A heavy job counts against the caps of the person retrying it (JobLimitReached if it does not fit)."""
    who = f" by {user.get_username()}" if user is not None and user.is_authenticated else ""
    with transaction.atomic():
        if job.is_retryable:
            check_job_quota(job.kind, user, video=job.video, mission=job.mission, detector=job.detector)
        moved = Job.objects.filter(pk=job.pk, state__in=[Job.State.FAILED, Job.State.CANCELLED]).update(
            state=Job.State.QUEUED, progress=0.0, stage=f"Retry requested{who}", eta_seconds=None, error="",
            attempts=0, cancel_requested=False, worker="", heartbeat=None, started=None, finished=None,
            enqueued=timezone.now(),
        )
        job.refresh_from_db()
        if moved:
            enqueue_on_commit(job)
    return bool(moved)


def active_job(kind, **target) -> Job | None:
    """The queued or running job of this kind on this target, if there is one."""
    return Job.objects.filter(kind=kind, state__in=Job.ACTIVE_STATES, cancel_requested=False, **target).first()


def start_once(kind, user=None, **target) -> Job:
    """Start a job of `kind` on one target (video=, detector= or mission=), or return the one already under way.
    The target's row is locked first, so that two requests at once start a single job."""
    ((_, obj),) = target.items()
    with transaction.atomic():
        type(obj).objects.select_for_update().filter(pk=obj.pk).first()
        return active_job(kind, **target) or start_job(kind, user=user, **target)


def start_ingest(video, user=None) -> Job:
    """Ingest a video (probe, checksum, frames, proxy, thumbnails); reuses an ingest already under way."""
    return start_once(Job.Kind.INGEST, user=user, video=video)


def start_training(detector, user=None) -> Job:
    """Train a detector on its area's labelled ready videos; reuses a training already under way."""
    return start_once(Job.Kind.TRAIN, user=user, detector=detector)


def start_evaluation(detector, user=None) -> Job:
    """Score the area's labelled videos the detector has not scored, then measure it; reuses one under way."""
    return start_once(Job.Kind.EVALUATE, user=user, detector=detector)


def start_live(mission, user=None) -> Job:
    """Read, record and score the mission's live stream (webapp.live); reuses the one under way."""
    return start_once(Job.Kind.LIVE, user=user, mission=mission)


def start_held_out_evaluation(detector, user=None) -> Job:
    """Evaluate a detector on the area's labelled videos it did not train on (and score its parent version on
    the same videos, so the two compare side by side); reuses an evaluation under way."""
    with transaction.atomic():
        Detector.objects.select_for_update().filter(pk=detector.pk).first()
        return active_job(Job.Kind.EVALUATE, detector=detector) or start_job(
            Job.Kind.EVALUATE, detector=detector, params={"held_out": True}, user=user)


def start_retraining(detector, user=None, config: dict | None = None) -> tuple[Detector, Job]:
    """A new version of `detector`, not active, trained on the area's labels and reviews as they are now and
    then evaluated on held-out videos; an admin makes it active once its numbers convince (the detector page).
    `config` replaces some of the parent's settings in the version's (the demo's shorter training)."""
    with transaction.atomic():
        versions = Detector.objects.filter(area=detector.area_id, kind=detector.kind).count()
        version = Detector.objects.create(
            area=detector.area, kind=detector.kind, config={**detector.config, **(config or {})}, parent=detector,
            name=f"{retrained_name(detector.name)[:100]} v{versions + 1}", created_by=user if user is not None and
            user.is_authenticated else None,
        )
        job = start_job(Job.Kind.TRAIN, detector=version, params={"evaluate": True}, user=user)
    return version, job


def retrained_name(name: str) -> str:
    """The name without a trailing version (" v3"), so that versions read "Harbour CAE v2", "... v3"."""
    head, _, tail = name.rpartition(" v")
    return head if head and tail.isdigit() else name


def start_export(mission, user=None) -> Job:
    """Build the mission's export zip (events CSV and JSON, standalone report, manifest); reuses one under way."""
    return start_once(Job.Kind.EXPORT, user=user, mission=mission)


def start_rethreshold(detector, threshold: float, user=None) -> Job:
    """Re-derive the detector's events at `threshold` from its stored scores, then make it the detector's
    threshold (workers/rethreshold.py); one at a time per detector: a second request while one is under way
    gets that one back, whatever threshold it carries."""
    with transaction.atomic():
        type(detector).objects.select_for_update().filter(pk=detector.pk).first()
        return active_job(Job.Kind.RETHRESHOLD, detector=detector) or start_job(
            Job.Kind.RETHRESHOLD, user=user, detector=detector, params={"threshold": float(threshold)})


def start_mosaic(video, user=None) -> Job:
    """Build its area's mosaic from `video` (a reference flight); reuses a mosaic job under way on it."""
    return start_once(Job.Kind.MOSAIC, user=user, video=video)


def latest_output(kind, **target) -> Job | None:
    """The newest succeeded job of this kind on this target (its result names the files it wrote)."""
    return Job.objects.filter(kind=kind, state=Job.State.SUCCEEDED, **target).order_by("-finished", "-pk").first()


def start_scoring(target, detectors=None, user=None, exclude=()) -> Job | None:
    """Score a Mission's ready videos, or one Video, with `detectors` (default: the area's active ones) but
    those in `exclude` (ids; a live stream's detector scored the recording already).

    Returns None when there is no ready detector to score with.
    """
    if isinstance(target, Video):
        area, where = target.mission.area, {"video": target}
    elif isinstance(target, Mission):
        area, where = target.area, {"mission": target}
    else:
        raise TypeError(f"start_scoring takes a Mission or a Video, not {type(target).__name__}")
    chosen = Detector.objects.filter(area=area, status=Detector.Status.READY)
    chosen = chosen.filter(pk__in=[getattr(d, "pk", d) for d in detectors]) if detectors else chosen.filter(is_active=True)
    ids = sorted(chosen.exclude(pk__in=list(exclude)).values_list("pk", flat=True))
    if not ids:
        return None
    with transaction.atomic():
        for job in Job.objects.filter(kind=Job.Kind.SCORE, state=Job.State.QUEUED, cancel_requested=False, **where):
            if sorted(job.params.get("detectors", [])) == ids:
                return job
        return start_job(Job.Kind.SCORE, params={"detectors": ids}, user=user, **where)

