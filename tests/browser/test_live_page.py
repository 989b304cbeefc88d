"""The live page of a running stream in a real browser: FFmpeg publishes, a real worker scores, an alert arrives."""

from __future__ import annotations

import time

import pytest

from tests.support.browser import log_in, screenshot, submit, wait_until
from tests.support.live import flight, live_mission, trained_cae
from tests.support.publish import free_port, publish, stop
from tests.support.seed import make_user
from webapp.jobs.models import Job
from webapp.live.models import LiveStream

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-live-page-test-password"
LIVE_ENV = {"SKERRY_SAMPLE_SIZE": "32", "SKERRY_LIVE_END_AFTER": "3", "SKERRY_LIVE_CONNECT_TIMEOUT": "30",
            "SKERRY_LIVE_SEGMENT_SECONDS": "2"}


@pytest.fixture
def live_worker(worker_factory, settings):
    worker = worker_factory("live-page", queues="live,cpu", **LIVE_ENV)
    settings.MEDIA_ROOT = worker.media_root
    return worker


def test_the_live_page_of_a_running_stream_receives_an_alert(live_worker, page, live_server, tmp_path):
    mission = live_mission("Evening patrol")
    trained_cae(mission.area, tmp_path)
    make_user("lina", "analyst", password=PASSWORD)
    source = flight(tmp_path / "patrol.mp4", seconds=14.0, box_from=7.0, box_until=10.0, offset=300)
    port = free_port()
    publisher = publish(source, f"tcp://127.0.0.1:{port}", listen=True)
    try:
        log_in(page, "lina", PASSWORD)
        page.goto(f"/missions/{mission.pk}/live/")
        page.fill("#live-url", f"tcp://127.0.0.1:{port}")
        submit(page, "form button[type=submit].primary")
        page.wait_for_selector("#live-state.state-live", timeout=30_000)
        wait_until(page, "document.getElementById('live-line').getAttribute('points').split(' ').length > 2",
                   timeout=20)
        wait_until(page, "document.querySelector('#live-alert-list li[data-event]') !== null", timeout=30)
        link = page.locator("#live-alert-list li[data-event] a").first
        assert "/review/?t=" in link.get_attribute("href")
        assert link.inner_text().strip().startswith("CAE: ")  # the alert names the detector that raised it
        assert page.locator("#live-alert-list li[data-event] .level-chip").count() >= 1
        assert page.evaluate("document.getElementById('live-frame').naturalWidth") == 160
        screenshot(page, "live-page-alert", full_page=False)
        job = live_worker.wait_for(Job.objects.get(kind=Job.Kind.LIVE, mission=mission), timeout=90)
        assert job.state == Job.State.SUCCEEDED, job.error
        page.wait_for_selector("#live-recording", timeout=30_000)  # the page reloads itself when the flight ends
        assert page.locator("#live-state").inner_text() == "Ended"
        assert page.locator("button:has-text('Stop and keep the recording')").count() == 0
        stream = LiveStream.objects.get(mission=mission)
        assert stream.alerts >= 1
        assert page.console_errors == []
        screenshot(page, "live-page-ended", full_page=False)
        page.goto("about:blank")  # closes the event stream while the test database is still there
        time.sleep(1.5)
    finally:
        stop(publisher)
