"""Server-Sent Events of a live stream: what was missed since `Last-Event-ID` (one query), then the feed.

A response lasts LIVE_EVENTS_SECONDS and the browser's EventSource reconnects by itself (with the last alert's
id), so a web worker thread is never held for a whole flight and a lost alert is sent again on reconnection.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.conf import settings
from django.http import StreamingHttpResponse

from webapp.core.params import BadParameter, id_param, parse_id
from webapp.live import feed
from webapp.live.alerts import alert_message, alerts_of, stream_status
from webapp.live.models import LiveStream


def sse(message: dict) -> str:
    lines = f"event: {message['type']}\n"
    if message["type"] == "alert":
        lines += f"id: {message['event']}\n"
    return lines + f"data: {json.dumps(message)}\n\n"


def last_event_id(request) -> int:
    """The last alert the listener has: the browser's Last-Event-ID on reconnection (ignored when not an id,
    as a browser never sends a bad one), else the `after` parameter (BadParameter, a 400, when not an id)."""
    header = request.headers.get("Last-Event-ID", "")
    try:
        return parse_id(header, "Last-Event-ID")
    except BadParameter:
        return id_param(request.GET, "after") or 0


def event_stream(stream: LiveStream, after: int) -> Iterator[str]:
    yield "retry: 1000\n\n"
    updates = feed.listen(stream.pk, seconds=settings.LIVE_EVENTS_SECONDS)  # subscribed before the catch-up
    yield sse({"type": "state", **stream_status(stream)})
    for event in alerts_of(stream, after=after):
        yield sse(alert_message(stream, event))
    for message in updates:
        yield ": keep-alive\n\n" if message is None else sse(message)


def events_response(stream: LiveStream, request) -> StreamingHttpResponse:
    response = StreamingHttpResponse(event_stream(stream, last_event_id(request)), content_type="text/event-stream")
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # a proxy must pass each event on at once
    return response
