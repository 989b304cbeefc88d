"""The live page of a mission: start a stream, watch its newest frame and scores, get its alerts pushed."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from webapp.accounts.roles import ANALYST, VIEWER, require_role
from webapp.catalog.access import area_page_roles, check_area, get_mission_or_404
from webapp.core.media import stored_file_response
from webapp.live.alerts import alert_message, alerts_of, score_history
from webapp.live.models import LiveStream
from webapp.live.services import start_stream, stop_stream
from webapp.live.sse import events_response


def get_stream_or_404(request, pk: int, role: str = VIEWER) -> LiveStream:
    require_role(request.user, VIEWER)
    stream = get_object_or_404(LiveStream.objects.select_related("mission__area"), pk=pk)
    check_area(request.user, stream.mission.area, role)
    return stream


@require_GET
def live_page(request: HttpRequest, pk: int) -> HttpResponse:
    mission = get_mission_or_404(request, pk)
    return _page(request, mission)


def _page(request, mission, *, error: str = "", status: int = 200, form: dict | None = None) -> HttpResponse:
    stream = mission.live_streams.first()
    alerts = [alert_message(stream, e) for e in alerts_of(stream)] if stream else []
    history = score_history(stream) if stream else {"times": [], "scores": [], "threshold": None}
    has_frame = bool(stream) and (Path(settings.MEDIA_ROOT) / stream.media_dir / "latest.jpg").exists()
    context = {**area_page_roles(request.user, mission.area), "mission": mission, "stream": stream,
               "alerts": alerts, "error": error, "form": form or {}, "has_frame": has_frame,
               "history": history}
    return render(request, "live/live.html", context, status=status)


@require_POST
def live_start(request: HttpRequest, pk: int) -> HttpResponse:
    mission = get_mission_or_404(request, pk, ANALYST)
    url, listen = request.POST.get("url", ""), request.POST.get("listen") == "on"
    try:
        start_stream(mission, url, listen=listen, user=request.user)
    except ValidationError as exc:
        return _page(request, mission, error=" ".join(exc.messages), status=400, form={"listen": listen})
    return redirect("live_page", mission.pk)


@require_POST
def live_stop(request: HttpRequest, pk: int) -> HttpResponse:
    stream = get_stream_or_404(request, pk, ANALYST)
    stop_stream(stream)
    return redirect("live_page", stream.mission_id)


@require_GET
def live_frame(request: HttpRequest, pk: int) -> HttpResponse:
    """The stream's newest frame, through the one helper that serves stored files (never cached: it changes)."""
    stream = get_stream_or_404(request, pk)
    path = Path(settings.MEDIA_ROOT) / stream.media_dir / "latest.jpg"
    try:
        response = stored_file_response(request, path)
    except FileNotFoundError:
        raise Http404("no frame yet") from None
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def live_events(request: HttpRequest, pk: int):
    return events_response(get_stream_or_404(request, pk), request)
