"""The CHANGE pages in chromium over stored results (no worker): the compare view's modes and heatmap toggle,
the report's paired thumbnails, the train form and the detector page's reference flights."""

from __future__ import annotations

import pytest

from tests.support.browser import log_in, screenshot, wait_until
from tests.support.seed import make_user
from tests.webapp.test_change_compare import change_run
from webapp.detectors.models import Detector

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-change-pages-test-password"


def test_the_compare_view_swipes_blinks_and_hides_the_heatmap(page, live_server):
    event, reference = change_run()
    make_user("olga", "admin", password=PASSWORD)
    log_in(page, "olga", PASSWORD)

    page.goto(f"/missions/{event.score_run.video.mission_id}/report/")
    wait_until(page, "Array.from(document.querySelectorAll('.thumb.pair img')).every(i => i.complete && i.naturalWidth > 0)")
    screenshot(page, "change-report-cards-seeded")

    page.goto(f"/events/{event.pk}/compare/")
    wait_until(page, "Array.from(document.querySelectorAll('#compare img')).every(i => i.complete && i.naturalWidth > 0)")
    assert reference.original_name in page.locator("#reference-line").inner_text()
    screenshot(page, "change-compare-seeded")
    page.click("#compare-modes button[data-mode=swipe]")
    page.fill("#compare-swipe", "30")
    page.dispatch_event("#compare-swipe", "input")
    assert page.locator("#panel-reference").get_attribute("style").startswith("clip-path: inset(0px 70%")
    screenshot(page, "change-compare-swipe-seeded")
    page.keyboard.press("b")
    wait_until(page, "document.getElementById('compare').classList.contains('show-reference')", timeout=5)
    page.keyboard.press("h")
    assert page.locator(".compare-heat").first.is_hidden()

    page.goto(f"/videos/{event.score_run.video_id}/review/?event={event.pk}")
    page.wait_for_selector("#compare-link:not([hidden])")
    screenshot(page, "change-review-seeded")

    detector = event.score_run.detector
    detector.reference_videos.set([reference])
    page.goto(detector.get_absolute_url())
    screenshot(page, "change-detector-seeded")
    page.goto(detector.area.get_absolute_url())
    assert page.locator("select[name=kind]").input_value() == Detector.Kind.CHANGE
    screenshot(page, "change-area-seeded")
    assert page.console_errors == []
