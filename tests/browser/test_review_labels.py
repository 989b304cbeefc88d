"""In a real browser: the review timeline seeks to the clicked time even on a peak marker; an interval's class
is set and edited from the keyboard; marking an anomalous video normal asks first. Screenshots (1440x900, full
page) of the review page, the video page and the heatmap view are kept in test-artifacts/."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.support.browser import log_in, screenshot, wait_until
from tests.support.seed import make_mission, make_user, seed_scored_video
from webapp.catalog.models import LabelInterval, Video
from webapp.detectors.levels import level_of
from webapp.detectors.models import Event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-browser-test-password"


@pytest.fixture
def seeded():
    video = seed_scored_video(make_mission(), name="reef.mp4", seconds=60, frame_size=48, heatmap_size=12,
                              anomalies=((20.0, 26.0, "boat"),), kinds=("cae", "mil"), proxy=True, seed=7)
    Video.objects.filter(pk=video.video.pk).update(width=1920, height=1080)  # a drone's 16:9
    for event in Event.objects.select_related("score_run__detector"):  # as scoring records them
        event.level = level_of(event.score_run.detector, event.peak_score, event.score_run.threshold)
        event.save(update_fields=["level"])
    return video


@pytest.fixture
def analyst_page(page):
    page.set_viewport_size({"width": 1440, "height": 900})
    make_user("anna", "analyst", password=PASSWORD)
    log_in(page, "anna", PASSWORD)
    return page


def marker_point(page, event_id: int) -> tuple[float, float]:
    """Page coordinates of an event's peak marker on the timeline."""
    return page.evaluate(
        """(id) => { const gd = document.getElementById('timeline'), box = gd.getBoundingClientRect();
        const trace = gd.data.find(t => t.meta && t.meta.role === 'events' && Array.from(t.customdata).includes(id));
        const i = Array.from(trace.customdata).indexOf(id);
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout['yaxis' + (trace.yaxis === 'y' ? '' : trace.yaxis.slice(1))];
        return [box.left + xa._offset + xa.d2p(trace.x[i]), box.top + ya._offset + ya.d2p(trace.y[i])]; }""",
        event_id,
    )


def test_clicking_the_timeline_near_a_peak_marker_seeks_to_the_clicked_time(analyst_page, seeded):
    page = analyst_page
    event = Event.objects.get(score_run=seeded.runs["cae"])
    assert event.peak_time - event.start > 1.0  # else "the start" and "the click" could not be told apart
    page.goto(reverse("video_review", args=[seeded.video.pk]))
    wait_until(page, "document.body.dataset.reviewReady === '1'", timeout=30)
    wait_until(page, "document.getElementById('player').readyState >= 1", timeout=30)
    x, y = marker_point(page, event.pk)
    page.mouse.move(x + 4, y)  # on the marker's edge, a little after its peak
    page.mouse.click(x + 4, y)
    clicked = page.evaluate("""(px) => { const gd = document.getElementById('timeline'), xa = gd._fullLayout.xaxis;
        return xa.p2d(px - gd.getBoundingClientRect().left - xa._offset); }""", x + 4)
    assert clicked > event.peak_time
    wait_until(page, f"Math.abs(document.getElementById('player').currentTime - {clicked}) < 0.15")
    assert abs(page.evaluate("document.getElementById('player').currentTime") - event.start) > 1.0
    assert f"Event #{event.pk} " in page.inner_text("#event-info")  # the marker still selects its event

    page.fill("#review-note", "boat by the reef")
    page.click("#confirm-event")
    page.wait_for_selector("#review-status:has-text('Saved')")
    assert page.inner_text("#event-note").startswith("Saved note: “boat by the reef” — anna")
    assert page.inner_text(f"tr[data-event='{event.pk}'] .review-note") == "boat by the reef"
    page.mouse.move(0, 0)
    screenshot(page, "review-page-1440x900")
    assert page.console_errors == []


