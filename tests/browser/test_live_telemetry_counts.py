"""The live page says how much telemetry arrived and how many compared frames CHANGE matched by it: from the row
when the page opens, then from the worker's state messages (published here, as the worker does)."""

from __future__ import annotations

import time

import pytest

from tests.support.browser import log_in, screenshot, wait_until
from tests.support.live import live_mission
from tests.support.seed import make_user
from webapp.catalog.models import Video
from webapp.live.feed import Publisher
from webapp.live.models import LiveStream

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-live-telemetry-test-password"


def test_the_live_page_shows_the_telemetry_received_and_the_frames_matched_by_it(page, live_server, settings,
                                                                                  tmp_path):
    settings.MEDIA_ROOT, settings.REDIS_URL = tmp_path, ""  # the feed as a file the page's event stream follows
    mission = live_mission("Telemetry patrol")
    video = Video.objects.create(mission=mission, original_name="live.mp4", status=Video.Status.RECORDING)
    stream = LiveStream.objects.create(mission=mission, url="tcp://10.0.0.5:9000", video=video,
                                       state=LiveStream.State.LIVE, recorded_seconds=12.0)
    make_user("lina", "viewer", password=PASSWORD)
    log_in(page, "lina", PASSWORD)
    page.goto(f"/missions/{mission.pk}/live/")
    assert page.locator("#live-telemetry").inner_text() == "Telemetry: none received"  # CHANGE not compared yet
    time.sleep(1.0)  # the page's event stream subscribes
    Publisher(stream.pk).publish({"type": "state", "state": "live", "recorded": 14.0, "gaps": [], "telemetry": {
        "poses": 140, "change_compared": 9, "change_by_telemetry": 4}})
    wait_until(page, "document.getElementById('live-telemetry').innerText.includes('140')", timeout=15)
    assert page.locator("#live-telemetry").inner_text() == (
        "Telemetry: 140 poses received · CHANGE matched by telemetry: 4 of 9 compared frames")
    screenshot(page, "live-page-telemetry", full_page=False)
    LiveStream.objects.filter(pk=stream.pk).update(pose_count=1, change_compared=3, change_by_telemetry=0)
    page.reload()
    assert page.locator("#live-telemetry").inner_text() == (
        "Telemetry: 1 pose received · CHANGE matched by telemetry: 0 of 3 compared frames")
    assert page.console_errors == []
    page.goto("about:blank")  # closes the event stream while the test database is still there
