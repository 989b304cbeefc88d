"""The triage inbox: one queue of events across every mission a user may see, filtered and sorted, with how many
are unreviewed, confirmed and dismissed; and what the dashboard says needs attention (unreviewed events per
mission and per area). Verdicts are recorded by `webapp.reports.reviews`, as on every other page."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.db.models import Count, F, Max

from webapp.accounts.roles import ANALYST, role_allows, role_in_team, visible
from webapp.catalog.access import areas_where
from webapp.catalog.labelling import classes_in_use
from webapp.catalog.models import Mission
from webapp.core.params import BadParameter, id_param, number_param
from webapp.detectors.models import Detector, Event

PAGE_SIZE = 25  # rows of one inbox page
ATTENTION_ROWS = 8  # missions the dashboard lists
EVENT_TEAM = "score_run__video__mission__area__team"
SORTS = {
    "level": ("Level, highest first", (F("level").desc(nulls_last=True), "-peak_score", "id")),
    "newest": ("Newest patrol first", ("-score_run__video__mission__date", "-score_run__video__mission_id",
                                       "score_run__video__original_name", "start", "id")),
    "oldest": ("Oldest patrol first", ("score_run__video__mission__date", "score_run__video__mission_id",
                                       "score_run__video__original_name", "start", "id")),
}


def visible_events(user):
    """Every event in the user's teams' areas, with what an inbox row shows."""
    return visible(Event.objects.select_related("score_run__video__mission__area", "score_run__detector",
                                                "reference_video__mission"), user, EVENT_TEAM)


class InboxFilter:
    """The inbox's filters, read from the query string; a bad value is reported on the page, not guessed.

    `state` defaults to unreviewed (the queue); "all" shows every state. The counts cover the other filters."""

    def __init__(self, params, user):
        self.errors: list[str] = []
        self.areas = areas_where(user)
        self.area = self._id(params, "area")
        self.mission = self._id(params, "mission")
        self.detector = self._id(params, "detector")
        self.anomaly_class = params.get("class", "").strip()
        self.min_level = self._number(params, "min_level")
        self.date_from = self._date(params, "from")
        self.date_to = self._date(params, "to")
        self.state = self._choice(params, "state", [*Event.Review.values, "all"], Event.Review.UNREVIEWED)
        self.sort = self._choice(params, "sort", list(SORTS), "level")

    def _id(self, params, name: str) -> int | None:
        try:
            return id_param(params, name)
        except BadParameter as error:
            self.errors.append(str(error))
            return None

    def _number(self, params, name: str) -> float | None:
        try:
            return number_param(params, name)
        except BadParameter as error:
            self.errors.append(str(error))
            return None

    def _date(self, params, name: str) -> dt.date | None:
        text = params.get(name, "")
        try:
            return dt.date.fromisoformat(text) if text else None
        except ValueError:
            self.errors.append(f"{name} must be a date as YYYY-MM-DD, not {text[:40]!r}")
            return None

    def _choice(self, params, name: str, choices: list[str], default: str) -> str:
        text = params.get(name) or default
        if text not in choices:
            self.errors.append(f"{name} must be one of {', '.join(choices)}, not {text[:40]!r}")
            return default
        return text

    def scope(self, events):
        """`events` narrowed by every filter but the review state (what the counts count)."""
        conditions = {"score_run__video__mission__area_id": self.area, "score_run__video__mission_id": self.mission,
                      "score_run__detector_id": self.detector, "anomaly_class": self.anomaly_class or None,
                      "level__gte": self.min_level,
                      "score_run__video__mission__date__gte": self.date_from,
                      "score_run__video__mission__date__lte": self.date_to}
        return events.filter(**{k: v for k, v in conditions.items() if v is not None})

    def apply(self, events):
        scoped = self.scope(events)
        if self.state != "all":
            scoped = scoped.filter(review=self.state)
        return scoped.order_by(*SORTS[self.sort][1])

    def choices(self) -> dict:
        """What the filter form's selects offer: the user's areas, and the missions and detectors of the chosen
        area (of all of them when none is chosen) that have events."""
        areas = self.areas.filter(pk=self.area) if self.area else self.areas
        return {
            "areas": self.areas.order_by("name"),
            "missions": Mission.objects.filter(area__in=areas, videos__score_runs__events__isnull=False)
            .distinct().select_related("area").order_by("-date", "-pk"),
            "detectors": Detector.objects.filter(area__in=areas, score_runs__events__isnull=False)
            .distinct().select_related("area").order_by("area__name", "kind", "pk"),
            "classes": classes_in_use(areas),
            "states": [*Event.Review.choices, ("all", "Every state")],
            "sorts": [(key, label) for key, (label, _) in SORTS.items()],
        }

    def values(self) -> dict:
        return {"area": self.area, "mission": self.mission, "detector": self.detector, "class": self.anomaly_class,
                "min_level": self.min_level,
                "from": self.date_from.isoformat() if self.date_from else None,
                "to": self.date_to.isoformat() if self.date_to else None,
                "state": self.state if self.state != Event.Review.UNREVIEWED else None,
                "sort": self.sort if self.sort != "level" else None}

    def query(self, **changes) -> str:
        """The query string of these filters (defaults left out), with `changes` applied."""
        values = {**self.values(), **changes}
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def may_review(user, event: Event) -> bool:
    """Whether the user is an analyst in the event's area's team (role_in_team is cached per request)."""
    return role_allows(role_in_team(user, event.score_run.video.mission.area.team_id), ANALYST)


def needs_attention(user, rows: int = ATTENTION_ROWS) -> dict:
    """The dashboard's summary of the unreviewed events the user may see: per area, and the `rows` missions with
    the most (with their highest level), each with the query string of its inbox."""
    unreviewed = visible(Event.objects.filter(review=Event.Review.UNREVIEWED), user, EVENT_TEAM).order_by()
    mission = "score_run__video__mission"
    per_area = (unreviewed.values(f"{mission}__area_id", f"{mission}__area__name")
                .annotate(count=Count("pk"), missions=Count(mission, distinct=True))
                .order_by("-count", f"{mission}__area__name"))
    per_mission = (unreviewed.values(f"{mission}_id", f"{mission}__name", f"{mission}__date", f"{mission}__area__name")
                   .annotate(count=Count("pk"), videos=Count("score_run__video", distinct=True),
                             top_level=Max("level"))
                   .order_by("-count", f"-{mission}__date", f"-{mission}_id")[:rows])
    areas = [{"id": a[f"{mission}__area_id"], "name": a[f"{mission}__area__name"], "count": a["count"],
              "missions": a["missions"], "query": urlencode({"area": a[f"{mission}__area_id"]})} for a in per_area]
    missions = [{"id": m[f"{mission}_id"], "name": m[f"{mission}__name"], "date": m[f"{mission}__date"],
                 "area": m[f"{mission}__area__name"], "count": m["count"], "videos": m["videos"],
                 "top_level": m["top_level"], "query": urlencode({"mission": m[f"{mission}_id"]})} for m in per_mission]
    return {"areas": areas, "missions": missions, "total": sum(a["count"] for a in areas),
            "other_missions": sum(a["missions"] for a in areas) - len(missions)}
