"""In a real browser: the review page seeks the player from the timeline and saves a verdict from the keyboard;
the mission report shows heatmap cards (screenshot kept in test-artifacts/). The detector page's slider:
test_detector_threshold.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse

from tests.support.browser import launch
from tests.support.seed import make_mission, make_user, seed_scored_video
from webapp.detectors.models import Event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
NO_WEBGL = ("--disable-webgl",)  # the timeline must then fall back to SVG traces


@pytest.fixture
def browser_page(live_server, playwright, request):
    # (Every wait below passes a function, not an expression: expressions are eval'd in the page, which the CSP
    # rightly refuses.) The shared Playwright driver keeps an event loop in this thread; ORM calls stay sync.
    webgl = getattr(request, "param", "webgl") == "webgl"
    browser = launch(playwright, () if webgl else NO_WEBGL)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.problems = []  # script errors, CSP refusals, failed requests (but the favicon nobody ships)
    page.on("console", lambda m: m.type == "error" and "Failed to load resource" not in m.text
            and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico")
            and page.problems.append(f"{r.status} {r.url}"))
    yield page
    context.close()
    browser.close()


def log_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])


@pytest.fixture
def seeded():
    mission = make_mission()
    seeded = seed_scored_video(mission, name="reef.mp4", seconds=60, frame_size=48, heatmap_size=12,
                               anomalies=((20.0, 26.0, "boat"),), kinds=("cae", "mil"), proxy=True, seed=7)
    seed_scored_video(mission, name="harbour.mp4", seconds=40, frame_size=48, heatmap_size=12,
                      anomalies=((8.0, 12.0, "person"),), seed=8)
    return seeded


def timeline_point(page, seconds: float) -> tuple[float, float]:
    """Page coordinates of `seconds` on the timeline's x axis, in the first detector's row."""
    return page.evaluate(
        """(t) => { const gd = document.getElementById('timeline'); const box = gd.getBoundingClientRect();
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        return [box.left + xa._offset + xa.d2p(t), box.top + ya._offset + ya._length / 2]; }""",
        seconds,
    )


@pytest.mark.parametrize("browser_page", ["webgl", "svg"], indirect=True)
def test_review_page_seeks_from_the_timeline_and_confirms_with_the_keyboard(live_server, browser_page, seeded, request):
    page = browser_page
    analyst = make_user("ana", "analyst")
    log_in(page, live_server, analyst)
    page.goto(live_server.url + reverse("video_review", args=[seeded.video.pk]))
    page.wait_for_selector("body[data-review-ready='1']", timeout=20_000)
    page.wait_for_function("() => document.getElementById('player').readyState >= 1", timeout=20_000)

    renderer = page.evaluate("() => document.getElementById('timeline').dataset.renderer")
    assert renderer == request.node.callspec.params["browser_page"]
    assert "WebGL is not supported" not in page.inner_text("#timeline")
    x, y = timeline_point(page, 40.0)
    page.mouse.move(x, y)  # as a person does: hover shows the score under the pointer, then click
    page.wait_for_selector("#timeline .hoverlayer .hovertext", timeout=10_000)
    page.mouse.click(x, y)
    page.wait_for_function("() => Math.abs(document.getElementById('player').currentTime - 40) < 1.0", timeout=10_000)
    page.wait_for_function("""() => { const shapes = document.getElementById('timeline').layout.shapes;
        return Math.abs(shapes[shapes.length - 1].x0 - 40) < 1.0; }""")  # the cursor follows the player

    page.keyboard.press("p")  # back to the latest event starting before 40 s: the CAE's, inside the MIL's
    event = Event.objects.get(score_run=seeded.runs["cae"])
    page.wait_for_function(f"() => Math.abs(document.getElementById('player').currentTime - {event.start}) < 0.6")
    assert "CAE v1" in page.inner_text("#event-info")
    page.wait_for_function(  # the heatmap of a frame inside the anomaly is drawn over the video
        """() => { const c = document.getElementById('heatmap-canvas'); if (!c.width) return false;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 200) return true; return false; }""", timeout=10_000)

    page.fill("#review-note", "boat by the reef")
    page.locator("#timeline").click(position={"x": 5, "y": 5})  # leave the note field; the key goes to the page
    page.keyboard.press("c")
    page.wait_for_selector("#review-status:has-text('Saved')", timeout=10_000)
    event.refresh_from_db()
    assert (event.review, event.reviewer, event.note) == ("confirmed", analyst, "boat by the reef")
    assert Event.objects.filter(review=Event.Review.CONFIRMED).count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"review-page-{renderer}.png"), full_page=True)
    # Zooming redraws the visible span from the full-resolution data sent with the page (no request).
    xs = page.evaluate("""async () => { const gd = document.getElementById('timeline');
        await Plotly.relayout(gd, {'xaxis.range': [30, 35]}); await new Promise(r => setTimeout(r, 300));
        return Array.from(gd.data[0].x); }""")
    assert 10 <= len(xs) <= 14 and 29 <= min(xs) and max(xs) <= 36  # 2 fps: the ~11 frames around 30-35 s
    assert not page.problems, page.problems  # includes any CSP refusal of plotly.js (WebGL or SVG)


def test_mission_report_shows_heatmap_cards(live_server, browser_page, seeded):
    page = browser_page
    log_in(page, live_server, make_user("vera", "viewer"))
    Event.objects.exclude(score_run__video=seeded.video).update(level=None)  # cards of the proxied flight first
    page.goto(live_server.url + reverse("mission_report", args=[seeded.video.mission_id]))
    page.wait_for_selector("#strip[data-ready='1']", timeout=20_000)
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.event-card img')).every(i => i.complete && i.naturalWidth > 0)")
    assert page.locator(".event-card").count() == Event.objects.count() >= 3
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "mission-report.png"), full_page=True)
    assert not page.problems, page.problems

    # The first card (the highest level of the flight with a browser proxy) opens its event on the review page.
    top = Event.objects.order_by(F("level").desc(nulls_last=True), "-peak_score").first()
    page.locator(".event-card .thumb").first.click()
    page.wait_for_selector("body[data-review-ready='1']", timeout=20_000)
    assert f"{top.start:.1f}" in page.inner_text("#event-info")
    page.wait_for_function("(t) => Math.abs(document.getElementById('player').currentTime - t) < 0.6", arg=top.peak_time)

    harbour = Event.objects.exclude(score_run__video=seeded.video).first().score_run.video  # no browser proxy
    page.goto(live_server.url + reverse("video_review", args=[harbour.pk]))
    page.wait_for_selector("body[data-review-ready='1']", timeout=20_000)
    page.wait_for_function("() => { const i = document.getElementById('still'); return i.complete && i.naturalWidth > 0; }")
    assert not page.problems, page.problems
