"""Reviews teach the detectors, in a real browser: an analyst masks the marina where a moored boat raises a false
event, an admin retrains with reviews, and the new version (not active until the admin says so) raises no event
there while it still finds the intruder elsewhere. The jobs run in-process here (`run_job`), as a worker would."""

from __future__ import annotations

import pytest

from tests.support.browser import log_in, screenshot, submit
from tests.support.jobs import TINY_CAE, ingest_job, uploaded_video
from tests.support.seed import make_user
from tests.support.videos import make_video
from webapp.catalog.models import LabelInterval, Video
from webapp.detectors.models import Detector, Event, ScoreRun
from webapp.jobs.models import Job
from webapp.reports.reviews import review_event
from workers.claim import run_job
from workers.evaluation import run_evaluation
from workers.ingest import run_ingest
from workers.scoring import run_scoring
from workers.training import run_training

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-feedback-test-password"
MARINA_BOX = (8, 8, 30)  # pixels of a 128x96 frame: top left
INTRUDER_BOX = (84, 56, 30)  # bottom right
MASK = [(0.0, 0.0), (0.42, 0.0), (0.42, 0.55), (0.0, 0.55)]  # fractions of the frame, around the marina


def ingested(tmp_path, name, label, split=Video.Split.AUTO, box=None, fps=8) -> Video:
    source = make_video(tmp_path / name, seconds=6.0, fps=fps, width=128, height=96,
                        box_from=None if box is None else 2.0, box=box or (0, 0, 1))
    video = uploaded_video(source, name)
    assert run_job(ingest_job(video).pk, run_ingest, worker="test") == "succeeded"
    Video.objects.filter(pk=video.pk).update(label=label, split=split)
    return Video.objects.get(pk=video.pk)


def run(job: Job, pipeline) -> Job:
    assert run_job(job.pk, pipeline, worker="test") == "succeeded", Job.objects.get(pk=job.pk).error
    return Job.objects.get(pk=job.pk)


def test_a_mask_and_a_retraining_remove_the_false_event(page, live_server, tmp_path):
    for name, fps in (("calm 1.mp4", 8), ("calm 2.mp4", 10)):
        ingested(tmp_path, name, Video.Label.NORMAL, fps=fps)
    marina = ingested(tmp_path, "marina.mp4", Video.Label.NORMAL, Video.Split.TEST, MARINA_BOX)
    intruder = ingested(tmp_path, "intruder.mp4", Video.Label.ANOMALOUS, Video.Split.TEST, INTRUDER_BOX)
    LabelInterval.objects.create(video=intruder, start=2.0, end=6.0, anomaly_class="person")
    area = marina.mission.area
    active = Detector.objects.create(area=area, kind="cae", name="Harbour CAE", config=TINY_CAE, is_active=True)
    run(Job.objects.create(kind=Job.Kind.TRAIN, detector=active), run_training)
    Detector.objects.filter(pk=active.pk).update(is_active=True)  # a tiny CAE may need its admin's confirmation
    run(Job.objects.create(kind=Job.Kind.SCORE, mission=marina.mission, params={"detectors": [active.pk]}),
        run_scoring)
    false_events = Event.objects.filter(score_run__detector=active, score_run__video=marina)
    assert false_events.exists(), "the moored boat raises a false event before the mask"
    admin = make_user("olga", "admin", password=PASSWORD)
    for event in false_events:
        review_event(event, Event.Review.DISMISSED, admin, note="moored boat at the marina")

    log_in(page, "olga", PASSWORD)
    page.goto(f"/areas/{area.pk}/")
    page.wait_for_selector("#mask-image")
    page.locator("#mask-svg").scroll_into_view_if_needed()
    box = page.locator("#mask-svg").bounding_box()
    assert box and box["width"] > 100
    for x, y in MASK:
        page.mouse.click(box["x"] + min(x, 0.999) * box["width"], box["y"] + min(y, 0.999) * box["height"])
    page.fill("#mask-name", "marina")
    page.click("#mask-save")
    page.wait_for_selector("#mask-list li:has-text('marina')")
    assert page.text_content("#masked-share") not in ("0%", "")
    page.wait_for_selector("polygon.mask-shape")
    assert "1 review since this detector was trained" in page.text_content("td.reviews-since")
    screenshot(page, "feedback-area-mask")

    submit(page, "td.reviews-since button:has-text('Retrain with reviews')")
    version = Detector.objects.get(parent=active)
    assert page.url.endswith(f"/detectors/{version.pk}/") and not version.is_active
    training = run(Job.objects.get(kind=Job.Kind.TRAIN, detector=version), run_training)
    run(Job.objects.get(pk=training.result["evaluation_job"]), run_evaluation)

    page.goto(f"/detectors/{version.pk}/")
    assert "Retrained from" in page.text_content("#lineage")
    # marina is held out (test split): its dismissal is not trained on, since the version is measured on it
    assert page.text_content("#lineage-reviews") == "0 confirmed and 0 dismissed events"
    held_out = page.text_content("#eval-held-out")
    assert "marina.mp4" in held_out and "intruder.mp4" in held_out
    rows = {row.locator("td").nth(0).text_content().strip(): row.locator("td").nth(-1).text_content().strip()
            for row in page.locator("#score-runs tbody tr").all()}
    assert rows["marina.mp4"] == "0", "the masked marina raises no event"
    assert int(rows["intruder.mp4"]) >= 1, "the intruder outside the mask is still found"
    assert Event.objects.filter(score_run__detector=active, score_run__video=marina).exists(), "the old one stays"
    assert ScoreRun.objects.get(detector=version, video=marina).events.count() == 0
    screenshot(page, "feedback-retrained-version")

    if page.locator("input[name=confirm_degenerate]").count():  # a two-epoch CAE's validation may warn
        page.check("input[name=confirm_degenerate]")
    submit(page, "#active-form button")
    version.refresh_from_db()
    active.refresh_from_db()
    assert version.is_active and not active.is_active
    assert page.console_errors == []
