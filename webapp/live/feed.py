"""The live feed of a stream: the worker publishes scores and alerts, pages and the API listen.

With Redis (REDIS_URL) it is Redis pub/sub on one channel per stream: a listener holds one subscription and
costs the database nothing. Without Redis (a development machine on the filesystem broker) the worker appends
the same messages to `live/<id>/feed.jsonl` and a listener follows that file. Either way a message is a dict
with a `type` ("score", "alert", "state") that both the page's EventSource and ground-station software read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

FEED_FILE = "feed.jsonl"


def channel(stream_id: int) -> str:
    return f"{settings.CELERY_KEY_PREFIX}skerry:live:{stream_id}"


def _feed_path(stream_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / "live" / str(stream_id) / FEED_FILE


def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


class Publisher:
    """The worker's side: `publish(message)` for one stream."""

    def __init__(self, stream_id: int):
        self.stream_id = stream_id
        self._client = _redis() if settings.REDIS_URL else None

    def publish(self, message: dict) -> None:
        text = json.dumps(message)
        if self._client is not None:
            self._client.publish(channel(self.stream_id), text)
            return
        path = _feed_path(self.stream_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as feed:
            feed.write(text + "\n")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def listen(stream_id: int, *, seconds: float, tick: float = 1.0) -> Iterator[dict | None]:
    """Messages of one stream published from now on, for `seconds`; None every `tick` without one (keep-alive).
    Subscribed when called (not at the first message), so nothing published after the call is missed."""
    deadline = time.monotonic() + seconds
    if settings.REDIS_URL:
        client = _redis()
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(channel(stream_id))
        return _redis_messages(client, pubsub, deadline, tick)
    path = _feed_path(stream_id)
    return _follow_file(path, path.stat().st_size if path.exists() else 0, deadline, tick)


def _redis_messages(client, pubsub, deadline: float, tick: float) -> Iterator[dict | None]:
    try:
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=tick)
            yield json.loads(message["data"]) if message else None
    finally:
        pubsub.close()
        client.close()


def _follow_file(path: Path, position: int, deadline: float, tick: float) -> Iterator[dict | None]:
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        lines = []
        if path.exists():
            with path.open("rb") as feed:
                feed.seek(position)
                chunk = feed.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]  # a line being written waits for its newline
            position += len(complete)
            lines = complete.decode().splitlines()
        for line in lines:
            yield json.loads(line)
        if lines:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= tick:
            quiet_since = time.monotonic()
            yield None
        else:
            time.sleep(0.1)
