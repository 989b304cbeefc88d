"""What a worker process starts with (`celery -A workers.celery_app worker|beat`): the web app's Celery app
(webapp.celery, configured from Django settings) with the tasks of workers.tasks registered on it."""

from __future__ import annotations

from celery.signals import worker_init

from webapp.celery import app, configure
from workers import tasks  # noqa: F401 - registers the tasks on the app

__all__ = ["app", "configure"]

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
