"""Telemetry on the pages: attach a sidecar to a video (its page, or the mission's upload box by file name) and
the pose table the video page interpolates at the player's time.

A sidecar is small, so it comes as a plain multipart POST (field `file`), refused from its Content-Length when
it is over TELEMETRY_MAX_BYTES. For an API token client that is before the body is read; a page's POST has
already been parsed by Django's CSRF check (it looks for the form's token), which spools a large file to a
temporary file that Django removes after the request, so a front proxy's body limit is still worth having.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from webapp.accounts.roles import ANALYST
from webapp.catalog import telemetry
from webapp.catalog.access import get_mission_or_404, get_video_or_404
from webapp.catalog.telemetry import SidecarRejected
from webapp.uploads.protocol import human_size

MULTIPART_SLACK_BYTES = 64 * 1024  # the form's boundaries and headers around the file itself


def uploaded_sidecar(request: HttpRequest):
    """The request's `file`; SidecarRejected when the body is too large (read from Content-Length) or absent."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    limit = settings.TELEMETRY_MAX_BYTES
    if length > limit + MULTIPART_SLACK_BYTES:
        raise SidecarRejected(413, f"the sidecar is {human_size(length)}, larger than the {human_size(limit)} "
                                   f"telemetry limit (SKERRY_TELEMETRY_MAX_BYTES)")
    upload = request.FILES.get("file")
    if upload is None:
        raise SidecarRejected(400, "choose a telemetry sidecar (.SRT, .GPX or .CSV) to send as `file`")
    return upload


def attach_upload(video, upload):
    return telemetry.attach_sidecar(video, upload.name, upload.chunks(), upload.size)


@require_POST
def video_telemetry(request: HttpRequest, pk: int) -> HttpResponse:
    """The video page's form: attach (or replace) the sidecar, then back to the page with what came of it."""
    video = get_video_or_404(request, pk, role=ANALYST)
    try:
        attach_upload(video, uploaded_sidecar(request))
    except SidecarRejected as exc:
        messages.error(request, f"Telemetry not added: {exc}")
        return redirect(video)
    if video.telemetry_error:
        messages.error(request, f"Telemetry not added: {video.telemetry_error}")
    else:
        messages.success(request, f"Telemetry “{video.telemetry_name}” read: {video.pose_count} poses.")
    return redirect(video)


@require_POST
def mission_telemetry(request: HttpRequest, pk: int) -> JsonResponse:
    """The upload box's sidecars: each is attached to the mission's video of the same file name stem."""
    mission = get_mission_or_404(request, pk, role=ANALYST)
    try:
        upload = uploaded_sidecar(request)
        video = telemetry.video_for_sidecar(mission, upload.name)
        attach_upload(video, upload)
    except SidecarRejected as exc:
        return JsonResponse({"error": str(exc)}, status=exc.status)
    body = {**telemetry.telemetry_state(video), "video_name": video.original_name,
            "video_url": video.get_absolute_url()}
    return JsonResponse(body, status=422 if video.telemetry_error else 200)


@require_GET
def video_poses(request: HttpRequest, pk: int) -> JsonResponse:
    """The video's pose table as JSON columns (null where not recorded), fetched once by the video page."""
    video = get_video_or_404(request, pk)
    poses = telemetry.load_poses(video)
    if poses is None:
        raise Http404("this video has no telemetry")
    response = JsonResponse({"count": len(poses), "columns": telemetry.pose_columns(poses)})
    response["Cache-Control"] = "private, max-age=60"
    return response
