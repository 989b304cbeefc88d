"""The CHANGE detector in a real browser against a real worker: an admin trains one from the area page on the
area's normal flight, scores the mission, and opens the compare view of the top event from the report, where
today's frame (a box has appeared) stands beside the reference flight's at the same instant."""

from __future__ import annotations

import pytest

from tests.support.browser import log_in, screenshot, submit, wait_until
from tests.support.jobs import uploaded_video
from tests.support.seed import make_user
from tests.support.videos import make_video, route_scene
from webapp.catalog.models import Video
from webapp.detectors.models import Detector, Event
from webapp.jobs.models import Job
from webapp.jobs.services import start_ingest

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-change-detector-test-password"


def wait_for_jobs(worker, jobs, timeout=240):
    done = [worker.wait_for(job, timeout=timeout) for job in jobs]
    for job in done:
        assert job.state == Job.State.SUCCEEDED, f"{job}: {job.error}\n{worker.log()[-3000:]}"
    return done


def ingested_flights(worker, tmp_path) -> dict[str, Video]:
    """Three flights of the same route: two calm ones (labelled normal) and one where a box appears at 6 s."""
    sources = {
        "day1 calm.mp4": make_video(tmp_path / "day1.mp4", seconds=12, fps=10, width=160, height=120,
                                    scene=route_scene(160, 120, start=-3)),
        "day2 calm.mp4": make_video(tmp_path / "day2.mp4", seconds=12.5, fps=10, width=160, height=120,
                                    scene=route_scene(160, 120, start=4)),
        "day3 boat.mp4": make_video(tmp_path / "day3.mp4", seconds=12, fps=10, width=160, height=120,
                                    box_from=6.0, box=(60, 40, 24), scene=route_scene(160, 120)),
    }
    videos = {name: uploaded_video(path, name) for name, path in sources.items()}
    wait_for_jobs(worker, [start_ingest(v) for v in videos.values()])
    Video.objects.filter(original_name__contains="calm").update(label=Video.Label.NORMAL)
    return {name: Video.objects.get(pk=v.pk) for name, v in videos.items()}


def test_an_admin_trains_change_scores_a_mission_and_compares_the_top_event(celery_worker, page, live_server,
                                                                             tmp_path):
    videos = ingested_flights(celery_worker, tmp_path)
    area, mission = videos["day3 boat.mp4"].mission.area, videos["day3 boat.mp4"].mission
    make_user("olga", "admin", password=PASSWORD)
    log_in(page, "olga", PASSWORD)

    page.goto(area.get_absolute_url())
    page.select_option("select[name=kind]", "change")
    page.fill("input[name=references]", "1")
    screenshot(page, "change-train-form")
    submit(page, "#train-form button[type=submit]")
    detector = Detector.objects.get(area=area, kind=Detector.Kind.CHANGE)
    wait_for_jobs(celery_worker, Job.objects.filter(kind=Job.Kind.TRAIN, detector=detector), timeout=600)
    detector.refresh_from_db()
    assert detector.status == Detector.Status.READY and detector.is_active
    references = list(detector.reference_videos.all())
    assert len(references) == 1 and "calm" in references[0].original_name

    page.goto(detector.get_absolute_url())
    assert page.locator(f"#references tr[data-reference='{references[0].pk}']").count() == 1
    screenshot(page, "change-detector-page")

    page.goto(mission.get_absolute_url())
    submit(page, "button:has-text('Score mission')")
    wait_for_jobs(celery_worker, Job.objects.filter(kind=Job.Kind.SCORE), timeout=600)

    top = Event.objects.filter(score_run__detector=detector).order_by("-peak_score").first()
    assert top is not None, "the box that appeared is a change"
    assert top.score_run.video.original_name == "day3 boat.mp4" and top.end >= 6.0
    assert top.change == Event.Change.NEW
    assert top.reference_video == references[0] and top.reference_time is not None

    page.goto(f"/missions/{mission.pk}/report/")
    card = page.locator(f".event-card[data-event='{top.pk}']")
    assert card.locator(".thumb.pair img").count() == 2, "a CHANGE card shows the reference beside today's frame"
    wait_until(page, "Array.from(document.querySelectorAll('.thumb.pair img')).every(i => i.complete && i.naturalWidth > 0)")
    screenshot(page, "change-report-cards")
    card.locator("a:has-text('compare')").click()
    page.wait_for_url(f"**/events/{top.pk}/compare/")

    assert references[0].original_name in page.locator("#reference-line").inner_text()
    wait_until(page, "Array.from(document.querySelectorAll('#compare img')).every(i => i.complete && i.naturalWidth > 0)")
    screenshot(page, "change-compare-side-by-side")
    page.click("#compare-modes button[data-mode=swipe]")
    page.fill("#compare-swipe", "30")
    page.dispatch_event("#compare-swipe", "input")
    assert "inset" in page.locator("#panel-reference").get_attribute("style")
    screenshot(page, "change-compare-swipe")
    page.keyboard.press("b")
    wait_until(page, "document.getElementById('compare').classList.contains('show-reference')", timeout=5)
    assert page.locator("#compare").get_attribute("data-mode") == "blink"
    page.keyboard.press("h")
    assert page.locator(".compare-heat").first.is_hidden()
    assert page.console_errors == []
