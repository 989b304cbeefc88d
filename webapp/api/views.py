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
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from detection.score_store import load_video_scores
from webapp.accounts.roles import ADMIN, ANALYST, VIEWER, has_role, require_role, visible
from webapp.api import serializers as s
from webapp.catalog import deletion, labelling
from webapp.catalog.access import (
    areas_where,
    check_area,
    get_area_or_404,
    get_mission_or_404,
    get_video_or_404,
)
from webapp.catalog.models import LabelInterval, Mission, Video
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


def filtered(queryset, request, **params):
    """Apply ?name=value filters for the query parameters listed (name -> field lookup)."""
    for name, lookup in params.items():
        value = request.query_params.get(name)
        if value not in (None, ""):
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


class MissionList(Api, generics.ListCreateAPIView):
    """Missions (?area= filters); POST {"area", "name", "date", "drone", "operator", "notes"} creates one."""

    serializer_class = s.MissionSerializer

    def get_queryset(self):
        return filtered(visible(Mission.objects.all(), self.request.user, "area__team"), self.request, area="area")

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


class VideoList(Api, generics.ListAPIView):
    """Videos with their probed facts, ingest status and label (?mission=, ?status=, ?label= filter)."""

    serializer_class = s.VideoSerializer

    def get_queryset(self):
        videos = visible(Video.objects.select_related("labelled_by"), self.request.user, "mission__area__team")
        return filtered(videos, self.request, mission="mission", status="status", label="label")


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

    @extend_schema(request=None, responses={202: s.JobSerializer, 409: OpenApiTypes.OBJECT, 429: OpenApiTypes.OBJECT})
    def post(self, request, pk: int):
        mission = get_mission_or_404(request, pk, role=Job.role_to_start(Job.Kind.SCORE))
        try:
            job = services.start_scoring(mission, user=request.user)
        except JobLimitReached as exc:
            raise TooManyJobs(str(exc)) from None
        if job is None:
            return Response({"detail": services.NO_DETECTOR}, status=status.HTTP_409_CONFLICT)
        return Response(s.JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


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


class EventList(Api, generics.ListAPIView):
    """Flagged events with their review state (?video=, ?mission=, ?review= filter)."""

    serializer_class = s.EventSerializer

    def get_queryset(self):
        events = visible(Event.objects.select_related("score_run", "reviewer"), self.request.user,
                         "score_run__video__mission__area__team")
        return filtered(
            events, self.request, video="score_run__video", mission="score_run__video__mission", review="review"
        )


class UploadCreate(Api, APIView):
    """tus creation: POST with Upload-Length and Upload-Metadata; the answer's Location is the upload URL."""

    @extend_schema(request=None, responses={201: None, 413: OpenApiTypes.OBJECT})
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

    @extend_schema(request=OpenApiTypes.BINARY, responses={204: None, 409: OpenApiTypes.OBJECT, 422: OpenApiTypes.OBJECT})
    def patch(self, request, upload_id):
        return tus.handle(request, self.session(request, upload_id), request.stream or io.BytesIO())

    @extend_schema(request=None, responses={204: None})
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
