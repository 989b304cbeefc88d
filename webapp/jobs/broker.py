"""Which jobs have a message waiting in the broker, so the sweep re-sends only the ones that were lost.

Reads the queues directly (Redis lists and the `unacked` hash; the filesystem transport's message files). Returns
None when the broker cannot be read; the sweep then re-sends, which is safe since only one claim can win.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

from django.conf import settings

from webapp.jobs.kinds import JOB_TASK_NAMES, QUEUES

log = logging.getLogger(__name__)


def job_id_of(message: dict) -> int | None:
    """The job id a job's Celery (protocol 2) message carries, or None for other messages (helpers, the sweep)."""
    try:
        if message.get("headers", {}).get("task") not in JOB_TASK_NAMES:
            return None
        body = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
        return int(args[0])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def waiting_job_ids() -> set[int] | None:
    try:
        raw = _redis_messages() if settings.REDIS_URL else _filesystem_messages()
    except Exception:  # noqa: BLE001 - any failure just means "unknown"
        log.warning("cannot inspect the broker's queues; stranded jobs will be re-sent", exc_info=True)
        return None
    ids = set()
    for text in raw:
        try:
            message = json.loads(text)
        except ValueError:
            continue
        if isinstance(message, list):  # unacked entries are [message, exchange, routing_key]
            message = message[0] if message else {}
        job_id = job_id_of(message) if isinstance(message, dict) else None
        if job_id is not None:
            ids.add(job_id)
    return ids


def _redis_messages() -> list:
    import redis

    prefix = settings.CELERY_KEY_PREFIX  # kombu's own client does not prefix LRANGE/HVALS, so be explicit
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)
    try:
        found = []
        for queue in QUEUES:
            found.extend(client.lrange(f"{prefix}{queue}", 0, -1))
        found.extend(client.hvals(f"{prefix}unacked"))
        return found
    finally:
        client.close()


def _filesystem_messages() -> list:
    folder = Path(settings.BROKER_DIR) / "out"
    texts = []
    for path in folder.glob("*.msg"):
        try:
            texts.append(path.read_text())
        except FileNotFoundError:  # consumed while we looked
            continue
    return texts
