"""Finding missions: one search box over name, area, drone, operator and notes (a date typed there matches the
mission's date), narrowed by area and a date range, one page at a time.

Bad input is reported back to the page as errors, never guessed: the page then lists what the valid filters
give, as the mission report's filters do.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet

from webapp.core.params import BadParameter, id_param

MISSIONS_PER_PAGE = 25
# A date typed into the search box, whole or in part: 2026, 2026-06, 2026-06-01.
DATE_TEXT = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")
TEXT_FIELDS = ("name", "area__name", "drone", "operator", "notes")


class MissionSearch:
    """?q= (words, each must match some field; or a date), ?area=<id>, ?after= / ?before= (YYYY-MM-DD, inclusive)."""

    def __init__(self, params):
        self.errors: list[str] = []
        self.q = params.get("q", "").strip()
        try:
            self.area = id_param(params, "area")
        except BadParameter as exc:
            self.errors.append(str(exc))
            self.area = None
        self.after = self._date(params, "after")
        self.before = self._date(params, "before")

    def _date(self, params, name: str) -> dt.date | None:
        text = params.get(name, "").strip()
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            self.errors.append(f"{name} must be a date like 2026-06-01, not {text!r}")
            return None

    def apply(self, missions: QuerySet) -> QuerySet:
        if self.area is not None:
            missions = missions.filter(area_id=self.area)
        if self.after is not None:
            missions = missions.filter(date__gte=self.after)
        if self.before is not None:
            missions = missions.filter(date__lte=self.before)
        for word in self.q.split():
            missions = missions.filter(word_matches(word))
        return missions

    def query(self) -> str:
        """The filters as a query string, for the pager's links."""
        values = {"q": self.q, "area": self.area, "after": self.after, "before": self.before}
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def word_matches(word: str) -> Q:
    """A mission matches a word found in one of its text fields, or, for a date or part of one, its date."""
    found = Q()
    for field in TEXT_FIELDS:
        found |= Q(**{f"{field}__icontains": word})
    if match := DATE_TEXT.match(word):
        year, month, day = (int(part) if part else None for part in match.groups())
        on = {"date__year": year}
        if month is not None:
            on["date__month"] = month
        if day is not None:
            on["date__day"] = day
        found |= Q(**on)
    return found


def missions_page(missions: QuerySet, search: MissionSearch, page_number) -> Page:
    """One page of the matching missions, newest first, with their areas and video counts."""
    listing = (search.apply(missions).select_related("area")
               .annotate(video_count=Count("videos", distinct=True)).order_by("-date", "-id"))
    return Paginator(listing, MISSIONS_PER_PAGE).get_page(page_number)
