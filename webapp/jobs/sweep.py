"""The job sweep: no job stays "running" after its worker died, and no queued job waits on a lost message.

- A running job whose heartbeat is older than JOB_STALE_SECONDS lost its worker (SIGKILL, power, OOM): it is
  re-queued, or failed with the reason once it has used JOB_MAX_ATTEMPTS attempts.
- A queued job whose message was sent longer than JOB_STALE_SECONDS ago and is not waiting in the broker
  (a Redis restart lost it, or the send failed after commit) is sent again.
Both are conditional updates, so concurrent sweeps and workers never double-handle a job; a duplicate message
is harmless because only one claim of a queued job can succeed.
Run by `python manage.py sweep_jobs` and by celery beat (task `skerry.sweep`).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from webapp.jobs.broker import waiting_job_ids
from webapp.jobs.models import Job
from webapp.jobs.services import enqueue_on_commit, queue_for, send_job_message

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    resent: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        parts = [f"{len(ids)} {name} {ids}" for name, ids in self.as_dict().items() if ids]
        return "; ".join(parts) or "nothing to do"


def sweep_jobs(*, stale_seconds: float | None = None, max_attempts: int | None = None,
               worker_prefix: str = "") -> SweepReport:
    """One sweep; `worker_prefix` limits the dead-run part to jobs of workers whose label starts with it (the
    demo sweeps its own worker's jobs at once after stopping it, without waiting for them to go stale)."""
    stale_seconds = settings.JOB_STALE_SECONDS if stale_seconds is None else stale_seconds
    max_attempts = settings.JOB_MAX_ATTEMPTS if max_attempts is None else max_attempts
    cutoff = timezone.now() - timedelta(seconds=stale_seconds)
    report = SweepReport()
    stale = Job.objects.filter(state=Job.State.RUNNING).filter(
        Q(heartbeat__lt=cutoff) | Q(heartbeat__isnull=True, started__lt=cutoff)
    )
    if worker_prefix:
        stale = stale.filter(worker__startswith=worker_prefix)
    for job in stale:
        _sweep_dead_run(job, max_attempts, report)
    _resend_stranded(cutoff, report)
    if any(report.as_dict().values()):
        log.info("job sweep: %s", report)
    return report


def _sweep_dead_run(job: Job, max_attempts: int, report: SweepReport) -> None:
    mine = Job.objects.filter(pk=job.pk, state=Job.State.RUNNING, runs=job.runs, heartbeat=job.heartbeat)
    since = f"no heartbeat since {job.heartbeat:%Y-%m-%d %H:%M:%S} UTC" if job.heartbeat else "no heartbeat"
    who = job.worker or "its worker"
    now = timezone.now()
    if job.cancel_requested:
        if mine.update(state=Job.State.CANCELLED, finished=now, eta_seconds=None,
                       stage=f"Cancelled ({who} stopped before finishing)"):
            report.cancelled.append(job.pk)
        return
    if job.attempts >= max_attempts:
        error = (f"{who} stopped responding ({since}) on attempt {job.attempts} of {max_attempts}, so the job "
                 "was given up. Check that workers are running and not running out of memory, then retry.")
        if mine.update(state=Job.State.FAILED, finished=now, eta_seconds=None, stage="Worker lost", error=error):
            report.failed.append(job.pk)
        return
    with transaction.atomic():
        if mine.update(state=Job.State.QUEUED, heartbeat=None, eta_seconds=None, enqueued=now,
                       stage=f"Re-queued: {who} stopped responding ({since})"):
            job.refresh_from_db()
            enqueue_on_commit(job)
            report.requeued.append(job.pk)


def _resend_stranded(cutoff, report: SweepReport) -> None:
    stranded = list(
        Job.objects.filter(state=Job.State.QUEUED, cancel_requested=False)
        .filter(Q(enqueued__lt=cutoff) | Q(enqueued__isnull=True, created__lt=cutoff))
        .values("pk", "kind", "params", "enqueued")
    )
    if not stranded:
        return
    waiting = waiting_job_ids()  # None when the broker cannot be inspected: then re-send (duplicates are harmless)
    for row in stranded:
        if waiting is not None and row["pk"] in waiting:
            Job.objects.filter(pk=row["pk"], enqueued=row["enqueued"]).update(enqueued=timezone.now())
            continue
        if Job.objects.filter(pk=row["pk"], state=Job.State.QUEUED, enqueued=row["enqueued"]).update(
            enqueued=timezone.now()
        ):
            send_job_message(row["pk"], row["kind"], queue_for(row["kind"], row["params"]))
            report.resent.append(row["pk"])
