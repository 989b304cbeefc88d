"""The one table of background work: for every Celery task, its name, queue, time limits and target.

Both sides read it. The web side sends a job's message by task name (webapp.jobs.services), lists the queues
(health, worker_status) and routes and limits the tasks (webapp.celery); the worker side registers each task
under its name (workers.tasks). JOB_KINDS has one row per Job.Kind value; HELPER_TASKS are tasks that are not a
job of their own. This module imports no models, so the Celery app can read it before Django is set up.
"""

from __future__ import annotations

from dataclasses import dataclass

CPU, GPU = "cpu", "gpu"
QUEUES = (CPU, GPU)
HOUR = 3600


@dataclass(frozen=True)
class TaskKind:
    task: str  # the Celery task name messages carry
    queue: str
    soft_limit: int  # seconds; raises inside the task, so the job fails with a reason
    hard_limit: int  # seconds; the worker kills the task's process
    targets: tuple[str, ...] = ()  # the Job fields ("video", "mission", "detector") a job of this kind works on
    internal: bool = False  # plumbing (tests, benchmarks): not listed to users


JOB_KINDS: dict[str, TaskKind] = {
    "ingest": TaskKind("skerry.ingest", CPU, 6 * HOUR, 6 * HOUR + 120, ("video",)),
    "train": TaskKind("skerry.train", GPU, 12 * HOUR, 12 * HOUR + 300, ("detector",)),
    "score": TaskKind("skerry.score", GPU, 6 * HOUR, 6 * HOUR + 120, ("mission", "video")),
    "evaluate": TaskKind("skerry.evaluate", GPU, 2 * HOUR, 2 * HOUR + 120, ("detector",)),
    "export": TaskKind("skerry.export", CPU, HOUR, HOUR + 60, ("mission",)),
    # A detector's events re-derived at a new threshold from its stored scores (no rescoring); `gpu` because
    # it loads the detector file (torch) for the kind's event rules, which a `cpu` worker never imports.
    "rethreshold": TaskKind("skerry.rethreshold", GPU, HOUR, HOUR + 60, ("detector",)),
    # The area mosaic from one reference flight (the job's video): workers/mosaic.py.
    "mosaic": TaskKind("skerry.mosaic", CPU, 2 * HOUR, 2 * HOUR + 120, ("video",)),
    # params["queue"] may pick either queue (tests, benchmarks)
    "noop": TaskKind("skerry.noop", CPU, 600, 660, internal=True),
}

HELPER_TASKS: dict[str, TaskKind] = {
    # A helper of a running ingest: takes pieces of a long video (workers/ingest_pieces.py).
    "ingest_piece": TaskKind("skerry.ingest_piece", CPU, 3 * HOUR, 3 * HOUR + 120, ("video",), internal=True),
    # The periodic job sweep (webapp/jobs/sweep.py), run by celery beat.
    "sweep": TaskKind("skerry.sweep", CPU, 120, 180, internal=True),
}

TASKS: dict[str, TaskKind] = {spec.task: spec for spec in (*JOB_KINDS.values(), *HELPER_TASKS.values())}
JOB_TASK_NAMES = frozenset(spec.task for spec in JOB_KINDS.values())
# Job kinds the jobs pages leave out unless asked for by name (?kind=noop): users never started them.
INTERNAL_JOB_KINDS = frozenset(kind for kind, spec in JOB_KINDS.items() if spec.internal)
