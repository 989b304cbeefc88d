"""Celery tasks: thin wrappers that take a job id and call a plain function. Each is registered under the name
and with the limits of its row in webapp.jobs.kinds. Pipelines are imported when a task runs: this module is
loaded before Django is set up (models cannot be imported yet), and a `cpu` worker never loads torch."""

from __future__ import annotations

from webapp.celery import app
from webapp.jobs.kinds import HELPER_TASKS, JOB_KINDS, TASKS


def _run(task, job_id: int, pipeline) -> str:
    from django.db import close_old_connections

    from workers.claim import run_job, worker_label

    close_old_connections()
    try:
        return run_job(int(job_id), pipeline, worker=worker_label(task.request.hostname),
                       time_limit=TASKS[task.name].soft_limit)
    finally:
        close_old_connections()


@app.task(name=JOB_KINDS["noop"].task, bind=True)
def noop(self, job_id: int) -> str:
    from workers.noop import run_noop

    return _run(self, job_id, run_noop)


@app.task(name=JOB_KINDS["ingest"].task, bind=True)
def ingest(self, job_id: int) -> str:
    from workers.ingest import run_ingest

    return _run(self, job_id, run_ingest)


@app.task(name=JOB_KINDS["train"].task, bind=True)
def train(self, job_id: int) -> str:
    from workers.training import run_training

    return _run(self, job_id, run_training)


@app.task(name=JOB_KINDS["score"].task, bind=True)
def score(self, job_id: int) -> str:
    from workers.scoring import run_scoring

    return _run(self, job_id, run_scoring)


@app.task(name=JOB_KINDS["evaluate"].task, bind=True)
def evaluate(self, job_id: int) -> str:
    from workers.evaluation import run_evaluation

    return _run(self, job_id, run_evaluation)


@app.task(name=JOB_KINDS["export"].task, bind=True)
def export(self, job_id: int) -> str:
    from workers.export import run_export

    return _run(self, job_id, run_export)


@app.task(name=JOB_KINDS["rethreshold"].task, bind=True)
def rethreshold(self, job_id: int) -> str:
    from workers.rethreshold import run_rethreshold

    return _run(self, job_id, run_rethreshold)


@app.task(name=JOB_KINDS["mosaic"].task, bind=True)
def mosaic(self, job_id: int) -> str:
    from workers.mosaic import run_mosaic

    return _run(self, job_id, run_mosaic)


@app.task(name=HELPER_TASKS["sweep"].task)
def sweep() -> dict:
    from webapp.jobs.sweep import sweep_jobs

    return sweep_jobs().as_dict()


@app.task(name=HELPER_TASKS["ingest_piece"].task)
def ingest_piece(job_id: int, run: int) -> str:
    from workers.ingest import run_ingest_piece

    return run_ingest_piece(int(job_id), int(run))
