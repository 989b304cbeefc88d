"""The Celery app, configured from Django settings. Queues: `cpu` (decode, proxies) and `gpu` (train, score)."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

app = Celery("skerry")


def configure(celery_app: Celery) -> None:
    from django.conf import settings

    celery_app.conf.update(
        broker_url=settings.CELERY_BROKER_URL,
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue="cpu",
        task_queues=[Queue("cpu"), Queue("gpu")],
        task_routes={"skerry.train": {"queue": "gpu"}, "skerry.score": {"queue": "gpu"},
                     "skerry.evaluate": {"queue": "gpu"}},
        worker_hijack_root_logger=False,
        broker_transport_options={"visibility_timeout": 6 * 3600},
    )
    if not settings.REDIS_URL:
        folder = settings.BROKER_DIR
        for sub in ("out", "processed"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        celery_app.conf.broker_transport_options = {
            "data_folder_in": str(folder / "out"),
            "data_folder_out": str(folder / "out"),
            "processed_folder": str(folder / "processed"),
            "store_processed": False,
        }


configure(app)
app.autodiscover_tasks(["workers"], related_name="tasks")
