"""The missions list (/missions/): search over name, date, area, drone, operator and notes, a date range,
pagination, team visibility; and the links into it from the navigation and the areas pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.webapp.catalog_actors import *  # noqa: F403
from tests.webapp.catalog_actors import login
from webapp.accounts.models import Team
from webapp.catalog.models import Area, Mission
from webapp.catalog.search import MISSIONS_PER_PAGE

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(area):
    """Four missions of two areas, each findable by one field only."""
    south = Area.objects.create(name="South Bay")
    return {
        "dawn": Mission.objects.create(area=area, name="Dawn patrol", date=dt.date(2026, 11, 28), drone="Mavic 3"),
        "dusk": Mission.objects.create(area=area, name="Dusk run", date=dt.date(2026, 10, 2), drone="Matrice 30",
                                       notes="Oil sheen seen near the jetty"),
        "storm": Mission.objects.create(area=south, name="Storm check", date=dt.date(2026, 10, 15), drone="Mavic 3",
                                        operator="Kim"),
        "spring": Mission.objects.create(area=south, name="Spring survey", date=dt.date(2025, 4, 3)),
    }


def listed(client, query: str = "") -> list[str]:
    page = client.get(f"/missions/?{query}").content.decode()
    return re.findall(r'<tr data-mission="\d+"><td><a href="[^"]+">([^<]+)</a>', page)


def test_it_lists_every_visible_mission_newest_first(viewer, fleet):
    assert listed(login(viewer)) == ["Dawn patrol", "Storm check", "Dusk run", "Spring survey"]


@pytest.mark.parametrize(("query", "expected"), [
    ("q=dusk", ["Dusk run"]),                             # name, any case
    ("q=south", ["Storm check", "Spring survey"]),        # area name
    ("q=mavic", ["Dawn patrol", "Storm check"]),          # drone
    ("q=sheen", ["Dusk run"]),                            # notes
    ("q=kim", ["Storm check"]),                           # operator
    ("q=mavic+storm", ["Storm check"]),                   # every word must match some field
    ("q=2026-10", ["Storm check", "Dusk run"]),           # a month
    ("q=2026-10-02", ["Dusk run"]),                       # a day
    ("q=2025", ["Spring survey"]),                        # a year
    ("q=nothing-like-this", []),
    ("after=2026-10-03&before=2026-11-30", ["Dawn patrol", "Storm check"]),
])
def test_it_finds_missions_by_each_field(viewer, fleet, query, expected):
    assert listed(login(viewer), query) == expected


def test_the_area_filter_is_what_the_areas_pages_link_to(viewer, fleet, area):
    client = login(viewer)
    assert listed(client, f"area={area.pk}") == ["Dawn patrol", "Dusk run"]
    assert f'href="/missions/?area={area.pk}"' in client.get("/areas/").content.decode()
    assert f'href="/missions/?area={area.pk}"' in client.get(f"/areas/{area.pk}/").content.decode()
    assert 'href="/missions/">Missions</a>' in client.get("/").content.decode(), "the navigation links to it"


def test_it_reports_bad_filters_instead_of_guessing(viewer, fleet):
    response = login(viewer).get("/missions/?after=last+week&area=north")
    page = response.content.decode()
    assert response.status_code == 400
    assert "after must be a date like 2026-06-01, not &#x27;last week&#x27;" in page and "area must be" in page
    assert page.count('<tr data-mission=') == 4, "the valid filters (none) still list"


def test_it_pages_through_many_missions_keeping_the_search(viewer, area):
    for day in range(MISSIONS_PER_PAGE + 5):
        Mission.objects.create(area=area, name=f"Patrol {day:02d}", date=dt.date(2026, 1, 1) + dt.timedelta(days=day))
    client = login(viewer)
    first = client.get("/missions/?q=patrol").content.decode()
    assert first.count("<tr data-mission=") == MISSIONS_PER_PAGE
    assert f"1–{MISSIONS_PER_PAGE} of {MISSIONS_PER_PAGE + 5} missions" in first and 'href="?q=patrol&amp;page=2"' in first
    second = listed(client, "q=patrol&page=2")
    assert second == [f"Patrol {day:02d}" for day in range(4, -1, -1)]


def test_another_teams_missions_are_never_listed(viewer, fleet):
    elsewhere = Area.objects.create(name="Secret Sound", team=Team.objects.create(name="Other team"))
    Mission.objects.create(area=elsewhere, name="Hidden sweep", date=dt.date(2026, 11, 1))
    client = login(viewer)
    assert "Hidden sweep" not in listed(client)
    assert listed(client, f"area={elsewhere.pk}") == []


def test_it_needs_a_role(outsider, client):
    assert login(outsider).get("/missions/").status_code == 403
    assert client.get("/missions/").status_code == 302
