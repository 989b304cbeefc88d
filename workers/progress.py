"""JobReporter: where a running job stands (progress, stage, ETA, heartbeat), written to its Job row.

Every write is a conditional update on (pk, state=running, runs=<this run's number>), so a run that was
taken over (the sweep re-queued it after a missed heartbeat, another worker claimed it) can no longer touch the
row: its next report raises JobLost and the stale run stops. A cancel request makes the next report raise
JobCancelled, which is how cancellation stays cooperative: pipelines report between steps.
A background thread keeps the heartbeat fresh while a single step runs long (one big decode, one epoch).
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from webapp.jobs.models import Job

log = logging.getLogger(__name__)


class JobError(Exception):
    """A failure whose message is written for the user (shown on the job as is)."""


class JobStopped(Exception):
    """The job must stop now; subclasses say why."""


class JobCancelled(JobStopped):
    """A user asked the job to stop."""


class JobLost(JobStopped):
    """This run no longer owns the job (re-queued by the sweep and claimed elsewhere, or deleted)."""


class JobTimedOut(JobStopped):
    """The job ran past its time limit."""


class JobReporter:
    """Progress of one claimed run of a job. Call it as a ProgressFn: reporter(fraction, stage)."""

    def __init__(self, job_id: int, run: int, *, min_interval: float = 0.25, deadline: float | None = None):
        self.job_id = job_id
        self.run = run
        self.min_interval = min_interval
        self.deadline = deadline  # time.monotonic() value after which reports raise JobTimedOut
        self.started = time.monotonic()
        self._last_write = 0.0
        self._span = (0.0, 1.0)
        self._fraction = 0.0

    def _mine(self):
        return Job.objects.filter(pk=self.job_id, state=Job.State.RUNNING, runs=self.run)

    def __call__(self, fraction: float, stage: str = "") -> None:
        self.progress(fraction, stage)

    def progress(self, fraction: float, stage: str = "", *, force: bool = False) -> None:
        """Record progress in 0..1 (within the current span); raises JobStopped when the job must stop."""
        low, high = self._span
        self._fraction = float(fraction)
        overall = low + (high - low) * min(max(float(fraction), 0.0), 1.0)
        now = time.monotonic()
        if self.deadline is not None and now > self.deadline:
            raise JobTimedOut("the job ran past its time limit")
        if not force and now - self._last_write < self.min_interval:
            return
        self._last_write = now
        fields = {"progress": overall, "heartbeat": timezone.now(), "eta_seconds": self._eta(overall, now)}
        if stage:
            fields["stage"] = stage[:200]
        if self._mine().filter(cancel_requested=False).update(**fields) != 1:
            self._raise_stop()

    def stage(self, text: str) -> None:
        """A new stage, written at once."""
        self.progress(self._fraction, text, force=True)

    def check_cancelled(self) -> None:
        """Raise JobStopped if the job was cancelled or taken over; cheap enough to call between steps."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise JobTimedOut("the job ran past its time limit")
        if not self._mine().filter(cancel_requested=False).exists():
            self._raise_stop()

    def span(self, low: float, high: float) -> JobReporter:
        """A reporter whose 0..1 maps onto [low, high] of this one (for a pipeline's sub-steps)."""
        child = JobReporter(self.job_id, self.run, min_interval=self.min_interval, deadline=self.deadline)
        child.started = self.started
        a, b = self._span
        child._span = (a + (b - a) * low, a + (b - a) * high)
        return child

    def heartbeat(self) -> bool:
        """Refresh the heartbeat only; False when this run no longer owns the job."""
        return self._mine().update(heartbeat=timezone.now()) == 1

    def _eta(self, overall: float, now: float) -> float | None:
        if overall < 0.02:
            return None
        elapsed = now - self.started
        return max(0.0, elapsed * (1.0 - overall) / overall)

    def _raise_stop(self) -> None:
        row = Job.objects.filter(pk=self.job_id).values("state", "runs", "cancel_requested").first()
        if row and row["state"] == Job.State.RUNNING and row["runs"] == self.run and row["cancel_requested"]:
            raise JobCancelled("cancelled on request")
        raise JobLost(f"job {self.job_id} is no longer this run's (now {row and row['state']})")


class HeartbeatThread(threading.Thread):
    """Refreshes the heartbeat every JOB_HEARTBEAT_SECONDS while the job's own steps run."""

    def __init__(self, reporter: JobReporter, interval: float | None = None):
        super().__init__(name=f"heartbeat-job-{reporter.job_id}", daemon=True)
        self.reporter = reporter
        self.interval = float(interval if interval is not None else settings.JOB_HEARTBEAT_SECONDS)
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                try:
                    if not self.reporter.heartbeat():  # taken over: the run's next report raises JobLost
                        return
                except DatabaseError:  # a busy or restarting database: reconnect at the next beat
                    log.warning("job %s: heartbeat not written", self.reporter.job_id, exc_info=True)
                    connection.close()
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        if self.is_alive():
            self.join(timeout=5)
