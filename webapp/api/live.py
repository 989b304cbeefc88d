"""The live alert feed for ground-station software: a stream's state and alerts as JSON, and the same Server-Sent
Events the live page listens to, both behind the API's token."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.api.schema import ID_SCHEMA
from webapp.api.views import Api
from webapp.core.params import id_param
from webapp.live.alerts import alert_message, alerts_of, stream_status
from webapp.live.sse import events_response
from webapp.live.views import get_stream_or_404


class EventStreamRenderer(BaseRenderer):
    """Lets a client ask for `text/event-stream`; the view answers with a streaming response of its own."""

    media_type = "text/event-stream"
    format = "sse"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class LiveAlerts(Api, APIView):
    """A live stream's state and its alerts with an id above `after` (all of them without it), oldest first."""

    @extend_schema(
        parameters=[OpenApiParameter("after", ID_SCHEMA, description="Only alerts with a larger id.")],
        responses=inline_serializer("LiveAlerts", {"stream": serializers.DictField(),
                                                   "alerts": serializers.ListField(child=serializers.DictField())}),
    )
    def get(self, request, pk: int):
        stream = get_stream_or_404(request, pk)
        after = id_param(request.GET, "after", empty_is_absent=False) or 0
        return Response({"stream": stream_status(stream),
                         "alerts": [alert_message(stream, e) for e in alerts_of(stream, after=after)]})


class LiveEvents(Api, APIView):
    """Server-Sent Events of a live stream: `state`, `score` and `alert` events (an alert's SSE id is its event
    id; send Last-Event-ID or `after` to resume). Each response lasts about a minute; reconnect to go on."""

    renderer_classes = [EventStreamRenderer]

    @extend_schema(exclude=True)  # a stream, not a document: schema-driven fuzzing would wait on it
    def get(self, request, pk: int):
        return events_response(get_stream_or_404(request, pk), request)
