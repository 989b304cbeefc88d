"""Health checks for /healthz: database, broker, workers per queue, free disk.

`liveness` is what anyone may ask (load balancers, the compose healthcheck): one query, no worker ping, and
nothing about the deployment (no host names, no disk figures, no error text). `health` is the detailed report
for signed-in users and API tokens (see webapp.core.views.healthz).
"""

from __future__ import annotations

import shutil

from django.conf import settings
from django.db import connection

from webapp.celery import app
from webapp.jobs.kinds import QUEUES


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "engine": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - report any failure as unhealthy
        return {"ok": False, "error": str(exc)}


def check_broker() -> dict:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        transport = "redis" if settings.REDIS_URL else "filesystem"
        return {"ok": True, "transport": transport}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": str(exc)}


def check_workers(timeout: float = 1.0) -> dict:
    try:
        replies = app.control.inspect(timeout=timeout).active_queues() or {}
    except Exception as exc:  # noqa: BLE001
        return {queue: {"ok": False, "workers": [], "error": str(exc)} for queue in QUEUES}
    result = {}
    for queue in QUEUES:
        names = sorted(worker for worker, queues in replies.items() if any(q["name"] == queue for q in queues))
        result[queue] = {"ok": bool(names), "workers": names}
    return result


def check_disk() -> dict:
    root = settings.MEDIA_ROOT
    root.mkdir(parents=True, exist_ok=True)
    usage = shutil.disk_usage(root)
    return {"ok": usage.free > 1024**3, "free_bytes": usage.free, "total_bytes": usage.total}


def liveness() -> dict:
    """Whether the database answers, and nothing else: fast, and safe to show anyone."""
    alive = check_database()["ok"]
    return {"ok": alive, "database": {"ok": alive}}


def health(include_workers: bool = True) -> dict:
    report = {"database": check_database(), "broker": check_broker(), "disk": check_disk()}
    if include_workers:
        report["workers"] = check_workers()
    report["ok"] = report["database"]["ok"] and report["broker"]["ok"] and report["disk"]["ok"]
    return report
