"""The mission report in levels: CAE scores (about -2..62) and MIL scores (0..1) on one scale, one filter, one
fixed colour scale; the raw score kept in the card's tooltip and in every export (CSV, JSON, API)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.urls import reverse

from tests.support.seed import make_mission, make_user, put_on_real_scales, seed_scored_video
from webapp.detectors.levels import level_colour
from webapp.detectors.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def mission():
    mission = make_mission()
    seed_scored_video(mission, name="a.mp4", anomalies=((10.0, 14.0, "boat"), (40.0, 44.0, "person")),
                      kinds=("cae", "mil"), seed=1)
    seed_scored_video(mission, name="b.mp4", anomalies=((30.0, 33.0, "boat"),), seed=2)
    put_on_real_scales(mission)
    return mission


@pytest.fixture
def client(client):
    client.force_login(make_user("vera", "viewer"))
    return client


def shown(client, mission, **params) -> list[tuple[str, float]]:
    """(kind, raw score) of the cards on the report page, in order."""
    html = client.get(reverse("mission_report", args=[mission.pk]), params).content.decode()
    cards = re.findall(r'data-event="(\d+)" data-kind="(\w+)"', html)
    return [(kind, Event.objects.get(pk=pk).peak_score) for pk, kind in cards]


def test_the_levels_are_worked_out_from_each_detectors_threshold_and_normal_median():
    mission = make_mission()
    seed_scored_video(mission, kinds=("cae", "mil"))
    events = put_on_real_scales(mission)
    # CAE: threshold 12, typical normal 2 -> (61.78 - 2) / 10; MIL: threshold 0.5, typical 0.1 -> (0.98 - 0.1) / 0.4
    assert events["cae"][0].level == pytest.approx(5.978)
    assert events["mil"][0].level == pytest.approx(2.2)


def test_cards_of_both_kinds_are_ranked_by_level_not_by_raw_score(client, mission):
    order = shown(client, mission)
    assert order == [("cae", 61.78), ("cae", 61.63), ("mil", 0.98), ("mil", 0.62), ("cae", 14.5)]


def test_a_minimum_level_of_1_keeps_both_kinds_where_a_minimum_score_kept_one(client, mission):
    assert {kind for kind, _ in shown(client, mission, min_level="1")} == {"cae", "mil"}
    assert len(shown(client, mission, min_level="1")) == Event.objects.count()
    # The old filter in raw scores: a minimum of 5 hid every MIL event.
    assert not Event.objects.filter(peak_score__gte=5, score_run__detector__kind="mil").exists()
    assert shown(client, mission, min_level="2") == [("cae", 61.78), ("cae", 61.63), ("mil", 0.98)]
    assert shown(client, mission, min_level="7") == []


def test_events_without_a_level_are_counted_when_a_minimum_leaves_them_out(client, mission):
    Event.objects.filter(peak_score=14.5).update(level=None)
    html = client.get(reverse("mission_report", args=[mission.pk]), {"min_level": "1"}).content.decode()
    assert "1 event without a level" in html
    assert "without a level" not in client.get(reverse("mission_report", args=[mission.pk])).content.decode()


def test_a_card_shows_the_level_in_its_fixed_colour_and_the_raw_score_in_its_tooltip(client, mission):
    html = client.get(reverse("mission_report", args=[mission.pk])).content.decode()
    best = Event.objects.get(peak_score=61.78)
    card = re.search(rf'<li class="event-card[^"]*" data-event="{best.pk}".*?</li>', html, re.S).group(0)
    assert f"border-top-color:{level_colour(best.level)}" in card and "6.0×" in card
    assert "raw CAE score 61.780, threshold 12.000" in card
    assert level_colour(best.level) == "#9b1c31", "the highest step is the hottest colour"
    assert "1 to 1.5" in html and "4 and above" in html, "the legend shows the fixed scale"


def test_the_strip_colours_bars_by_level_on_the_fixed_scale(client, mission):
    html = client.get(reverse("mission_report", args=[mission.pk])).content.decode()
    bars = json.loads(re.search(r'id="strip-figure">(.*?)</script>', html, re.S).group(1))["data"][0]
    assert "colorscale" not in bars["marker"], "no scale that rescales per mission"
    levels = sorted(Event.objects.values_list("level", flat=True))
    assert sorted(bars["marker"]["color"]) == sorted(level_colour(level) for level in levels)
    assert any("CAE score 61.780" in text for text in bars["text"])


def test_every_export_carries_level_and_raw_score(client, mission):
    rows = list(csv.DictReader(io.StringIO(client.get(reverse("mission_events_csv", args=[mission.pk]),
                                                      {"min_level": "2"}).content.decode())))
    assert [(r["kind"], float(r["peak_score"])) for r in rows] == [("cae", 61.78), ("cae", 61.63), ("mil", 0.98)]
    assert [round(float(r["level"]), 2) for r in rows] == [5.98, 5.96, 2.2]
    assert {r["threshold"] for r in rows} == {"12.0", "0.5"}
    body = client.get(reverse("mission_events_json", args=[mission.pk])).json()
    assert all(row["level"] >= 1 and "peak_score" in row for row in body["events"])
    api = client.get(f"/api/events/?mission={mission.pk}").json()
    events = api["results"] if isinstance(api, dict) else api
    best = next(e for e in events if e["peak_score"] == 61.78)
    assert best["level"] == pytest.approx(5.978)


def test_the_api_filters_events_by_level(client, mission):
    answer = client.get(f"/api/events/?mission={mission.pk}&min_level=2").json()
    events = answer["results"] if isinstance(answer, dict) else answer
    assert sorted(e["peak_score"] for e in events) == [0.98, 61.63, 61.78]
    refused = client.get("/api/events/?min_level=inf")
    assert refused.status_code == 400 and "min_level must be a number" in refused.json()["detail"]


def test_the_standalone_report_shows_levels_with_the_raw_score_beside(client, mission):
    html = client.get(reverse("mission_report_html", args=[mission.pk])).content.decode()
    assert "level 6.0×</span> <span class=\"muted\">score 61.780" in html
    assert html.index("score 61.780") < html.index("score 0.980") < html.index("score 14.500"), "ranked by level"
