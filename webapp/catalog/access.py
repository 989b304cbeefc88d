"""The one place catalog objects are fetched for a user, through `check_area`.

A user with no role in any team is refused (403) before anything is looked up. Then the object is fetched and
its area's team decides: not one of the user's teams is "no such object" (404, like a missing row, so other
teams learn nothing about what exists); a role below the one needed within the user's own team is 403.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from webapp.accounts.roles import ADMIN, ANALYST, VIEWER, require_role, role_allows, role_in_team, teams_where
from webapp.catalog.models import Area, LabelInterval, Mission, Video


def check_area(user, area: Area, role: str = VIEWER) -> str:
    """The user's role in `area` (404 if it is another team's, 403 if it is below `role`)."""
    held = role_in_team(user, area.team_id)
    if held is None:
        raise Http404("no such object")
    if not role_allows(held, role):
        raise PermissionDenied(f"this needs the {role} role in {area.name}'s team")
    return held


def area_page_roles(user, area: Area) -> dict:
    """What a page about one area shows its buttons by: the user's role in that area's team, overriding the
    nav's highest-role-anywhere `can_edit` and `is_admin` (webapp.accounts.context_processors)."""
    held = role_in_team(user, area.team_id)
    return {"can_edit": role_allows(held, ANALYST), "is_admin": role_allows(held, ADMIN), "area_role": held}


def areas_where(user, role: str = VIEWER):
    """The areas of the teams where the user holds at least `role` (every area for a site admin)."""
    teams = teams_where(user, role)
    return Area.objects.all() if teams is None else Area.objects.filter(team__in=teams)


def get_area_or_404(request, pk: int, role: str = VIEWER) -> Area:
    require_role(request.user, VIEWER)
    area = get_object_or_404(Area, pk=pk)
    check_area(request.user, area, role)
    return area


def get_mission_or_404(request, pk: int, role: str = VIEWER) -> Mission:
    require_role(request.user, VIEWER)
    mission = get_object_or_404(Mission.objects.select_related("area"), pk=pk)
    check_area(request.user, mission.area, role)
    return mission


def get_video_or_404(request, pk: int, role: str = VIEWER) -> Video:
    require_role(request.user, VIEWER)
    video = get_object_or_404(Video.objects.select_related("mission__area", "labelled_by"), pk=pk)
    check_area(request.user, video.mission.area, role)
    return video


def get_interval_or_404(request, pk: int, role: str = VIEWER) -> LabelInterval:
    require_role(request.user, VIEWER)
    interval = get_object_or_404(LabelInterval.objects.select_related("video__mission__area"), pk=pk)
    check_area(request.user, interval.video.mission.area, role)
    return interval
