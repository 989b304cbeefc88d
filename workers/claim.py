"""Claiming a job, running its pipeline under a JobReporter, and recording how it ended.

A claim is one conditional update queued -> running that also bumps `attempts` and `runs`; `runs` (never reset,
not even by a retry) is the run's fencing token: every later write of the run is conditional on it, so a run the sweep gave up on can never
overwrite the run that replaced it. Messages that lose the claim (duplicates, re-deliveries, a job cancelled
while queued) return quietly: the row, not the message, says what to do.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable

from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection
from django.db.models import F
from django.utils import timezone

from detection.errors import DetectionError
from webapp.jobs.models import Job
from workers.progress import HeartbeatThread, JobCancelled, JobError, JobLost, JobReporter, JobTimedOut

log = logging.getLogger(__name__)

Pipeline = Callable[[Job, JobReporter], "dict | None"]


def worker_label(hostname: str | None = None) -> str:
    return f"{hostname or socket.gethostname()} pid {os.getpid()}"


def claim_job(job_id: int, worker: str) -> Job | None:
    """Move a queued job to running for this worker; None if someone else has it or it is no longer queued."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=Job.State.QUEUED, cancel_requested=False).update(
        state=Job.State.RUNNING, attempts=F("attempts") + 1, runs=F("runs") + 1, worker=worker[:200], started=now, heartbeat=now,
        finished=None, progress=0.0, eta_seconds=None, error="", stage="Started",
    )
    return Job.objects.get(pk=job_id) if claimed == 1 else None


def finish_job(job_id: int, run: int, state: str, *, stage: str = "", error: str = "", result=None) -> bool:
    """Record the end of a run; False if the run no longer owned the job."""
    fields = {"state": state, "finished": timezone.now(), "eta_seconds": None, "error": error[:10000]}
    if state == Job.State.SUCCEEDED:
        fields["progress"] = 1.0
    if stage:
        fields["stage"] = stage[:200]
    if result is not None:
        fields["result"] = result
    return Job.objects.filter(pk=job_id, state=Job.State.RUNNING, runs=run).update(**fields) == 1


def human_duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


def describe_error(exc: BaseException) -> str:
    """A message a user can act on: domain errors speak for themselves, others say where to look."""
    if isinstance(exc, DetectionError | JobError):
        return str(exc)
    return f"{type(exc).__name__}: {exc} (the worker log has the traceback)"


def run_job(job_id: int, pipeline: Pipeline, *, worker: str, time_limit: float | None = None) -> str:
    """Claim the job, run `pipeline(job, reporter)`, record the outcome. Returns what happened, for logs."""
    job = claim_job(job_id, worker)
    if job is None:
        log.info("job %s not claimed (already taken, finished, cancelled or gone)", job_id)
        return "not claimed"
    deadline = time.monotonic() + time_limit if time_limit else None
    reporter = JobReporter(job.pk, job.runs, deadline=deadline)
    beat = HeartbeatThread(reporter)
    if not connection.in_atomic_block:  # inside a transaction (tests) another connection cannot see the row
        beat.start()
    try:
        result = pipeline(job, reporter)
    except JobCancelled:
        done = Job.objects.filter(pk=job_id).values_list("progress", flat=True).first() or 0.0
        finish_job(job_id, job.runs, Job.State.CANCELLED, stage=f"Cancelled at {done:.0%}")
        return "cancelled"
    except JobLost as exc:
        log.warning("job %s: %s; this run stops", job_id, exc)
        return "lost"
    except (JobTimedOut, SoftTimeLimitExceeded):
        limit = f" of {human_duration(time_limit)}" if time_limit else ""
        finish_job(job_id, job.runs, Job.State.FAILED, stage="Timed out",
                   error=f"The {job.get_kind_display().lower()} job ran past its time limit{limit} and was stopped.")
        return "timed out"
    except Exception as exc:
        log.exception("job %s failed", job_id)
        finish_job(job_id, job.runs, Job.State.FAILED, stage="Failed", error=describe_error(exc))
        return "failed"
    finally:
        beat.stop()
    finish_job(job_id, job.runs, Job.State.SUCCEEDED, stage="Done", result=result or {})
    return "succeeded"
