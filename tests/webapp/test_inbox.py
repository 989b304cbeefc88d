"""The triage inbox: one queue of events across missions, within the user's teams; its filters, sorting, pages
and counts; verdicts and their undo through the review endpoint; the dashboard's "needs attention" and the
report's counts.

Actors: vera (viewer) and anna (analyst) of the default team, where the North reef and Outer skerries areas are;
sam (analyst) of the South team, whose Harbour area nobody else sees; nobody (no role).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.urls import reverse

from tests.support.seed import make_mission, make_user, seed_scored_video
from tests.support.teams import give_role
from tests.webapp.catalog_actors import login
from tests.webapp.test_change_compare import change_run
from webapp.accounts.models import Team
from webapp.catalog.labelling import classes_in_use
from webapp.catalog.models import Area, LabelInterval, Mission
from webapp.detectors.models import Event
from webapp.reports import exports, inbox

pytestmark = pytest.mark.django_db
INBOX = reverse("inbox")


@pytest.fixture
def people():
    return {"viewer": make_user("vera", "viewer"), "analyst": make_user("anna", "analyst"),
            "nobody": make_user("nobody", None)}


@pytest.fixture
def catalog():
    """Two areas of the default team with three missions on three days, and the South team's harbour.

    North reef / Patrol 1 (2026-06-01): patrol.mp4 with two anomalies, scored by the CAE and the MIL (4 events);
    North reef / Patrol 2 (2026-06-03): patrol.mp4, one anomaly, CAE (1 event);
    Outer skerries / Dawn (2026-06-05): patrol.mp4, one anomaly, CAE (1 event); South harbour: 1 event."""
    first = make_mission("North reef", "Patrol 1")
    second = Mission.objects.create(area=first.area, name="Patrol 2", date=dt.date(2026, 6, 3))
    outer = Mission.objects.create(area=Area.objects.create(name="Outer skerries"), name="Dawn", date=dt.date(2026, 6, 5))
    south = Team.objects.create(name="South team")
    harbour = Mission.objects.create(area=Area.objects.create(name="South harbour", team=south), name="Harbour",
                                     date=dt.date(2026, 6, 2))
    seed_scored_video(first, anomalies=((10.0, 14.0, "boat"), (40.0, 45.0, "person")), kinds=("cae", "mil"), seed=1)
    seed_scored_video(second, anomalies=((20.0, 26.0, "boat"),), seed=2)
    seed_scored_video(outer, anomalies=((30.0, 33.0, "debris"),), seed=3)
    seed_scored_video(harbour, anomalies=((5.0, 9.0, "boat"),), seed=4)
    return {"first": first, "second": second, "outer": outer, "harbour": harbour, "south": south}


def rows(response) -> list[dict]:
    return json.loads(re.search(r'id="inbox-data"[^>]*>(.*?)</script>', response.content.decode(), re.S).group(1))["rows"]


def ids(response) -> list[int]:
    return [row["id"] for row in rows(response)]


def ours():
    return Event.objects.exclude(score_run__video__mission__name="Harbour")


def test_it_shows_every_unreviewed_event_of_the_users_teams_highest_level_first(client, people, catalog):
    client.force_login(people["viewer"])
    response = client.get(INBOX)
    assert response.status_code == 200
    events = {e.pk: e for e in ours().select_related("score_run")}
    assert sorted(ids(response)) == sorted(events) and len(events) == 6  # not the South team's harbour event
    levels = [events[i].level for i in ids(response)]
    assert levels == sorted(levels, reverse=True) and None not in levels
    html = response.content.decode()
    assert f'{levels[0]:.1f}×' in html and "patrol.mp4" in html and "Patrol 2" in html and "South harbour" not in html
    assert '<a href="/inbox/">Inbox</a>' in html  # in the top navigation


def test_it_refuses_users_without_a_role_and_sends_strangers_to_log_in(client, people, catalog):
    client.force_login(people["nobody"])
    assert client.get(INBOX).status_code == 403
    client.logout()
    assert client.get(INBOX).status_code == 302


def test_another_teams_member_sees_only_their_own_events(client, catalog):
    sam = make_user("sam", None)
    give_role(sam, "analyst", catalog["south"])
    response = login(sam).get(INBOX, {"mission": catalog["first"].pk})  # asking for a mission of another team
    assert ids(response) == [] and response.status_code == 200
    assert ids(login(sam).get(INBOX)) == list(Event.objects.filter(score_run__video__mission=catalog["harbour"])
                                               .values_list("pk", flat=True))


@pytest.mark.parametrize(("params", "expected"), [
    ({"area": "outer"}, lambda c: ours().filter(score_run__video__mission=c["outer"])),
    ({"mission": "second"}, lambda c: ours().filter(score_run__video__mission=c["second"])),
    ({"detector": "mil"}, lambda c: ours().filter(score_run__detector__kind="mil")),
    ({"from": "2026-06-02", "to": "2026-06-04"}, lambda c: ours().filter(score_run__video__mission=c["second"])),
    ({"from": "2026-06-03"}, lambda c: ours().exclude(score_run__video__mission=c["first"])),
    ({"min_level": "1.75"}, lambda c: ours().filter(level__gte=1.75)),
])
def test_it_filters_by_area_mission_detector_and_date(client, people, catalog, params, expected):
    values = dict(params)
    if "area" in values:
        values["area"] = catalog[values["area"]].area_id
    if "mission" in values:
        values["mission"] = catalog[values["mission"]].pk
    if "detector" in values:
        values["detector"] = Event.objects.filter(score_run__detector__kind=values["detector"]).first().score_run.detector_id
    response = login(people["viewer"]).get(INBOX, values)
    assert response.status_code == 200
    assert sorted(ids(response)) == sorted(expected(catalog).values_list("pk", flat=True))


def test_it_filters_by_class_and_state(client, people, catalog):
    boat, person = ours()[:2]
    Event.objects.filter(pk=boat.pk).update(review="confirmed", anomaly_class="boat")
    Event.objects.filter(pk=person.pk).update(review="confirmed", anomaly_class="person")
    viewer = login(people["viewer"])
    assert ids(viewer.get(INBOX, {"state": "confirmed", "class": "boat"})) == [boat.pk]
    assert sorted(ids(viewer.get(INBOX, {"state": "confirmed"}))) == sorted([boat.pk, person.pk])
    assert len(ids(viewer.get(INBOX, {"state": "all"}))) == 6
    assert boat.pk not in ids(viewer.get(INBOX))  # the queue is the unreviewed ones
    html = viewer.get(INBOX).content.decode()
    assert '<option value="debris">debris</option>' in html, "the labels' classes are offered"


def test_it_sorts_by_patrol_date_either_way(client, people, catalog):
    viewer = login(people["viewer"])
    dates = {e.pk: e.score_run.video.mission.date for e in ours().select_related("score_run__video__mission")}
    newest = [dates[i] for i in ids(viewer.get(INBOX, {"sort": "newest"}))]
    oldest = [dates[i] for i in ids(viewer.get(INBOX, {"sort": "oldest"}))]
    assert newest == sorted(newest, reverse=True) and oldest == sorted(oldest) and newest[0] == dt.date(2026, 6, 5)


@pytest.mark.parametrize("params", [{"area": "x"}, {"from": "yesterday"}, {"sort": "random"}, {"state": "maybe"},
                                    {"mission": "99999999999999999999"}, {"min_level": "nan"}, {"min_level": "high"}])
def test_it_reports_bad_filter_values_instead_of_guessing(client, people, catalog, params):
    response = login(people["viewer"]).get(INBOX, params)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    assert len(ids(response)) == 6  # the unfiltered queue under the message


def test_it_pages_the_queue(client, people, catalog, monkeypatch):
    monkeypatch.setattr(inbox, "PAGE_SIZE", 4)
    viewer = login(people["viewer"])
    first, second = viewer.get(INBOX), viewer.get(INBOX, {"page": 2})
    assert len(ids(first)) == 4 and len(ids(second)) == 2 and not set(ids(first)) & set(ids(second))
    assert 'id="next-page" href="?page=2"' in first.content.decode()
    filtered = viewer.get(INBOX, {"sort": "oldest"}).content.decode()
    assert 'href="?sort=oldest&amp;page=2"' in filtered  # the filters travel with the page


def test_the_counts_cover_every_state_of_the_filtered_events(client, people, catalog):
    first, second, third = ours().filter(score_run__video__mission=catalog["first"])[:3]
    Event.objects.filter(pk__in=[first.pk, second.pk]).update(review="confirmed")
    Event.objects.filter(pk=third.pk).update(review="dismissed")
    response = login(people["viewer"]).get(INBOX, {"mission": catalog["first"].pk})
    assert response.context["counts"] == {"unreviewed": 1, "confirmed": 2, "dismissed": 1, "total": 4}
    html = response.content.decode()
    assert re.search(r'data-count="unreviewed">1<', html) and re.search(r'data-count="confirmed">2<', html)


def test_a_change_events_row_carries_its_reference_frame(client, people):
    event, _ = change_run()
    response = login(people["viewer"]).get(INBOX)
    row = next(r for r in rows(response) if r["id"] == event.pk)
    assert row["reference"] == reverse("event_reference_thumbnail", args=[event.pk])
    assert row["compare"] == reverse("event_compare", args=[event.pk]) and "calm.mp4" in row["reference_line"]
    html = response.content.decode()
    assert reverse("event_reference_thumbnail", args=[event.pk]) in html and reverse("event_thumbnail", args=[event.pk]) in html
    assert login(people["viewer"]).get(row["reference"]).status_code == 200


def test_only_analysts_of_an_events_team_get_its_review_controls(client, people, catalog):
    ana = people["analyst"]
    give_role(ana, "viewer", catalog["south"])  # an analyst at home, a viewer in the South team
    data = {row["id"]: row["can_review"] for row in rows(login(ana).get(INBOX))}
    harbour = Event.objects.get(score_run__video__mission=catalog["harbour"])
    assert data.pop(harbour.pk) is False and all(data.values())
    viewer = login(people["viewer"]).get(INBOX).content.decode()
    assert 'id="confirm-event"' not in viewer and not any(r["can_review"] for r in rows(login(people["viewer"]).get(INBOX)))


def post_verdict(client, event, **body):
    return client.post(reverse("event_review", args=[event.pk]), json.dumps(body), content_type="application/json")


def test_a_verdict_from_the_inbox_is_stored_with_its_class_and_leaves_the_queue(client, people, catalog):
    analyst = login(people["analyst"])
    event = Event.objects.get(pk=ids(analyst.get(INBOX))[0])
    answer = post_verdict(analyst, event, review="confirmed", note="white hull", anomaly_class=" boat ")
    assert answer.status_code == 200 and answer.json()["anomaly_class"] == "boat"
    event.refresh_from_db()
    assert (event.review, event.anomaly_class, event.note, event.reviewer) == ("confirmed", "boat", "white hull",
                                                                                 people["analyst"])
    after = analyst.get(INBOX)
    assert event.pk not in ids(after) and after.context["counts"]["confirmed"] == 1
    assert after.context["counts"]["unreviewed"] == 5


def test_dismissing_clears_the_class_and_a_too_long_class_is_refused(client, people, catalog):
    analyst = login(people["analyst"])
    event = ours().first()
    post_verdict(analyst, event, review="confirmed", anomaly_class="boat")
    assert post_verdict(analyst, event, review="dismissed").json()["anomaly_class"] == ""
    refused = post_verdict(analyst, event, review="confirmed", anomaly_class="x" * 61)
    assert refused.status_code == 400 and "at most 60" in refused.json()["error"]
    assert post_verdict(analyst, event, review="confirmed", anomaly_class=7).status_code == 400
    event.refresh_from_db()
    assert (event.review, event.anomaly_class) == ("dismissed", "")


def test_undo_sends_back_what_the_event_was_and_returns_it_to_the_queue(client, people, catalog):
    analyst = login(people["analyst"])
    event = Event.objects.get(pk=ids(analyst.get(INBOX))[0])
    Event.objects.filter(pk=event.pk).update(note="seen from the ferry")
    previous = {"review": "unreviewed", "note": "seen from the ferry", "anomaly_class": ""}
    post_verdict(analyst, event, review="confirmed", note="a boat", anomaly_class="boat")
    assert event.pk not in ids(analyst.get(INBOX))
    undone = post_verdict(analyst, event, **previous)  # what inbox.js sends for u
    assert undone.status_code == 200
    event.refresh_from_db()
    assert (event.review, event.note, event.anomaly_class, event.reviewer, event.reviewed_at) == (
        "unreviewed", "seen from the ferry", "", None, None)
    back = analyst.get(INBOX)
    assert ids(back)[0] == event.pk and back.context["counts"] == {"unreviewed": 6, "confirmed": 0, "dismissed": 0,
                                                                  "total": 6}


def test_a_viewer_cannot_record_a_verdict(client, people, catalog):
    assert post_verdict(login(people["viewer"]), ours().first(), review="confirmed").status_code == 403


def test_the_dashboard_lists_unreviewed_events_per_mission_and_area_with_inbox_links(client, people, catalog):
    Event.objects.filter(pk=ours().filter(score_run__video__mission=catalog["first"]).first().pk).update(review="dismissed")
    response = login(people["viewer"]).get(reverse("dashboard"))
    attention = response.context["attention"]
    assert [(m["name"], m["count"]) for m in attention["missions"]] == [("Patrol 1", 3), ("Dawn", 1), ("Patrol 2", 1)]
    assert [(a["name"], a["count"], a["missions"]) for a in attention["areas"]] == [("North reef", 4, 2),
                                                                                  ("Outer skerries", 1, 1)]
    assert attention["total"] == 5 and attention["other_missions"] == 0
    html = response.content.decode()
    assert f'href="/inbox/?mission={catalog["first"].pk}"' in html
    assert f'href="/inbox/?area={catalog["outer"].area_id}"' in html
    assert "Harbour" not in html and "South harbour" not in html


def test_the_dashboard_says_when_nothing_needs_attention(client, people, catalog):
    Event.objects.update(review="confirmed")
    html = login(people["viewer"]).get(reverse("dashboard")).content.decode()
    assert "Nothing to review" in html


def test_the_dashboard_names_how_many_more_missions_wait(people, catalog):
    attention = inbox.needs_attention(people["viewer"], rows=2)
    assert len(attention["missions"]) == 2 and attention["other_missions"] == 1


def test_the_live_report_shows_the_review_counts_and_links_to_the_inbox(client, people, catalog):
    mission = catalog["first"]
    confirmed = Event.objects.filter(score_run__video__mission=mission).first()
    Event.objects.filter(pk=confirmed.pk).update(review="confirmed")
    response = login(people["viewer"]).get(reverse("mission_report", args=[mission.pk]), {"review": "confirmed"})
    assert response.context["counts"] == {"unreviewed": 3, "confirmed": 1, "dismissed": 0, "total": 4}
    html = response.content.decode()
    assert re.search(r"<strong>3</strong> unreviewed", html) and f'href="/inbox/?mission={mission.pk}"' in html


def test_the_standalone_reports_counts_cover_every_event_not_only_the_cards(people, catalog, monkeypatch):
    monkeypatch.setattr(exports, "STANDALONE_MAX_EVENTS", 1)
    mission = catalog["first"]
    Event.objects.filter(pk=Event.objects.filter(score_run__video__mission=mission).last().pk).update(review="dismissed")
    html = exports.standalone_report(mission, Event.objects.filter(score_run__video__mission=mission), {"data": [], "layout": {}})
    assert re.search(r"<strong>3</strong>unreviewed", html) and re.search(r"<strong>1</strong>dismissed", html)


def test_a_confirmed_events_class_is_its_label_and_is_exported(people, catalog):
    video = catalog["outer"].videos.get()
    video.intervals.all().delete()
    event = Event.objects.get(score_run__video=video)
    Event.objects.filter(pk=event.pk).update(review="confirmed", anomaly_class="debris")
    assert [i.anomaly_class for i in video.as_record().intervals] == ["debris"]
    rows = exports.event_rows(Event.objects.filter(pk=event.pk))
    assert rows[0]["anomaly_class"] == "debris" and "anomaly_class" in exports.events_csv(rows).splitlines()[0]


def test_the_class_choices_are_the_defaults_then_those_the_areas_intervals_and_events_use(catalog):
    area = catalog["first"].area
    events = Event.objects.filter(score_run__video__mission__area=area)
    Event.objects.filter(pk__in=[e.pk for e in events[:2]]).update(anomaly_class="kayak")
    Event.objects.filter(pk=events[2].pk).update(anomaly_class="buoy")
    LabelInterval.objects.create(video=catalog["second"].videos.get(), start=1, end=2, anomaly_class="seal")
    classes = classes_in_use(Area.objects.filter(pk=area.pk))
    assert classes == ["boat", "person", "vehicle", "debris", "oil", "kayak", "buoy", "seal"]  # most used first
    html = login(make_user("anna", "analyst")).get(INBOX).content.decode()
    assert '<option value="kayak">6 · kayak</option>' in html  # the inbox's class select: key 6
