"""Celery tasks: thin wrappers that take a job id and call a plain function (imported lazily, so that a `cpu`
worker never loads torch and a worker starts in a second or two)."""

from __future__ import annotations

from celery import shared_task

from workers.celery_app import TIME_LIMITS


def _run(task, job_id: int, pipeline) -> str:
    from django.db import close_old_connections

    from workers.claim import run_job, worker_label

    soft_limit = TIME_LIMITS[task.name][0]
    close_old_connections()
    try:
        return run_job(int(job_id), pipeline, worker=worker_label(task.request.hostname), time_limit=soft_limit)
    finally:
        close_old_connections()


@shared_task(name="skerry.noop", bind=True)
def noop(self, job_id: int) -> str:
    from workers.noop import run_noop

    return _run(self, job_id, run_noop)


@shared_task(name="skerry.ingest", bind=True)
def ingest(self, job_id: int) -> str:
    from workers.ingest import run_ingest

    return _run(self, job_id, run_ingest)


@shared_task(name="skerry.train", bind=True)
def train(self, job_id: int) -> str:
    from workers.training import run_training

    return _run(self, job_id, run_training)


@shared_task(name="skerry.score", bind=True)
def score(self, job_id: int) -> str:
    from workers.scoring import run_scoring

    return _run(self, job_id, run_scoring)


@shared_task(name="skerry.evaluate", bind=True)
def evaluate(self, job_id: int) -> str:
    from workers.evaluation import run_evaluation

    return _run(self, job_id, run_evaluation)


@shared_task(name="skerry.export", bind=True)
def export(self, job_id: int) -> str:
    from workers.export import run_export

    return _run(self, job_id, run_export)


@shared_task(name="skerry.sweep")
def sweep() -> dict:
    from webapp.jobs.sweep import sweep_jobs

    return sweep_jobs().as_dict()


@shared_task(name="skerry.ingest_piece")
def ingest_piece(job_id: int, run: int) -> str:
    from workers.ingest import run_ingest_piece

    return run_ingest_piece(int(job_id), int(run))
