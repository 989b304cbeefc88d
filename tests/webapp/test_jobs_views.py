"""The jobs page, its JSON feed and the cancel/retry actions, with named actors: viewer, analyst, outsider."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group, User
from django.template.loader import render_to_string

from tests.support.teams import give_role
from webapp.catalog.models import Area, Mission, Video
from webapp.jobs.models import Job

pytestmark = pytest.mark.django_db


def make_user(name: str, role: str | None) -> User:
    user = User.objects.create_user(username=name, password="pw-" + name)
    if role:
        give_role(user, role)
    return user


@pytest.fixture
def viewer(client):
    return make_user("vera", "viewer")


@pytest.fixture
def analyst():
    return make_user("anna", "analyst")


@pytest.fixture
def video():
    area = Area.objects.create(name="Harbour")
    mission = Mission.objects.create(area=area, name="Dawn", date=dt.date(2026, 5, 1))
    return Video.objects.create(mission=mission, original_name="dawn.mp4")


def test_it_lists_jobs_with_state_progress_stage_and_error(client, viewer, video):
    Job.objects.create(kind="ingest", video=video, state="running", progress=0.4, stage="sampling frames")
    Job.objects.create(kind="score", video=video, state="failed", error="disk full on /media")
    client.force_login(viewer)
    page = client.get("/jobs/").content.decode()
    assert "sampling frames" in page and "disk full on /media" in page and 'value="0.4"' in page
    assert "Dawn · 2026-05-01 · dawn.mp4" in page and "Cancel</button>" not in page, "viewers get no buttons"
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "the CSP forbids inline scripts"
    assert "jobs/jobs.js" in page


def test_analysts_get_cancel_and_retry_buttons(client, analyst, video):
    Job.objects.create(kind="ingest", video=video, state="queued")
    Job.objects.create(kind="score", video=video, state="failed", error="x")
    client.force_login(analyst)
    page = client.get("/jobs/").content.decode()
    assert "Cancel</button>" in page and "Retry</button>" in page


def test_the_feed_filters_by_video_detector_and_mission(client, viewer, video):
    mine = Job.objects.create(kind="ingest", video=video)
    for_mission = Job.objects.create(kind="score", mission=video.mission)
    Job.objects.create(kind="noop")
    client.force_login(viewer)

    def ids(query):
        return [j["id"] for j in client.get(f"/jobs/status.json?{query}").json()["jobs"]]

    assert ids(f"video={video.pk}") == [mine.pk]
    scoring = client.get(f"/jobs/status.json?ids={for_mission.pk}").json()["jobs"][0]
    assert scoring["target"] == "Harbour / Dawn (2026-05-01)", "a mission target says its date"
    assert sorted(ids(f"mission={video.mission.pk}")) == sorted([mine.pk, for_mission.pk])
    assert ids("detector=999") == []
    refused = client.get("/jobs/status.json?video=abc")
    assert refused.status_code == 400 and "video must be a whole number" in refused.json()["detail"]
    assert ids(f"ids={mine.pk}") == [mine.pk]
    job = client.get(f"/jobs/status.json?video={video.pk}").json()["jobs"][0]
    assert job["can_cancel"] is False and job["target"] == "Dawn · 2026-05-01 · dawn.mp4" and job["state"] == "queued"


def test_it_refuses_cancel_to_viewers_and_outsiders(client, viewer, video):
    job = Job.objects.create(kind="noop", video=video)
    client.force_login(viewer)
    assert client.post(f"/jobs/{job.pk}/cancel").status_code == 403
    client.force_login(make_user("olaf", None))
    assert client.get("/jobs/").status_code == 403
    job.refresh_from_db()
    assert job.state == Job.State.QUEUED


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get("/jobs/status.json").status_code == 302


def test_an_analyst_cancels_and_retries(client, analyst, video, django_capture_on_commit_callbacks):
    job = Job.objects.create(kind="noop", video=video)
    client.force_login(analyst)
    response = client.post(f"/jobs/{job.pk}/cancel", {"next": "/jobs/?state=cancelled"})
    assert response.status_code == 302 and response.url == "/jobs/?state=cancelled"
    job.refresh_from_db()
    assert job.state == Job.State.CANCELLED and "anna" in job.stage
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = client.post(f"/jobs/{job.pk}/retry", HTTP_ACCEPT="application/json")
    assert answer.json()["ok"] is True and answer.json()["job"]["state"] == "queued" and len(callbacks) == 1
    again = client.post(f"/jobs/{job.pk}/retry", HTTP_ACCEPT="application/json")
    assert again.status_code == 409 and "cannot be retried" in again.json()["message"]


def test_it_never_redirects_off_site(client, analyst, video):
    job = Job.objects.create(kind="noop", video=video)
    client.force_login(analyst)
    response = client.post(f"/jobs/{job.pk}/cancel", {"next": "https://evil.example/"})
    assert response.url == "/jobs/"


def test_the_include_follows_the_page_it_is_on(video):
    html = render_to_string("jobs/_job_list.html", {"jobs": [], "video": video, "mission": video.mission})
    assert f'data-jobs-filter="video={video.pk}&amp;limit=20"' in html
    html = render_to_string("jobs/_job_list.html", {"jobs": [], "mission": video.mission})
    assert f'data-jobs-filter="mission={video.mission.pk}&amp;limit=20"' in html


def test_the_feed_honours_a_limit(client, viewer, video):
    for _ in range(3):
        Job.objects.create(kind="ingest", video=video)
    client.force_login(viewer)
    assert len(client.get("/jobs/status.json?limit=2").json()["jobs"]) == 2
    assert len(client.get("/jobs/status.json?limit=x").json()["jobs"]) == 3


def test_the_include_renders_for_other_pages(video, rf, analyst):
    job = Job.objects.create(kind="ingest", video=video, state="running", progress=0.5, stage="decoding")
    html = render_to_string("jobs/_job_list.html", {"jobs": video.jobs.all(), "jobs_filter": f"video={video.pk}",
                                                    "user": analyst, "csrf_token": "t"})
    assert f'data-job-id="{job.pk}"' in html and f'data-jobs-filter="video={video.pk}"' in html
    assert "Cancel</button>" in html and "decoding" in html


# Who may start each kind (the pages and the API), written out by hand: cancel and retry need the same role.
MAY_START = {"ingest": "analyst", "train": "admin", "score": "analyst", "evaluate": "admin", "export": "analyst",
             "noop": "analyst"}
RANKS = {"viewer": 1, "analyst": 2, "admin": 3}
ACTS = [(kind, role) for kind in MAY_START for role in RANKS]


@pytest.mark.parametrize(("kind", "role"), ACTS)
def test_cancel_needs_the_role_that_may_start_the_kind(client, kind, role, video):
    job = Job.objects.create(kind=kind, video=video, state="queued")
    client.force_login(make_user(f"{role}-1", role))
    allowed = RANKS[role] >= RANKS[MAY_START[kind]]
    assert client.post(f"/jobs/{job.pk}/cancel").status_code == (302 if allowed else 403)
    job.refresh_from_db()
    assert job.state == (Job.State.CANCELLED if allowed else Job.State.QUEUED)


@pytest.mark.parametrize(("kind", "role"), ACTS)
def test_retry_needs_the_role_that_may_start_the_kind(client, kind, role, video, django_capture_on_commit_callbacks):
    job = Job.objects.create(kind=kind, video=video, state="failed", error="boom")
    client.force_login(make_user(f"{role}-1", role))
    allowed = RANKS[role] >= RANKS[MAY_START[kind]]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = client.post(f"/jobs/{job.pk}/retry", HTTP_ACCEPT="application/json")
    assert answer.status_code == (200 if allowed else 403)
    job.refresh_from_db()
    assert (job.state, len(callbacks)) == ((Job.State.QUEUED, 1) if allowed else (Job.State.FAILED, 0))


def test_analysts_get_no_buttons_for_an_admins_training_job(client, analyst, video):
    training = Job.objects.create(kind="train", video=video, state="failed", error="x")
    scoring = Job.objects.create(kind="score", video=video, state="failed", error="y")
    client.force_login(analyst)
    page = client.get("/jobs/").content.decode()
    assert f'action="/jobs/{training.pk}/retry"' not in page and f'action="/jobs/{scoring.pk}/retry"' in page
    feed = {row["id"]: row for row in client.get("/jobs/status.json").json()["jobs"]}
    assert feed[training.pk]["can_retry"] is False and feed[scoring.pk]["can_retry"] is True
    client.force_login(make_user("ada", "admin"))
    feed = {row["id"]: row for row in client.get("/jobs/status.json").json()["jobs"]}
    assert feed[training.pk]["can_retry"] is True


def test_a_missing_job_is_not_found_for_those_who_may_act(client, analyst):
    client.force_login(analyst)
    assert client.post("/jobs/424242/cancel").status_code == 404


def test_a_job_without_a_target_is_the_site_admins_alone(client, analyst):
    job = Job.objects.create(kind="noop", state="failed", error="x")
    client.force_login(analyst)
    assert client.get("/jobs/status.json").json()["jobs"] == []
    assert client.post(f"/jobs/{job.pk}/retry").status_code == 404
    boss = make_user("bo", None)
    boss.groups.add(Group.objects.get_or_create(name="admin")[0])
    client.force_login(boss)
    assert client.get("/jobs/status.json").json()["jobs"] == [], "no-op jobs are internal"
    assert [j["id"] for j in client.get("/jobs/status.json?kind=noop").json()["jobs"]] == [job.pk]


def test_internal_job_kinds_are_hidden_unless_asked_for_by_name(client, analyst, video):
    ingest = Job.objects.create(kind="ingest", video=video)
    internal = Job.objects.create(kind="noop", video=video)
    client.force_login(analyst)
    page = client.get("/jobs/").content.decode()
    assert f'data-job-id="{ingest.pk}"' in page and f'data-job-id="{internal.pk}"' not in page
    assert '<option value="noop"' not in page and '<option value="ingest"' in page, "the kind filter offers user kinds"
    assert [j["id"] for j in client.get(f"/jobs/status.json?video={video.pk}").json()["jobs"]] == [ingest.pk]
    assert [j["id"] for j in client.get("/jobs/status.json?kind=noop").json()["jobs"]] == [internal.pk]


def test_the_jobs_page_is_paginated_and_its_feed_follows_the_page(client, viewer, video):
    from webapp.jobs.views import JOBS_PER_PAGE

    jobs = [Job.objects.create(kind="ingest", video=video) for _ in range(JOBS_PER_PAGE + 3)]
    client.force_login(viewer)
    first = client.get("/jobs/").content.decode()
    assert first.count('class="job-row') == JOBS_PER_PAGE and f"1–{JOBS_PER_PAGE} of {JOBS_PER_PAGE + 3} jobs" in first
    assert 'href="?page=2"' in first and 'data-jobs-filter="page=1"' in first
    second = client.get("/jobs/?page=2&state=queued").content.decode()
    oldest = sorted(j.pk for j in jobs)[:3]
    assert second.count('class="job-row') == 3 and all(f'data-job-id="{pk}"' in second for pk in oldest)
    assert 'data-jobs-filter="state=queued&amp;page=2"' in second and 'href="?state=queued&amp;page=1"' in second
    feed = client.get("/jobs/status.json?state=queued&page=2").json()["jobs"]
    assert sorted(j["id"] for j in feed) == oldest
    assert client.get("/jobs/?page=99").status_code == 200, "past the end is the last page"
