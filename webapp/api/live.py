"""The live alert feed for ground-station software: a stream's state and alerts as JSON, and the same Server-Sent
Events the live page listens to, both behind the API's token; and the telemetry feed the other way, the
drone's poses sent while it flies (webapp.live.telemetry)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.accounts.roles import ANALYST
from webapp.api.schema import ID_SCHEMA, ErrorSerializer
from webapp.api.views import Api
from webapp.core.params import id_param
from webapp.live import telemetry
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


def _height(**kwargs):
    return serializers.FloatField(required=False, allow_null=True, min_value=telemetry.HEIGHTS[0],
                                  max_value=telemetry.HEIGHTS[1], **kwargs)


class PoseRowSerializer(serializers.Serializer):
    """One pose: its time as `time` (video seconds) or `timestamp` (Unix seconds), never both."""

    time = serializers.FloatField(required=False, min_value=0, max_value=telemetry.MAX_VIDEO_SECONDS,
                                  help_text="Video seconds since the recording's first frame.")
    timestamp = serializers.FloatField(required=False, min_value=telemetry.UNIX_FROM,
                                       help_text="Unix seconds (UTC), converted with the frames' decode times.")
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)
    rel_alt = _height(help_text="Metres above the take-off point.")
    abs_alt = _height(help_text="Metres above sea level.")
    yaw = serializers.FloatField(required=False, allow_null=True, min_value=-360, max_value=360,
                                 help_text="Heading, degrees clockwise from north.")
    pitch = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90,
                                   help_text="Gimbal pitch, degrees (-90 looks straight down).")


class PoseBatchSerializer(serializers.Serializer):
    poses = serializers.ListField(child=PoseRowSerializer(), min_length=1, max_length=telemetry.BATCH_MAX)


class TelemetrySummarySerializer(serializers.Serializer):
    """The rows received: how many, the first and newest time as sent and in video seconds (null until known:
    Unix times wait for the first frame), and how many compared frames CHANGE matched by telemetry."""

    stream = serializers.IntegerField()
    state = serializers.CharField()
    time_base = serializers.ChoiceField(choices=["time", "timestamp"], allow_null=True)
    count = serializers.IntegerField()
    first = serializers.FloatField(allow_null=True)
    last = serializers.FloatField(allow_null=True)
    first_video_time = serializers.FloatField(allow_null=True)
    last_video_time = serializers.FloatField(allow_null=True)
    change_compared = serializers.IntegerField()
    change_by_telemetry = serializers.IntegerField()
    received = serializers.IntegerField(required=False, help_text="Rows stored from this request (POST).")


class PoseRowErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    row = serializers.IntegerField(allow_null=True, help_text="The first bad row, counted from 1.")


class LiveTelemetry(Api, APIView):
    """A live stream's telemetry from the ground station. POST {"poses": [...]} (analyst) adds rows, oldest
    first, each after the rows already received: all of the batch is stored (201) or none, with the first bad
    row and why (422); a stream that is finishing or has ended takes none (409). GET: what was received."""

    @extend_schema(responses=TelemetrySummarySerializer)
    def get(self, request, pk: int):
        return Response(telemetry.telemetry_summary(get_stream_or_404(request, pk)))

    @extend_schema(request=PoseBatchSerializer, responses={201: TelemetrySummarySerializer,
                                                           409: ErrorSerializer, 422: PoseRowErrorSerializer})
    def post(self, request, pk: int):
        stream = get_stream_or_404(request, pk, ANALYST)
        try:
            summary = telemetry.receive_poses(stream.pk, request.data)
        except telemetry.PoseRowError as exc:
            return Response({"detail": str(exc), "row": exc.row}, status=422)
        except telemetry.StreamClosed as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(summary, status=status.HTTP_201_CREATED)
