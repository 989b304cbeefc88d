"""In a real browser: upload a real video through the mission page, watch it ingested, label it by keyboard."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import pytest

from tests.support.browser import log_in, screenshot, wait_until
from tests.support.seed import make_user, seed_scored_video
from tests.support.telemetry import write_flight_srt
from tests.support.videos import make_video
from webapp.catalog.models import Area, LabelInterval, Mission, Video
from webapp.jobs.models import Job
from webapp.uploads.models import UploadSession

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-browser-test-password"


def press(tab, key: str, times: int) -> None:
    """Press a key `times` times, letting the player finish each seek."""
    for _ in range(times):
        tab.keyboard.press(key)
        wait_until(tab, "!document.getElementById('player').seeking")


def test_an_analyst_uploads_a_video_sees_it_ingested_and_labels_an_interval(
    celery_worker, page, live_server, settings, tmp_path  # noqa: F811 - fixtures
):
    settings.UPLOAD_CHUNK_BYTES = 16 * 1024  # several tus chunks even for a small file
    source = make_video(tmp_path / "harbour pass.mp4", seconds=4, fps=10, width=160, height=120, box_from=1.0)
    analyst = make_user("anna", "analyst", password=PASSWORD)
    area = Area.objects.create(name="North Skerries")
    mission = Mission.objects.create(area=area, name="Dawn patrol", date=dt.date(2026, 11, 28), created_by=analyst)

    log_in(page, "anna", PASSWORD)
    page.goto(mission.get_absolute_url())
    page.set_input_files("#upload-files", str(source))
    page.wait_for_selector("#upload-list .upload.done", timeout=30_000)
    video = Video.objects.get(mission=mission)
    assert video.original_name == "harbour pass.mp4"
    assert video.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()

    job = celery_worker.wait_for(Job.objects.get(kind=Job.Kind.INGEST, video=video), timeout=120)
    assert job.state == Job.State.SUCCEEDED, job.error
    # The page polls the videos' statuses and reloads itself once the ingest is done.
    page.wait_for_selector(f'tr[data-video-id="{video.pk}"] .status-ready', timeout=30_000)
    page.wait_for_selector(f'tr[data-video-id="{video.pk}"] td.thumb img')
    screenshot(page, "mission-after-upload")

    page.click(f'tr[data-video-id="{video.pk}"] a')
    wait_until(page, "document.getElementById('player').readyState >= 1")
    page.locator("h1").click()  # keyboard focus on the page, not on a form field
    press(page, ".", 10)  # 10 frames at 10 fps: 1.0 s
    page.keyboard.press("[")
    press(page, ".", 15)  # 2.5 s
    page.keyboard.press("]")
    page.wait_for_selector("#interval-rows tr")
    page.wait_for_selector("#label-status:has-text('Saved')")
    screenshot(page, "video-labelled")

    interval = LabelInterval.objects.get(video=video)
    assert interval.start == pytest.approx(1.0, abs=0.11) and interval.end == pytest.approx(2.5, abs=0.11)
    assert interval.created_by == analyst
    video.refresh_from_db()
    assert video.label == Video.Label.ANOMALOUS and video.labelled_by == analyst
    assert page.console_errors == []


def test_several_files_at_once_each_with_its_own_outcome(page, live_server, isolated_broker, settings, tmp_path):  # noqa: F811
    junk = tmp_path / "notes.mp4"
    junk.write_bytes(bytes(range(256)) * 64)
    good = make_video(tmp_path / "good.mp4", seconds=2)
    sidecar = write_flight_srt(tmp_path / "good.SRT")  # chosen with its video, matched by the name
    make_user("anna", "analyst", password=PASSWORD)
    area = Area.objects.create(name="North Skerries")
    mission = Mission.objects.create(area=area, name="Dawn patrol", date=dt.date(2026, 11, 28))

    log_in(page, "anna", PASSWORD)
    page.goto(mission.get_absolute_url())
    page.set_input_files("#upload-files", [str(junk), str(sidecar), str(good)])
    failed = page.wait_for_selector("#upload-list .upload.failed")
    page.wait_for_selector("#upload-list .upload.done:not(.sidecar)")
    assert "Rejected: “notes.mp4” is not a video file" in failed.inner_text()
    attached = page.wait_for_selector("#upload-list .upload.sidecar.done")
    assert "Telemetry of good.mp4: 5 poses." in attached.inner_text()
    video = Video.objects.get(mission=mission)
    assert video.has_telemetry and video.telemetry_name == "good.SRT"
    screenshot(page, "mission-rejected-upload")
    assert list(mission.videos.values_list("original_name", flat=True)) == ["good.mp4"]
    page.wait_for_selector("#reload-videos")  # the rejection stays on screen; the new video is a click away
    assert "Rejected" in page.locator("#upload-list .upload.failed").inner_text()

    page.goto(mission.get_absolute_url())
    page.set_input_files("#upload-files", str(good))
    again = page.wait_for_selector("#upload-list .upload.failed")
    assert "Rejected: “good.mp4” is already in this mission as “good.mp4”" in again.inner_text()
    assert mission.videos.count() == 1

    # The video page follows the flight as the player seeks: 0.75 s is half way between the second and third poses.
    shutil.copyfile(good, Path(settings.MEDIA_ROOT) / video.proxy_path)
    Video.objects.filter(pk=video.pk).update(has_proxy=True)
    page.goto(video.get_absolute_url())
    wait_until(page, "document.getElementById('player').readyState >= 1 "
                     "&& document.getElementById('flight').dataset.state === 'loaded'")
    page.evaluate("document.getElementById('player').currentTime = 0.75")
    page.wait_for_selector("[data-pose='latitude']:has-text('59.301500°')")
    assert page.locator("[data-pose='heading']").inner_text() == "357.5° N"
    assert page.locator("[data-pose='rel_alt']").inner_text() == "61.5 m"
    screenshot(page, "video-flight-position")
    expected = ("422 (Unprocessable Entity)", "409 (Conflict)")  # the two refused uploads above
    assert [e for e in page.console_errors if not e.endswith(expected)] == []


def test_an_upload_cut_off_mid_way_resumes_after_a_reload(page, live_server, settings, tmp_path):  # noqa: F811
    settings.UPLOAD_CHUNK_BYTES = 8 * 1024
    source = make_video(tmp_path / "long pass.mp4", seconds=4, fps=10, width=320, height=240)
    assert source.stat().st_size > 5 * settings.UPLOAD_CHUNK_BYTES
    make_user("anna", "analyst", password=PASSWORD)
    area = Area.objects.create(name="North Skerries")
    mission = Mission.objects.create(area=area, name="Dawn patrol", date=dt.date(2026, 11, 28))
    offsets: list[int] = []

    def cut_after_three_chunks(route, request):
        if request.method == "PATCH":
            if len(offsets) >= 3:
                route.abort("connectionreset")  # the link drops: nothing more reaches the server
                return
            offsets.append(int(request.headers["upload-offset"]))
        route.continue_()

    log_in(page, "anna", PASSWORD)
    page.goto(mission.get_absolute_url())
    page.route("**/uploads/*", cut_after_three_chunks)
    page.set_input_files("#upload-files", str(source))
    page.wait_for_selector("#upload-list .upload-status:has-text('retrying')")
    session = UploadSession.objects.get()
    assert session.offset == 3 * settings.UPLOAD_CHUNK_BYTES

    page.unroute("**/uploads/*")
    page.reload()
    unfinished = page.wait_for_selector("#upload-list .upload.unfinished")
    assert "Unfinished: 24.6 KB of" in unfinished.inner_text() and "Choose this file again" in unfinished.inner_text()
    sent_after_reload: list[str] = []
    page.on("request", lambda r: r.method == "PATCH" and sent_after_reload.append(r.headers["upload-offset"]))
    page.set_input_files("#upload-files", str(source))
    page.wait_for_selector("#upload-list .upload.done", timeout=30_000)
    assert page.locator("#upload-list .upload.unfinished").count() == 0
    assert sent_after_reload[0] == str(3 * settings.UPLOAD_CHUNK_BYTES)  # resumed, not restarted
    assert UploadSession.objects.count() == 1
    video = Video.objects.get(mission=mission)
    assert video.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()


def test_the_pages_render_without_script_errors(page, live_server, settings):  # noqa: F811
    make_user("adam", "admin", password=PASSWORD)
    area = Area.objects.create(name="North Skerries", description="The outer islands, patrolled at dawn.")
    mission = Mission.objects.create(area=area, name="Dawn patrol", date=dt.date(2026, 11, 28), drone="D-4")
    first = seed_scored_video(mission, name="first.mp4", seconds=4, proxy=True, anomalies=((1.0, 2.0, "boat"),))
    second = seed_scored_video(mission, name="second.mp4", seconds=4, proxy=True, anomalies=(), seed=1)

    log_in(page, "adam", PASSWORD)
    for name, url in [("dashboard", "/"), ("areas", "/areas/"), ("area", area.get_absolute_url()),
                      ("mission-create", "/missions/new/"), ("api-token", "/api/token/"), ("api-docs", "/api/docs/"),
                      ("import", f"/areas/{area.pk}/import/")]:
        page.goto(url)
        screenshot(page, f"page-{name}")
    page.goto(first.video.get_absolute_url())
    wait_until(page, "document.getElementById('player').readyState >= 1")
    assert page.locator("#interval-rows tr").count() == 1
    box = page.locator("#timeline").bounding_box()
    middle = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.25, middle)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.75, middle, steps=5)
    page.mouse.up()
    page.wait_for_selector("#interval-rows tr:nth-child(2)")
    drawn = LabelInterval.objects.filter(video=first.video).order_by("-id").first()
    assert drawn.start == pytest.approx(1.0, abs=0.1) and drawn.end == pytest.approx(3.0, abs=0.1)
    page.locator("h1").click()
    page.keyboard.press(" ")  # play
    wait_until(page, "!document.getElementById('player').paused")
    page.keyboard.press(" ")  # pause
    wait_until(page, "document.getElementById('player').paused")
    page.evaluate("document.getElementById('player').currentTime = 2")
    wait_until(page, "!document.getElementById('player').seeking")
    press(page, ",", 5)  # five frames back at 10 fps
    assert page.evaluate("document.getElementById('player').currentTime") == pytest.approx(1.5, abs=0.01)
    page.keyboard.press("j")  # next video
    page.wait_for_url(f"**{second.video.get_absolute_url()}")
    page.keyboard.press("n")
    page.wait_for_selector("#label-status:has-text('Saved')")
    second.video.refresh_from_db()
    assert second.video.label == Video.Label.NORMAL
    # A video still being ingested: its page waits for the browser copy, then shows the player.
    third = Video.objects.create(mission=mission, original_name="third.mp4", status="ingesting", duration=4.0)
    page.goto(third.get_absolute_url())
    page.wait_for_selector("#player-missing")
    folder = Path(settings.MEDIA_ROOT) / third.media_dir
    folder.mkdir(parents=True)
    shutil.copyfile(Path(settings.MEDIA_ROOT) / first.video.proxy_path, folder / "proxy.mp4")
    Video.objects.filter(pk=third.pk).update(status=Video.Status.READY, has_proxy=True)
    page.wait_for_selector("#player", timeout=20_000)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: one column, nothing wider than the screen
    for name, url in [("video-phone", first.video.get_absolute_url()), ("mission-phone", mission.get_absolute_url())]:
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, f"{name} scrolls sideways"
        screenshot(page, f"page-{name}")
    assert page.console_errors == []
