"""The REST API for ground stations and scripts: token auth, roles as on the pages, tus uploads.

Reading needs the viewer role, writing the analyst role, deleting the admin role (see RolePermission), in the
team of the object's area: every queryset holds only the user's teams' rows, so another team's object is 404
and its rows are absent from the lists.
"""

from __future__ import annotations

import io
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, permissions, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import APIException
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from detection.score_store import load_video_scores
from webapp.accounts.roles import ADMIN, ANALYST, VIEWER, has_role, require_role, visible
from webapp.api import serializers as s
from webapp.api.schema import ErrorSerializer, UploadErrorSerializer, choice_filter, id_filter
from webapp.catalog import deletion, labelling, telemetry
from webapp.catalog.access import (
    areas_where,
    check_area,
    get_area_or_404,
    get_mission_or_404,
    get_video_or_404,
)
from webapp.catalog.models import LabelInterval, Mission, Video
from webapp.catalog.telemetry import SidecarRejected
from webapp.catalog.telemetry_views import uploaded_sidecar
from webapp.core.params import choice_param, id_param, number_param
from webapp.detectors.models import Detector, Event, ScoreRun
from webapp.jobs import services
from webapp.jobs.models import Job
from webapp.jobs.quotas import JobLimitReached
from webapp.uploads import protocol
from webapp.uploads import views as tus


class RolePermission(permissions.BasePermission):
    """Lists: the role in some team (viewer to read, analyst to create). One object: any role to look it up, then
    the role in the team of its area (`check_area`: 404 for another team's, 403 for too low a role)."""

    message = "your role does not allow this"

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS or view.kwargs:
            return has_role(request.user, VIEWER)
        return has_role(request.user, ANALYST)

    def has_object_permission(self, request, view, obj) -> bool:
        if obj.area is not None:  # only site admins get a job without a target (Job.visible_to)
            check_area(request.user, obj.area, needed_role(request.method, view))
        return True


def needed_role(method: str, view) -> str:
    if method in permissions.SAFE_METHODS:
        return VIEWER
    return getattr(view, "delete_role", ADMIN) if method == "DELETE" else ANALYST


class TooManyJobs(APIException):
    status_code = 429
    default_detail = "too many training, scoring or evaluation jobs under way"


class Api:
    permission_classes = [permissions.IsAuthenticated, RolePermission]


def filtered(queryset, request, ids=(), choices=()):
    """Apply ?name=value filters: `ids` maps a name to an id lookup, `choices` to (lookup, allowed values).

    A value that is not an id, or not one of the choices, is a 400 (webapp.core.params), never a 500; so is an
    empty one, which the schema does not allow either."""
    params = request.query_params
    for name, lookup in dict(ids).items():
        if (value := id_param(params, name, empty_is_absent=False)) is not None:
            queryset = queryset.filter(**{lookup: value})
    for name, (lookup, allowed) in dict(choices).items():
        if (value := choice_param(params, name, allowed, empty_is_absent=False)) is not None:
            queryset = queryset.filter(**{lookup: value})
    return queryset


class AreaList(Api, generics.ListCreateAPIView):
    """Areas of your teams; POST {"name", "team", "description"} creates one in a team you are admin of."""

    serializer_class = s.AreaSerializer

    def get_queryset(self):
        return areas_where(self.request.user)

    def create(self, request, *args, **kwargs):
        require_role(request.user, ADMIN)
        return super().create(request, *args, **kwargs)


@extend_schema_view(get=extend_schema(parameters=[id_filter("area", "area")]))
class MissionList(Api, generics.ListCreateAPIView):
    """Missions (?area= filters); POST {"area", "name", "date", "drone", "operator", "notes"} creates one."""

    serializer_class = s.MissionSerializer

    def get_queryset(self):
        return filtered(visible(Mission.objects.all(), self.request.user, "area__team"), self.request,
                        ids={"area": "area"})

    def perform_create(self, serializer):
        check_area(self.request.user, serializer.validated_data["area"], ANALYST)
        serializer.save(created_by=self.request.user)


