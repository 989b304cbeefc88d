"""The one place catalog objects are fetched for a user: role checked first (403), then the object (404)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from webapp.accounts.roles import VIEWER, require_role
from webapp.catalog.models import Area, LabelInterval, Mission, Video


def get_area_or_404(request, pk: int, role: str = VIEWER) -> Area:
    require_role(request.user, role)
    return get_object_or_404(Area, pk=pk)


def get_mission_or_404(request, pk: int, role: str = VIEWER) -> Mission:
    require_role(request.user, role)
    return get_object_or_404(Mission.objects.select_related("area"), pk=pk)


def get_video_or_404(request, pk: int, role: str = VIEWER) -> Video:
    require_role(request.user, role)
    return get_object_or_404(Video.objects.select_related("mission__area", "labelled_by"), pk=pk)


def get_interval_or_404(request, pk: int, role: str = VIEWER) -> LabelInterval:
    require_role(request.user, role)
    return get_object_or_404(LabelInterval.objects.select_related("video"), pk=pk)
