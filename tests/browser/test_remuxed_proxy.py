"""In a real browser: a remuxed proxy (an H.264 upload's packets copied, not re-encoded) plays and seeks to the
right frame on the video page and in the review player, with keyframes as far apart as a remux accepts."""

from __future__ import annotations

import numpy as np
import pytest

from detection.video.proxy import REMUX_MAX_KEYFRAME_SECONDS, REMUXED
from tests.support.browser import log_in, screenshot, wait_until
from tests.support.jobs import ingest_job, uploaded_video
from tests.support.seed import make_user, score_video
from tests.support.videos import make_video
from webapp.catalog.models import Video
from webapp.detectors.models import Detector
from webapp.reports.strip import review_url_at
from workers.claim import run_job
from workers.ingest import run_ingest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-browser-test-password"
FPS, SECONDS = 10, 8.0


def grey(index: int) -> np.ndarray:
    """Frame `index` is one flat grey, 20 + 5 * (index mod 40): the picture tells which frame is shown."""
    return np.full((120, 160, 3), 20 + 5 * (index % 40), dtype=np.uint8)


def shown_frame(page) -> int:
    """The index (mod 40) of the frame the player shows, read from its pixels after the seek has finished."""
    wait_until(page, "!document.getElementById('player').seeking && document.getElementById('player').readyState >= 2")
    value = page.evaluate("""() => { const v = document.getElementById('player'); const c = document.createElement('canvas');
        c.width = v.videoWidth; c.height = v.videoHeight; const g = c.getContext('2d'); g.drawImage(v, 0, 0);
        return g.getImageData(c.width / 2, c.height / 2, 1, 1).data[0]; }""")
    return round((value - 20) / 5)


def seek(page, seconds: float) -> int:
    page.evaluate(f"document.getElementById('player').currentTime = {seconds}")
    return shown_frame(page)


def test_a_remuxed_proxy_seeks_to_the_right_frames(page, live_server, tmp_path):
    gop = int(REMUX_MAX_KEYFRAME_SECONDS * FPS)
    source = make_video(tmp_path / "flat.mp4", seconds=SECONDS, fps=FPS, width=160, height=120, gop=gop, scene=grey)
    video = uploaded_video(source, "flat.mp4")
    assert run_job(ingest_job(video).pk, run_ingest, worker="test") == "succeeded"
    video.refresh_from_db()
    assert video.status == Video.Status.READY and video.proxy_method == REMUXED
    make_user("ana", "analyst", password=PASSWORD)
    log_in(page, "ana", PASSWORD)

    page.goto(video.get_absolute_url())
    assert page.inner_text("#proxy-method") == "Remuxed: the video is browser-playable H.264, its packets were copied"
    wait_until(page, "document.getElementById('player').readyState >= 1")
    assert page.evaluate("document.getElementById('player').duration") == pytest.approx(SECONDS, abs=0.11)
    # Mid-keyframe-interval seeks decode from the keyframe before them (at 0 s and 4 s) and land on the frame.
    for seconds in (0.0, 1.25, 3.95, 4.0, 6.55, 7.85):
        assert seek(page, seconds) == int(seconds * FPS + 1e-6) % 40, seconds
    screenshot(page, "remuxed-proxy-video-page")

    detector = Detector.objects.create(area=video.mission.area, kind="cae", name="CAE", status="ready", is_active=True,
                                       threshold=1.0)
    score_video(video, detector, np.arange(int(SECONDS * 2)) / 2.0, ((5.5, 6.5, "boat"),), 8, 0)
    page.goto(review_url_at(video.pk, 6.35))  # where a live alert's link opens the review
    page.wait_for_selector("body[data-review-ready='1']", timeout=20_000)
    wait_until(page, "Math.abs(document.getElementById('player').currentTime - 6.35) < 0.01")
    assert shown_frame(page) == 63 % 40
    screenshot(page, "remuxed-proxy-review")
    assert not page.console_errors, page.console_errors