class MissionDetail(Api, generics.RetrieveUpdateDestroyAPIView):
    """One mission; PATCH edits it; DELETE removes it with its videos (admin)."""

    serializer_class = s.MissionSerializer

    def get_queryset(self):
        return visible(Mission.objects.select_related("area"), self.request.user, "area__team")

    def perform_update(self, serializer):
        check_area(self.request.user, serializer.validated_data.get("area", serializer.instance.area), ANALYST)
        serializer.save()

    def perform_destroy(self, instance):
        deletion.delete_mission(instance)


@extend_schema_view(get=extend_schema(parameters=[
    id_filter("mission", "mission"), choice_filter("status", Video.Status.values),
    choice_filter("label", Video.Label.values),
]))
class VideoList(Api, generics.ListAPIView):
    """Videos with their probed facts, ingest status and label (?mission=, ?status=, ?label= filter)."""

    serializer_class = s.VideoSerializer

    def get_queryset(self):
        videos = visible(Video.objects.select_related("labelled_by"), self.request.user, "mission__area__team")
        return filtered(videos, self.request, ids={"mission": "mission"}, choices={
            "status": ("status", Video.Status.values), "label": ("label", Video.Label.values)})


class VideoDetail(Api, generics.RetrieveUpdateDestroyAPIView):
    """Read a video; PATCH {"label": ...} labels it (who and when are recorded)."""

    serializer_class = s.VideoSerializer

    def get_queryset(self):
        videos = Video.objects.select_related("labelled_by", "mission__area")
        return visible(videos, self.request.user, "mission__area__team")

    def perform_destroy(self, instance):
        deletion.delete_video(instance)


class IntervalList(Api, generics.ListCreateAPIView):
    """A video's anomalous intervals; POST {"start", "end", "anomaly_class"} adds one (seconds)."""

    serializer_class = s.IntervalSerializer

    def video(self) -> Video:
        return get_video_or_404(self.request, self.kwargs["pk"], role=needed_role(self.request.method, self))

    def get_queryset(self):
        return LabelInterval.objects.filter(video=self.video()).select_related("created_by")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "video": self.video()}

    def create(self, request, *args, **kwargs):
        self.video()  # who may label this video is settled before the body is read: 404/403 come before a 415
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = labelling.add_interval(
            serializer.context["video"], data["start"], data["end"], data["anomaly_class"], self.request.user
        )


class IntervalDetail(Api, generics.RetrieveUpdateDestroyAPIView):
    """One interval; PATCH moves it, DELETE removes it (analyst)."""

    serializer_class = s.IntervalSerializer
    delete_role = ANALYST  # removing a label is labelling work, not an admin deletion

    def get_queryset(self):
        intervals = LabelInterval.objects.select_related("video__mission__area", "created_by")
        return visible(intervals, self.request.user, "video__mission__area__team")


