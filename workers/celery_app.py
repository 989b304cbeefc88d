"""The Celery app, configured from Django settings. Queues: `cpu` (decode, proxies, exports) and `gpu` (train, score,
evaluate).

Messages carry only a job id and results are ignored: the Job row is the record. Each task has explicit soft
and hard time limits (TIME_LIMITS); the beat schedule runs the job sweep that re-queues work of dead workers.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_init
from kombu import Queue
from kombu import pools as kombu_pools

from webapp.env import ImproperSetting

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

app = Celery("skerry")

QUEUES = ("cpu", "gpu")
# Task name -> (soft, hard) seconds. The soft limit raises inside the task so the job fails with a reason.
TIME_LIMITS = {
    "skerry.ingest": (6 * 3600, 6 * 3600 + 120),
    "skerry.ingest_piece": (3 * 3600, 3 * 3600 + 120),
    "skerry.ingest_join": (3600, 3600 + 120),
    "skerry.train": (12 * 3600, 12 * 3600 + 300),
    "skerry.score": (6 * 3600, 6 * 3600 + 120),
    "skerry.evaluate": (2 * 3600, 2 * 3600 + 120),
    "skerry.export": (3600, 3600 + 60),
    "skerry.noop": (600, 660),
    "skerry.sweep": (120, 180),
}
GPU_TASKS = ("skerry.train", "skerry.score", "skerry.evaluate")


def broker_options(settings) -> dict:
    if settings.REDIS_URL:
        options = {"visibility_timeout": 12 * 3600 + 600}
        if settings.CELERY_KEY_PREFIX:
            options["global_keyprefix"] = settings.CELERY_KEY_PREFIX
        return options
    folder = settings.BROKER_DIR
    for sub in ("out", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "out"),
        "data_folder_out": str(folder / "out"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }


def configure(celery_app: Celery) -> None:
    """Apply Django settings to the app; safe to call again after settings change (tests do)."""
    from django.conf import settings

    celery_app.conf.update(
        broker_url=settings.CELERY_BROKER_URL,
        broker_connection_retry_on_startup=True,
        broker_transport_options=broker_options(settings),
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue="cpu",
        task_queues=[Queue(name) for name in QUEUES],
        task_routes={name: {"queue": "gpu"} for name in GPU_TASKS},
        task_annotations={
            name: {"soft_time_limit": soft, "time_limit": hard} for name, (soft, hard) in TIME_LIMITS.items()
        },
        worker_hijack_root_logger=False,
        # Celery's Django fixup closes every database connection around each task unless told to reuse them;
        # reconnecting costs more than a small job. Tasks drop broken or old connections themselves (tasks.py).
        CELERY_DB_REUSE_MAX=1000,
        beat_schedule={
            "sweep-jobs": {"task": "skerry.sweep", "schedule": float(max(5, settings.JOB_STALE_SECONDS // 2))},
        },
    )
    # Forget connections made with the old settings, kombu's process-wide producer pools included: they are
    # keyed by broker URL, so a pool closed here would otherwise come back when the URL is used again.
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None
    kombu_pools.reset()


WORKER_CONN_MAX_AGE = 300


@worker_init.connect
def keep_database_connections(**kwargs) -> None:
    """Workers keep their database connection for a while between tasks; every task starts and ends with
    Django's close_old_connections, so a connection broken by a database restart, or older than this, is
    dropped and the next query connects afresh."""
    from django.conf import settings

    for database in settings.DATABASES.values():
        if not database.get("CONN_MAX_AGE"):
            database["CONN_MAX_AGE"] = WORKER_CONN_MAX_AGE


try:
    configure(app)
except ImproperSetting as error:  # a bad setting is one line naming it, not a traceback from celery's loader
    raise SystemExit(f"skerry: {error}") from None
app.autodiscover_tasks(["workers"], related_name="tasks")
