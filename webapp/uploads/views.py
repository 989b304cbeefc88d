"""tus endpoints for the browser (session login and CSRF header); the API reuses `handle` with token auth."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from webapp.accounts.roles import ADMIN, ANALYST, VIEWER, require_role
from webapp.catalog.access import check_area, get_mission_or_404
from webapp.uploads import protocol
from webapp.uploads.finalize import finish_upload
from webapp.uploads.models import UploadSession
from webapp.uploads.protocol import UploadRejected


def get_upload_or_404(request, upload_id) -> UploadSession:
    """An upload session of this user (their team's admins see all of the team's): others' uploads are not found;
    a user who may no longer work in the mission's area is refused."""
    require_role(request.user, VIEWER)
    session = get_object_or_404(UploadSession.objects.select_related("mission__area", "video"), pk=upload_id)
    held = check_area(request.user, session.mission.area, ANALYST)
    if session.created_by_id != request.user.pk and held != ADMIN:
        raise Http404("no such upload")
    return session


def create(request: HttpRequest, mission, location_name: str) -> HttpResponse:
    """POST: start an upload into `mission`; Location points at `location_name` for this session."""
    try:
        session = protocol.create_session(request, mission)
    except UploadRejected as exc:
        return protocol.error_response(exc)
    return protocol.tus_response(201, Location=reverse(location_name, args=[session.pk]))


def finished_response(session: UploadSession) -> HttpResponse:
    video = session.video
    return protocol.tus_response(
        204, Upload_Offset=session.offset, Skerry_Video_Id=video.pk, Skerry_Video_Url=video.get_absolute_url()
    )


def handle(request: HttpRequest, session: UploadSession, stream) -> HttpResponse:
    """HEAD, PATCH or DELETE on an existing upload; the last PATCH files the video or rejects it."""
    try:
        if request.method == "HEAD":
            return protocol.head_response(session)
        if request.method == "DELETE":
            protocol.check_version(request)
            protocol.terminate(session)
            return protocol.tus_response(204)
        if session.state == UploadSession.State.COMPLETE and session.video_id:
            return finished_response(session)  # a repeat of the last PATCH whose answer was lost
        session = protocol.append_chunk(request, session, stream)
        headers = {"Upload_Offset": session.offset}
        if session.offset == session.length:
            video = finish_upload(session)
            headers.update(Skerry_Video_Id=video.pk, Skerry_Video_Url=video.get_absolute_url())
        return protocol.tus_response(204, **headers)
    except UploadRejected as exc:
        return protocol.error_response(exc)


@require_http_methods(["POST", "OPTIONS"])
def upload_create(request: HttpRequest, mission_pk: int) -> HttpResponse:
    if request.method == "OPTIONS":
        return protocol.options_response()
    mission = get_mission_or_404(request, mission_pk, role=ANALYST)
    return create(request, mission, "upload")


@require_http_methods(["HEAD", "PATCH", "DELETE", "OPTIONS"])
def upload(request: HttpRequest, upload_id) -> HttpResponse:
    if request.method == "OPTIONS":
        return protocol.options_response()
    return handle(request, get_upload_or_404(request, upload_id), request)
