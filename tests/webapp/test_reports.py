"""The mission report: roles, ranking, filters, bulk review, and exports checked against the database."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.db.models import F
from django.urls import reverse

from tests.support.seed import make_mission, make_user, seed_scored_video
from webapp.detectors.models import Event
from webapp.reports.figures import decode_typed_array

pytestmark = pytest.mark.django_db
# The report's order: level first (it compares across detector kinds), then the raw score.
BY_LEVEL = (F("level").desc(nulls_last=True), "-peak_score", "id")


@pytest.fixture
def people():
    return {role: make_user(role, role) for role in ("viewer", "analyst", "admin")} | {"outsider": make_user("nobody", None)}


@pytest.fixture
def mission():
    mission = make_mission()
    seed_scored_video(mission, name="a.mp4", anomalies=((10.0, 14.0, "boat"), (40.0, 44.0, "person")),
                      kinds=("cae", "mil"), seed=1)
    seed_scored_video(mission, name="b.mp4", anomalies=((30.0, 33.0, "boat"),), seed=2)
    return mission


def login(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", ["viewer", "analyst", "admin"])
def test_every_role_reads_the_report_and_its_exports(client, people, mission, role):
    login(client, people[role])
    for name in ("mission_report", "mission_events_csv", "mission_events_json"):
        assert client.get(reverse(name, args=[mission.pk])).status_code == 200, name


def test_it_rejects_users_without_a_role_and_anonymous_users(client, people, mission):
    url = reverse("mission_report", args=[mission.pk])
    assert client.get(url).status_code == 302  # to the login page
    login(client, people["outsider"])
    assert client.get(url).status_code == 403
    assert client.get(reverse("mission_events_csv", args=[mission.pk])).status_code == 403


def test_it_404s_for_a_missing_mission(client, people):
    login(client, people["viewer"])
    assert client.get(reverse("mission_report", args=[999999])).status_code == 404


def test_cards_are_ranked_by_level_with_thumbnail_and_heatmap(client, people, mission):
    login(client, people["viewer"])
    html = client.get(reverse("mission_report", args=[mission.pk])).content.decode()
    shown = [int(i) for i in re.findall(r'data-event="(\d+)"', html)]
    expected = list(Event.objects.filter(score_run__video__mission=mission).order_by(*BY_LEVEL)
                    .values_list("pk", flat=True))
    assert shown == expected and len(shown) >= 4
    assert reverse("event_thumbnail", args=[shown[0]]) in html
    thumb = client.get(reverse("event_thumbnail", args=[shown[0]]))
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/png" and thumb.content[:4] == b"\x89PNG"
    assert 'name="event"' not in html  # viewers get no bulk-review checkboxes


def test_filters_by_detector_state_and_level(client, people, mission):
    login(client, people["viewer"])
    mil = Event.objects.filter(score_run__detector__kind="mil").first()
    mil.review = Event.Review.CONFIRMED
    mil.save()
    detector_id = mil.score_run.detector_id
    html = client.get(reverse("mission_report", args=[mission.pk]),
                      {"detector": detector_id, "review": "confirmed", "min_level": "1"}).content.decode()
    shown = {int(i) for i in re.findall(r'data-event="(\d+)"', html)}
    expected = set(Event.objects.filter(score_run__detector_id=detector_id, review="confirmed", level__gte=1)
                   .values_list("pk", flat=True))
    assert shown == expected == {mil.pk}


def test_it_reports_bad_filter_values(client, people, mission):
    login(client, people["viewer"])
    html = client.get(reverse("mission_report", args=[mission.pk]), {"min_level": "high", "review": "maybe"}).content.decode()
    assert "must be a number" in html and "unknown review state" in html
    html = client.get(reverse("mission_report", args=[mission.pk]), {"min_level": "nan"}).content.decode()
    assert "must be a number, not &#x27;nan&#x27;" in html
    response = client.get(reverse("mission_report", args=[mission.pk]), {"min_score": "5"})
    assert response.status_code == 400 and "use the minimum level" in response.content.decode()


def test_the_strip_has_a_row_per_video_and_a_bar_per_event(client, people, mission):
    login(client, people["viewer"])
    html = client.get(reverse("mission_report", args=[mission.pk])).content.decode()
    strip = json.loads(re.search(r'id="strip-figure">(.*?)</script>', html, re.S).group(1))
    bars = strip["data"][0]
    assert len(bars["customdata"]) == Event.objects.filter(score_run__video__mission=mission).count()
    assert sorted(set(bars["y"])) == sorted(f"{v.original_name} #{v.pk}" for v in mission.videos.all())


def test_analysts_confirm_and_dismiss_in_bulk(client, people, mission):
    login(client, people["analyst"])
    ids = list(Event.objects.filter(score_run__video__mission=mission).values_list("pk", flat=True)[:2])
    response = client.post(reverse("mission_report_review", args=[mission.pk]),
                           {"event": [str(i) for i in ids], "review": "dismissed", "query": "min_level=1.0"})
    assert response.status_code == 302 and response["Location"].endswith("?min_level=1.0")
    reviewed = Event.objects.filter(pk__in=ids)
    assert {e.review for e in reviewed} == {"dismissed"} and {e.reviewer_id for e in reviewed} == {people["analyst"].pk}
    assert Event.objects.exclude(pk__in=ids).filter(review="dismissed").count() == 0


def test_viewers_cannot_bulk_review(client, people, mission):
    login(client, people["viewer"])
    event = Event.objects.first()
    response = client.post(reverse("mission_report_review", args=[mission.pk]), {"event": [event.pk], "review": "confirmed"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.review == "unreviewed"


def test_bulk_review_ignores_events_of_other_missions_and_bad_verdicts(client, people, mission):
    other = make_mission(name="Patrol 2")
    seed_scored_video(other, name="c.mp4", seed=3)
    foreign = Event.objects.filter(score_run__video__mission=other).first()
    login(client, people["analyst"])
    client.post(reverse("mission_report_review", args=[mission.pk]), {"event": [foreign.pk], "review": "confirmed"})
    foreign.refresh_from_db()
    assert foreign.review == "unreviewed"
    own = Event.objects.filter(score_run__video__mission=mission).first()
    response = client.post(reverse("mission_report_review", args=[mission.pk]), {"event": [own.pk], "review": "maybe"},
                           follow=True)
    assert "unknown review" in response.content.decode()
    own.refresh_from_db()
    assert own.review == "unreviewed"


def test_csv_export_matches_the_database(client, people, mission):
    event = Event.objects.first()
    event.note = 'looks like a "boat", maybe'
    event.review = Event.Review.CONFIRMED
    event.reviewer = people["analyst"]
    event.save()
    login(client, people["viewer"])
    response = client.get(reverse("mission_events_csv", args=[mission.pk]))
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    events = Event.objects.filter(score_run__video__mission=mission).order_by(*BY_LEVEL)
    assert [int(r["id"]) for r in rows] == [e.pk for e in events]
    for row, e in zip(rows, events):
        assert float(row["peak_score"]) == pytest.approx(e.peak_score) and float(row["level"]) == pytest.approx(e.level)
        assert float(row["threshold"]) == pytest.approx(e.score_run.threshold)
        assert (row["mission"], row["mission_date"]) == (mission.name, mission.date.isoformat())
        assert (float(row["start"]), float(row["end"])) == pytest.approx((e.start, e.end))
        assert row["video"] == e.score_run.video.original_name and row["kind"] == e.score_run.detector.kind
        assert row["review"] == e.review and row["note"] == e.note
    assert next(r for r in rows if int(r["id"]) == event.pk)["reviewer"] == "analyst"


def test_json_export_matches_the_database_and_applies_filters(client, people, mission):
    login(client, people["viewer"])
    body = client.get(reverse("mission_events_json", args=[mission.pk]), {"min_level": "1.8"}).json()
    assert body["mission"]["name"] == mission.name
    expected = Event.objects.filter(score_run__video__mission=mission, level__gte=1.8)
    assert 0 < expected.count() < Event.objects.filter(score_run__video__mission=mission).count()
    assert {e["id"] for e in body["events"]} == set(expected.values_list("pk", flat=True))
    for row in body["events"]:
        e = expected.get(pk=row["id"])
        assert row["peak_time"] == pytest.approx(e.peak_time) and row["video_id"] == e.score_run.video_id
        assert (row["level"], row["peak_score"]) == (pytest.approx(e.level), pytest.approx(e.peak_score))
    refused = client.get(reverse("mission_events_json", args=[mission.pk]), {"min_level": "x"})
    assert refused.status_code == 400


def test_standalone_html_needs_no_server(client, people, mission):
    login(client, people["viewer"])
    response = client.get(reverse("mission_report_html", args=[mission.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert len(html) > 3_000_000  # plotly.js itself is inlined
    assert "<script src=" not in html and 'src="/' not in html and 'href="/' not in html
    count = Event.objects.filter(score_run__video__mission=mission).count()
    assert html.split("<body>", 1)[1].count('src="data:image/png;base64,') == count
    strip = json.loads(re.search(r'id="strip-figure">(.*?)</script>', html, re.S).group(1))
    assert len(strip["data"][0]["customdata"]) == count
    for video in mission.videos.all():  # each video's score timeline, drawn without WebGL
        timeline = json.loads(re.search(rf'id="timeline-{video.pk}">(.*?)</script>', html, re.S).group(1))
        assert {t["type"] for t in timeline["data"]} == {"scatter"}
        assert len(decode_typed_array(timeline["data"][0]["y"])) <= 800


def test_a_card_opens_the_heatmap_view_at_the_event_peak(client, people, mission):
    login(client, people["viewer"])
    event = Event.objects.filter(score_run__detector__kind="cae").first()
    response = client.get(reverse("event_heatmap", args=[event.pk]))
    index = int(re.search(r"/frames/(\d+)/$", response["Location"]).group(1))
    assert index == round(event.peak_time * 2)  # sampled at 2 fps from 0 s
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)",
                                  "\tcmd", "\rcmd"])
def test_csv_text_cells_that_start_a_formula_are_quoted(client, people, mission, text):
    event = Event.objects.order_by(*BY_LEVEL).first()
    Event.objects.filter(pk=event.pk).update(note=text)
    rows = list(csv.DictReader(io.StringIO(
        login(client, people["viewer"]).get(reverse("mission_events_csv", args=[mission.pk])).content.decode())))
    assert rows[0]["note"] == "'" + text


def test_csv_numbers_stay_numbers_even_when_negative(client, people, mission):
    event = Event.objects.order_by("-peak_score", "id").first()
    Event.objects.filter(pk=event.pk).update(peak_score=-0.5, note="a boat - maybe")
    rows = list(csv.DictReader(io.StringIO(
        login(client, people["viewer"]).get(reverse("mission_events_csv", args=[mission.pk])).content.decode())))
    row = next(r for r in rows if int(r["id"]) == event.pk)
    assert row["peak_score"] == "-0.5" and row["note"] == "a boat - maybe"