def test_an_intervals_class_is_set_and_edited_from_the_keyboard(analyst_page, seeded):
    page = analyst_page
    interval = LabelInterval.objects.get(video=seeded.video)
    page.goto(seeded.video.get_absolute_url())
    page.wait_for_selector(f"tr[data-interval-id='{interval.pk}']")
    page.locator("h1").click()  # keyboard focus on the page
    page.keyboard.press("ArrowDown")  # selects the first interval
    page.wait_for_selector(f"tr.selected[data-interval-id='{interval.pk}']")
    page.keyboard.press("2")  # the second class offered: person
    page.wait_for_selector(f"tr[data-interval-id='{interval.pk}'] td:nth-child(3):has-text('person')")
    interval.refresh_from_db()
    assert interval.anomaly_class == "person"

    page.keyboard.press("e")  # edit: focus in the start field
    page.wait_for_selector("tr.editing input[data-field='start']:focus")
    page.keyboard.press("Tab")
    page.keyboard.press("Control+a")
    page.keyboard.type("25.5")  # a new end
    page.keyboard.press("Tab")
    page.keyboard.press("Control+a")
    page.keyboard.type("kayak")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"tr[data-interval-id='{interval.pk}'] td:nth-child(3):has-text('kayak')")
    interval.refresh_from_db()
    assert (interval.start, interval.end, interval.anomaly_class) == (20.0, 25.5, "kayak")

    page.keyboard.press("e")  # a bad edit is refused with its reason and the row keeps its values
    page.wait_for_selector("tr.editing input[data-field='start']:focus")
    page.keyboard.press("Control+a")
    page.keyboard.type("30")
    page.keyboard.press("Enter")
    page.wait_for_selector("#interval-error:has-text('must come after start')")
    page.keyboard.press("Escape")
    page.wait_for_selector("tr.editing", state="detached")
    interval.refresh_from_db()
    assert interval.start == 20.0
    screenshot(page, "video-page-intervals-1440x900")
    assert page.console_errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]


def test_marking_an_anomalous_video_normal_asks_first(analyst_page, seeded):
    page = analyst_page
    video = seeded.video
    page.goto(video.get_absolute_url())
    page.wait_for_selector("#interval-rows tr")
    # An imported label has no labeller: the page says what the buttons show, not "Not labelled yet".
    assert page.get_attribute("#label-buttons [data-label='anomalous']", "aria-pressed") == "true"
    assert page.inner_text("#label-status").startswith("Labelled anomalous")

    page.locator("h1").click()
    page.keyboard.press("n")
    page.wait_for_selector("#label-confirm[open]")
    assert "1 anomalous interval" in page.inner_text("#label-confirm-text")
    screenshot(page, "video-page-confirm-normal", full_page=False)
    page.keyboard.press("Enter")  # the focused answer is the safe one: keep them
    page.wait_for_selector("#label-confirm", state="hidden")
    video.refresh_from_db()
    assert video.label == "anomalous" and LabelInterval.objects.filter(video=video).count() == 1
    assert page.get_attribute("#label-buttons [data-label='anomalous']", "aria-pressed") == "true"

    page.click("#label-buttons [data-label='normal']")
    page.wait_for_selector("#label-confirm[open]")
    page.click("#label-confirm-yes")
    page.wait_for_selector("#label-status:has-text('Labelled normal by anna')")
    video.refresh_from_db()
    assert video.label == "normal" and not LabelInterval.objects.filter(video=video).exists()
    assert page.get_attribute("#label-buttons [data-label='normal']", "aria-pressed") == "true"
    assert page.locator("#interval-rows tr").count() == 0
    assert page.console_errors == []


def test_the_heatmap_view_zooms_at_the_videos_aspect_ratio(analyst_page, seeded):
    page = analyst_page
    event = Event.objects.get(score_run=seeded.runs["cae"])
    page.goto(reverse("event_heatmap", args=[event.pk]))
    wait_until(page, "document.body.dataset.heatmapReady === '1'")
    wait_until(page, "document.getElementById('stage-image').naturalWidth > 0")
    assert page.evaluate("[document.getElementById('stage-image').naturalWidth,"
                         " document.getElementById('stage-image').naturalHeight]") == [960, 540]
    width = page.evaluate("document.getElementById('stage-image').getBoundingClientRect().width")
    page.locator("h1").click()
    page.keyboard.press("+")
    page.keyboard.press("+")
    wait_until(page, f"document.getElementById('stage-image').getBoundingClientRect().width > {width} * 1.5")
    assert page.inner_text("#zoom-readout") == "1.56×"
    page.keyboard.press("2")  # the second image (the heatmap) in the large view
    wait_until(page, "document.getElementById('stage-image').src.endsWith('/heatmap.png')")
    page.keyboard.press("0")
    screenshot(page, "heatmap-view-1440x900")
    assert page.console_errors == []
