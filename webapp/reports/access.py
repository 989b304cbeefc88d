"""The one place report objects are fetched for a user: as in catalog.access, a user without any role is refused
(403), another team's row is not found (404), and a role too low within the user's own team is refused (403)."""

from __future__ import annotations

from django.db.models import F
from django.shortcuts import get_object_or_404

from webapp.accounts.roles import ANALYST, VIEWER, require_role
from webapp.catalog.access import check_area, get_mission_or_404, get_video_or_404
from webapp.catalog.models import Mission
from webapp.detectors.models import Detector, Event, ScoreRun

# Missions and videos come through the catalog's access helpers, so both apps check them the same way.
mission_for = get_mission_or_404
video_for = get_video_or_404


def score_run_for(request, pk: int, role: str = VIEWER) -> ScoreRun:
    require_role(request.user, VIEWER)
    run = get_object_or_404(ScoreRun.objects.select_related("detector", "video__mission__area"), pk=pk)
    check_area(request.user, run.video.mission.area, role)
    return run


def detector_for(request, pk: int, role: str = VIEWER) -> Detector:
    require_role(request.user, VIEWER)
    detector = get_object_or_404(Detector.objects.select_related("area"), pk=pk)
    check_area(request.user, detector.area, role)
    return detector


def event_for(request, pk: int, role: str = VIEWER) -> Event:
    require_role(request.user, VIEWER)
    event = get_object_or_404(
        Event.objects.select_related("score_run__video__mission__area", "score_run__detector",
                                     "reference_video__mission"), pk=pk
    )
    check_area(request.user, event.score_run.video.mission.area, role)
    return event


def event_to_review(request, pk: int) -> Event:
    return event_for(request, pk, role=ANALYST)


def mission_events(mission: Mission):
    """All events of a mission's videos, highest level first (levels compare across detector kinds, raw
    scores do not), with what a card shows."""
    return (Event.objects.filter(score_run__video__mission=mission)
            .select_related("score_run__video", "score_run__detector", "reviewer", "reference_video__mission")
            .order_by(F("level").desc(nulls_last=True), "-peak_score", "id"))
