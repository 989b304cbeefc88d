"""In chromium: the mission report's level filter keeps the MIL and CAE events that pass their thresholds (level
>= 1) although their raw scores live on scales 60 times apart; and the missions list finds a mission by search.
Full-page screenshots (the page fixture's 1440x900) of both pages go to test-artifacts/."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.support.browser import log_in, screenshot, submit, wait_until
from tests.support.seed import make_mission, make_user, put_on_real_scales, seed_scored_video
from webapp.catalog.models import Mission
from webapp.jobs.models import Job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-report-levels-test-password"


def card_kinds(page) -> list[str]:
    return page.eval_on_selector_all(".event-card", "cards => cards.map(c => c.dataset.kind)")


def test_the_level_filter_keeps_mil_and_cae_events_that_pass_their_thresholds(page, live_server):
    mission = make_mission()
    seed_scored_video(mission, name="a.mp4", anomalies=((10.0, 14.0, "boat"), (40.0, 44.0, "person")),
                      kinds=("cae", "mil"), seed=1)
    seed_scored_video(mission, name="b.mp4", anomalies=((30.0, 33.0, "boat"),), seed=2)
    put_on_real_scales(mission)
    make_user("vera", "viewer", password=PASSWORD)
    log_in(page, "vera", PASSWORD)

    page.goto(f"/missions/{mission.pk}/report/")
    page.fill("#min-level", "1")
    submit(page, ".filters button[type=submit]")
    assert "min_level=1" in page.url
    kinds = card_kinds(page)
    assert sorted(kinds) == ["cae", "cae", "cae", "mil", "mil"] and kinds[:3] == ["cae", "cae", "mil"]
    tooltip = page.locator(".event-card[data-kind=mil] .level").first.get_attribute("title")
    assert "raw MIL score 0.980, threshold 0.500" in tooltip
    wait_until(page, "document.getElementById('strip').dataset.ready === '1'")
    wait_until(page, "Array.from(document.querySelectorAll('.event-card img')).every(i => i.complete && i.naturalWidth > 0)")
    screenshot(page, "report-levels")

    page.fill("#min-level", "2")
    submit(page, ".filters button[type=submit]")
    assert card_kinds(page) == ["cae", "cae", "mil"], "a higher level keeps the strongest of both kinds"
    assert page.console_errors == []


def test_videos_are_named_with_their_mission_and_date(page, live_server):
    mission = make_mission(name="Dawn patrol")
    video = seed_scored_video(mission, name="patrol.mp4", kinds=("cae", "mil")).video
    put_on_real_scales(mission)
    Job.objects.create(kind=Job.Kind.INGEST, video=video, state=Job.State.SUCCEEDED, progress=1.0, stage="done")
    Job.objects.create(kind=Job.Kind.NOOP, video=video, state=Job.State.SUCCEEDED, progress=1.0)  # visible, yet internal
    make_user("vera", "viewer", password=PASSWORD)
    log_in(page, "vera", PASSWORD)
    named = "Dawn patrol · 2026-06-01 · patrol.mp4"

    page.goto("/")
    attention = page.locator("table[aria-label='Unreviewed events per mission']").inner_text()
    assert "Dawn patrol" in attention and "2026" in attention
    screenshot(page, "dashboard-levels")
    page.goto(f"/videos/{video.pk}/")
    assert page.title().startswith(named)
    screenshot(page, "video-page-title")
    page.goto("/jobs/")
    wait_until(page, "Number(document.querySelector('.job-list').dataset.polls || 0) > 0")  # redrawn by the feed
    rows = page.locator(".job-row")
    assert rows.count() == 1 and named in rows.first.inner_text(), "no-op jobs are not listed"
    screenshot(page, "jobs-page-names")
    assert page.console_errors == []


def test_the_missions_list_searches_and_pages(page, live_server):
    first = make_mission(area_name="North reef", name="Dawn patrol")
    for day in range(1, 30):
        Mission.objects.create(area=first.area, name=f"Patrol day {day}", date=dt.date(2026, 6, 1) + dt.timedelta(days=day),
                               drone="Mavic 3" if day % 2 else "Matrice 30", notes="Oil sheen by the jetty" if day == 7 else "")
    make_user("vera", "viewer", password=PASSWORD)
    log_in(page, "vera", PASSWORD)

    page.goto("/")
    submit(page, "nav[aria-label=Main] a:has-text('Missions')")
    assert page.locator("#missions tbody tr").count() == 25 and page.locator(".pager a[rel=next]").count() == 1
    screenshot(page, "missions-list")
    page.fill("input[name=q]", "sheen")
    submit(page, ".mission-search button[type=submit]")
    assert page.locator("#missions tbody tr a").first.inner_text() == "Patrol day 7"
    assert page.locator("#missions tbody tr").count() == 1
    screenshot(page, "missions-list-search")
    assert page.console_errors == []
