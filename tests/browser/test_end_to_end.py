"""The whole analyst flow in a real browser against real workers: nothing mocked, nothing eager.

Log in, create an area and a mission, upload two patrol videos (one normal, one where an object appears),
wait for ingest, label the normal one, train a CAE, score the mission, open the report, confirm the event,
export the mission as a zip and download it, then evaluate the CAE on the labelled videos.
"""

from __future__ import annotations

import zipfile

import pytest

from tests.support.browser import log_in, screenshot, submit, wait_until
from tests.support.seed import make_user
from tests.support.videos import make_video
from webapp.catalog.models import Area, LabelInterval, Mission, Video
from webapp.detectors.models import Detector, Event
from webapp.jobs.models import Job

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PASSWORD = "an-end-to-end-test-password"


def wait_for_jobs(worker, jobs, timeout=240):
    done = [worker.wait_for(job, timeout=timeout) for job in jobs]
    for job in done:
        assert job.state == Job.State.SUCCEEDED, f"{job}: {job.error}\n{worker.log()[-3000:]}"
    return done


def test_an_analyst_goes_from_upload_to_a_confirmed_event(celery_worker, page, live_server, tmp_path):  # noqa: F811
    normal = make_video(tmp_path / "day1 normal.mp4", seconds=12, fps=10, width=128, height=96)
    anomalous = make_video(tmp_path / "day2 boat.mp4", seconds=12, fps=10, width=128, height=96,
                           box_from=6.0, box=(40, 30, 36))
    make_user("olga", "admin", password=PASSWORD)

    log_in(page, "olga", PASSWORD)
    page.goto("/areas/")
    page.fill("#id_name", "East skerries")
    submit(page, "button:has-text('Create area')")
    area = Area.objects.get(name="East skerries")

    page.goto(f"/missions/new/?area={area.pk}")
    page.fill("#id_name", "Morning patrol")
    page.fill("#id_date", "2026-11-28")
    submit(page, "form button[type=submit].primary")
    mission = Mission.objects.get(area=area, name="Morning patrol")
    page.wait_for_url(f"**{mission.get_absolute_url()}")

    page.set_input_files("#upload-files", [str(normal), str(anomalous)])
    wait_until(page, "document.querySelectorAll('#upload-list .upload.done').length === 2", timeout=60)
    wait_for_jobs(celery_worker, Job.objects.filter(kind=Job.Kind.INGEST, video__mission=mission))
    videos = {v.original_name: v for v in Video.objects.filter(mission=mission)}
    assert all(v.status == Video.Status.READY for v in videos.values())
    # The mission page reloads itself once the ingests are done; a goto issued before that reload would be
    # aborted by it (net::ERR_ABORTED). The thumbnails only come with the reloaded page: wait for them.
    for video in videos.values():
        page.wait_for_selector(f'tr[data-video-id="{video.pk}"] td.thumb img', timeout=30_000)

    page.goto(videos["day1 normal.mp4"].get_absolute_url())
    wait_until(page, "document.getElementById('player').readyState >= 1")
    page.locator("h1").click()
    page.keyboard.press("n")
    page.wait_for_selector("#label-status:has-text('Saved')")
    assert Video.objects.get(pk=videos["day1 normal.mp4"].pk).label == Video.Label.NORMAL

    page.goto(area.get_absolute_url())
    page.select_option("select[name=kind]", "cae")
    if page.locator("input[name=epochs]").count():
        page.fill("input[name=epochs]", "15")
    submit(page, "form.inline-form button[type=submit]")
    detector = Detector.objects.get(area=area, kind=Detector.Kind.CAE)
    wait_for_jobs(celery_worker, Job.objects.filter(kind=Job.Kind.TRAIN, detector=detector), timeout=600)
    detector.refresh_from_db()
    assert detector.status == Detector.Status.READY and detector.threshold is not None
    assert detector.is_active, "the train form's 'use for new videos' is on by default"

    page.goto(mission.get_absolute_url())
    submit(page, "button:has-text('Score mission')")
    wait_for_jobs(celery_worker, Job.objects.filter(kind=Job.Kind.SCORE), timeout=300)

    page.goto(f"/missions/{mission.pk}/report/")
    cards = page.locator(".event-card")
    assert cards.count() >= 1
    events = Event.objects.filter(score_run__video__mission=mission).order_by("-peak_score")
    top = events.first()
    assert top.score_run.video.original_name == "day2 boat.mp4"
    assert top.end >= 6.0
    kept = celery_worker.media_root / top.score_run.media_dir / "reconstructions.npz"
    assert kept.exists(), "scoring keeps the reconstruction of each event's peak frame for the heatmap view"
    screenshot(page, "e2e-mission-report")
    page.check(f".event-card[data-event='{top.pk}'] input[name=event]")
    submit(page, "button:has-text('Confirm selected')")
    page.wait_for_selector(f".event-card[data-event='{top.pk}'].state-confirmed")
    top.refresh_from_db()
    assert top.review == Event.Review.CONFIRMED

    submit(page, "button:has-text('Export mission (zip)')")
    wait_for_jobs(celery_worker, Job.objects.filter(kind=Job.Kind.EXPORT, mission=mission))
    with page.expect_download() as download:
        page.click(".export-jobs a.job-output")  # the live job list offers the zip once the job succeeds
    members = zipfile.ZipFile(download.value.path()).namelist()
    assert sorted(m.rsplit("/", 1)[-1] for m in members) == ["events.csv", "events.geojson", "events.json", "events.kml",
                                                                "manifest.csv", "report.html"]

    boat = videos["day2 boat.mp4"]  # labelled after training: the evaluation needs both classes
    Video.objects.filter(pk=boat.pk).update(label=Video.Label.ANOMALOUS)
    LabelInterval.objects.create(video=boat, start=6.0, end=12.0, anomaly_class="boat")
    page.goto(detector.get_absolute_url())
    submit(page, "button:has-text('Evaluate on labelled videos')")
    wait_for_jobs(celery_worker, Job.objects.filter(kind=Job.Kind.EVALUATE, detector=detector))
    page.goto(detector.get_absolute_url())  # the evaluation's numbers come with a fresh page
    assert page.locator("#eval-videos").inner_text().startswith("2 (1 normal, 1 anomalous)")
    assert page.locator("#eval-frame-auc").inner_text() not in ("", "n/a")
    screenshot(page, "e2e-detector-evaluation")
    assert page.console_errors == []