class MissionScore(Api, APIView):
    """Score the mission's ready videos with the area's active detectors; answers the queued job."""

    @extend_schema(request=None, responses={202: s.JobSerializer, 409: ErrorSerializer, 429: ErrorSerializer})
    def post(self, request, pk: int):
        mission = get_mission_or_404(request, pk, role=Job.role_to_start(Job.Kind.SCORE))
        try:
            job = services.start_scoring(mission, user=request.user)
        except JobLimitReached as exc:
            raise TooManyJobs(str(exc)) from None
        if job is None:
            return Response({"detail": services.NO_DETECTOR}, status=status.HTTP_409_CONFLICT)
        return Response(s.JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(post=extend_schema(responses={202: s.TrainingStartedSerializer, 429: ErrorSerializer}))
class AreaDetectors(Api, generics.ListCreateAPIView):
    """An area's detectors; POST {"kind": "cae"|"mil", "name": ...} trains a new one (admin)."""

    serializer_class = s.DetectorSerializer

    def get_queryset(self):
        return Detector.objects.filter(area=get_area_or_404(self.request, self.kwargs["pk"]))

    def create(self, request, *args, **kwargs):
        area = get_area_or_404(request, self.kwargs["pk"], role=Job.role_to_start(Job.Kind.TRAIN))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            detector = serializer.save(area=area, created_by=request.user)
            try:
                job = services.start_training(detector, user=request.user)
            except JobLimitReached as exc:
                transaction.set_rollback(True)
                raise TooManyJobs(str(exc)) from None
        body = {"detector": s.DetectorSerializer(detector).data, "job": s.JobSerializer(job).data}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class JobDetail(Api, generics.RetrieveAPIView):
    """A background job: state, progress, stage, error."""

    serializer_class = s.JobSerializer

    def get_queryset(self):
        return Job.visible_to(self.request.user)


class VideoScores(Api, APIView):
    """Per-frame (and per-segment) scores of every ready score run of the video."""

    @extend_schema(responses=s.ScoreArraysSerializer(many=True))
    def get(self, request, pk: int):
        video = get_video_or_404(request, pk)
        payload = []
        for run in ScoreRun.objects.filter(video=video, status=ScoreRun.Status.READY):
            scores = load_video_scores(Path(settings.MEDIA_ROOT) / run.media_dir, with_heatmaps=False)
            payload.append({
                "run": s.ScoreRunSerializer(run).data,
                "times": scores.times.tolist(),
                "frame_scores": scores.frame_scores.tolist(),
                "threshold": scores.threshold,
                "segment_scores": None if scores.segment_scores is None else scores.segment_scores.tolist(),
                "segment_bounds": None if scores.segment_bounds is None else scores.segment_bounds.tolist(),
            })
        return Response(payload)


class VideoTelemetry(Api, APIView):
    """A video's telemetry sidecar. GET: its summary and pose table. POST multipart `file` (a DJI .SRT, GPX or
    CSV, at most SKERRY_TELEMETRY_MAX_BYTES): attach or replace it; it is read at once (200), or refused with
    its line-numbered reason (422, the video and any earlier poses unchanged)."""

    parser_classes = [MultiPartParser]

    @extend_schema(responses={200: s.TelemetrySerializer})
    def get(self, request, pk: int):
        video = get_video_or_404(request, pk)
        poses = telemetry.load_poses(video)
        columns = None if poses is None else telemetry.pose_columns(poses)
        return Response({**telemetry.telemetry_state(video), "poses": columns})

    @extend_schema(request={"multipart/form-data": s.SidecarUploadSerializer},
                   responses={200: s.TelemetrySerializer, 400: ErrorSerializer, 413: ErrorSerializer,
                              422: s.TelemetrySerializer})
    def post(self, request, pk: int):
        video = get_video_or_404(request, pk, role=ANALYST)
        try:
            upload = uploaded_sidecar(request)
            telemetry.attach_sidecar(video, upload.name, upload.chunks(), upload.size)
        except SidecarRejected as exc:
            return Response({"detail": str(exc)}, status=exc.status)
        body = telemetry.telemetry_state(video)
        if video.telemetry_error:
            return Response({**body, "detail": video.telemetry_error}, status=422)
        return Response(body)


@extend_schema_view(get=extend_schema(parameters=[
    id_filter("video", "video"), id_filter("mission", "mission"), choice_filter("review", Event.Review.values),
    OpenApiParameter("min_level", {"type": "number"}, description=(
        "Only events at this level or above: the peak on the scale every detector kind shares, 1 being the "
        "detector's threshold (events without a level are left out).")),
]))
class EventList(Api, generics.ListAPIView):
    """Flagged events with their review state and level (?video=, ?mission=, ?review=, ?min_level= filter)."""

    serializer_class = s.EventSerializer

    def get_queryset(self):
        events = visible(Event.objects.select_related("score_run", "reviewer"), self.request.user,
                         "score_run__video__mission__area__team")
        events = filtered(events, self.request, ids={"video": "score_run__video", "mission": "score_run__video__mission"},
                          choices={"review": ("review", Event.Review.values)})
        if (minimum := number_param(self.request.query_params, "min_level", empty_is_absent=False)) is not None:
            events = events.filter(level__gte=minimum)
        return events

TUS_RESUMABLE = OpenApiParameter("Tus-Resumable", {"type": "string", "enum": [protocol.TUS_VERSION]},
                                 OpenApiParameter.HEADER, required=True)
UPLOAD_LENGTH = OpenApiParameter("Upload-Length", {"type": "string", "pattern": "^[0-9]{1,19}$"},
                                 OpenApiParameter.HEADER, required=True, description="The file's size in bytes.")
UPLOAD_OFFSET = OpenApiParameter("Upload-Offset", {"type": "string", "pattern": "^[0-9]{1,19}$"},
                                 OpenApiParameter.HEADER, required=True)
UPLOAD_METADATA = OpenApiParameter("Upload-Metadata", str, OpenApiParameter.HEADER,
                                   description="filename <base64 of the name>")


class UploadCreate(Api, APIView):
    """tus creation: POST with Upload-Length and Upload-Metadata; the answer's Location is the upload URL."""

    @extend_schema(request=None, parameters=[TUS_RESUMABLE, UPLOAD_LENGTH, UPLOAD_METADATA], responses={
        201: OpenApiResponse(description="Created; the Location header is the upload's URL."),
        **{code: UploadErrorSerializer for code in (400, 412, 413, 429, 507)},
    })
    def post(self, request, pk: int):
        mission = get_mission_or_404(request, pk, role=ANALYST)
        return tus.create(request, mission, "api_upload")

    def options(self, request, *args, **kwargs):
        return protocol.options_response()


class UploadDetail(Api, APIView):
    """tus: HEAD for the offset, PATCH application/offset+octet-stream chunks, DELETE to abandon."""

    def session(self, request, upload_id):
        return tus.get_upload_or_404(request, upload_id)

    @extend_schema(request=None, responses={200: None})
    def head(self, request, upload_id):
        return tus.handle(request, self.session(request, upload_id), None)

    @extend_schema(request={protocol.OFFSET_CONTENT_TYPE: OpenApiTypes.BINARY}, parameters=[TUS_RESUMABLE, UPLOAD_OFFSET],
                   responses={204: None, **{code: UploadErrorSerializer for code in (400, 409, 410, 412, 413, 415, 507)}})
    def patch(self, request, upload_id):
        return tus.handle(request, self.session(request, upload_id), request.stream or io.BytesIO())

    @extend_schema(request=None, parameters=[TUS_RESUMABLE], responses={204: None, 412: UploadErrorSerializer})
    def delete(self, request, upload_id):
        return tus.handle(request, self.session(request, upload_id), None)

    def get_permissions(self):
        return [permissions.IsAuthenticated(), RolePermission()] if self.request.method != "DELETE" else [
            permissions.IsAuthenticated()
        ]

    def options(self, request, *args, **kwargs):
        return protocol.options_response()


@require_http_methods(["GET"])
def docs_page(request):
    """The API's endpoints, read from the same OpenAPI schema as /api/schema/, as a plain page (no CDN)."""
    require_role(request.user, VIEWER)
    schema = SchemaGenerator().get_schema(request=None, public=True)
    endpoints = []
    for path, operations in schema["paths"].items():
        first = next(iter(operations.values()))
        endpoints.append({
            "path": path, "methods": " ".join(m.upper() for m in operations),
            "summary": first.get("description", "").strip(),
            "parameters": sorted({p["name"] for op in operations.values() for p in op.get("parameters", [])
                                  if p.get("in") == "query"}),
        })
    return render(request, "api/docs.html", {"endpoints": endpoints})


@require_http_methods(["GET", "POST"])
def token_page(request):
    """Create, replace or revoke your own API token."""
    require_role(request.user, VIEWER)
    if request.method == "POST":
        Token.objects.filter(user=request.user).delete()
        if request.POST.get("action") == "create":
            Token.objects.create(user=request.user)
            messages.success(request, "New API token created; the old one, if any, no longer works.")
        else:
            messages.success(request, "API token revoked.")
        return redirect("api_token")
    token = Token.objects.filter(user=request.user).first()
    return render(request, "api/token.html", {"token": token})
