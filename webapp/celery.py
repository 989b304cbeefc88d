"""The Celery app, configured from Django settings (the layout of Celery's Django guide).

The web side sends tasks through it by name and never imports the worker package; `workers.celery_app`, the
module workers start with (`celery -A workers.celery_app worker`), registers the tasks on this same app.
Messages carry only a job id and results are ignored: the Job row is the record. Queues, routes and each task's
soft and hard time limits come from the table in webapp.jobs.kinds; beat runs the job sweep.
"""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue
from kombu import pools as kombu_pools

from webapp.env import ImproperSetting
from webapp.jobs.kinds import HELPER_TASKS, QUEUES, TASKS

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

app = Celery("skerry")


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
        task_default_queue=QUEUES[0],
        task_queues=[Queue(name) for name in QUEUES],
        task_routes={name: {"queue": spec.queue} for name, spec in TASKS.items()},
        task_annotations={
            name: {"soft_time_limit": spec.soft_limit, "time_limit": spec.hard_limit} for name, spec in TASKS.items()
        },
        worker_hijack_root_logger=False,
        # Celery's Django fixup closes every database connection around each task unless told to reuse them;
        # reconnecting costs more than a small job. Tasks drop broken or old connections themselves (workers/tasks.py).
        CELERY_DB_REUSE_MAX=1000,
        beat_schedule={
            "sweep-jobs": {"task": HELPER_TASKS["sweep"].task,
                           "schedule": float(max(5, settings.JOB_STALE_SECONDS // 2))},
        },
    )
    # Forget connections made with the old settings, kombu's process-wide producer pools included: they are
    # keyed by broker URL, so a pool closed here would otherwise come back when the URL is used again.
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None
    kombu_pools.reset()


try:
    configure(app)
except ImproperSetting as error:  # a bad setting is one line naming it, not a traceback from celery's loader
    raise SystemExit(f"skerry: {error}") from None
