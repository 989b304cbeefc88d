"""Real Celery workers on the real broker (Redis in CI, else the filesystem transport) and the test database."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.support.jobs import TINY_CAE, uploaded_video
from tests.support.videos import make_video
from webapp.jobs import services
from webapp.jobs.models import Job
from webapp.jobs.sweep import sweep_jobs

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_job_runs_to_success_with_progress(celery_worker):
    job = services.start_job("noop", params={"steps": 6, "step_seconds": 0.25})
    seen = set()
    while not job.refresh_from_db() and job.state not in Job.FINAL_STATES:
        if job.state == Job.State.RUNNING:
            seen.add(round(job.progress, 2))
        time.sleep(0.05)
        assert (timezone.now() - job.created).total_seconds() < 60, celery_worker.log()[-2000:]
    assert job.state == Job.State.SUCCEEDED, job.error
    assert job.progress == 1.0 and job.result == {"steps": 6, "attempt": 1}
    assert len([p for p in seen if 0 < p < 1]) >= 2, f"no progress seen while running: {seen}"
    assert job.worker.startswith("main@") and job.started and job.finished and job.enqueued


def test_a_raising_task_shows_its_error(celery_worker):
    job = services.start_job("noop", params={"fail": "no space left on /media"})
    job = celery_worker.wait_for(job)
    assert job.state == Job.State.FAILED
    assert "no space left on /media" in job.error and job.stage == "Failed"


def test_a_cancelled_job_stops_and_says_so(celery_worker):
    job = services.start_job("noop", params={"steps": 100, "step_seconds": 0.1})
    celery_worker.wait_for(job, until=lambda j: j.state == Job.State.RUNNING and j.progress > 0)
    assert services.cancel_job(job)
    job = celery_worker.wait_for(job, timeout=10)
    assert job.state == Job.State.CANCELLED and job.stage.startswith("Cancelled at")
    assert job.progress < 0.5 and job.finished


def test_a_job_cancelled_while_queued_never_runs(celery_worker):
    blocker = services.start_job("noop", params={"steps": 10, "step_seconds": 0.1})
    waiting = services.start_job("noop", params={"steps": 1})
    assert services.cancel_job(waiting)
    celery_worker.wait_for(blocker)
    time.sleep(0.5)
    waiting.refresh_from_db()
    assert waiting.state == Job.State.CANCELLED and waiting.attempts == 0


def test_a_sigkilled_worker_job_is_rerun_by_the_sweep_once(celery_worker):
    job = services.start_job("noop", params={"steps": 20, "step_seconds": 0.15, "write_result": True})
    celery_worker.wait_for(job, until=lambda j: j.state == Job.State.RUNNING and j.progress >= 0.1)
    celery_worker.kill()
    time.sleep(2.5)  # heartbeats (every second) have stopped
    job.refresh_from_db()
    assert job.state == Job.State.RUNNING, "nothing but the sweep may move a dead worker's job"
    report = sweep_jobs(stale_seconds=2)
    assert report.requeued == [job.pk]
    celery_worker.start()
    job = celery_worker.wait_for(job)
    assert job.state == Job.State.SUCCEEDED and job.attempts == 2
    results = sorted(p.name for p in (celery_worker.media_root / "noop").iterdir())
    assert results == [f"{job.pk}.json"], "one result file, no leftovers of the killed run"
    assert json.loads((celery_worker.media_root / "noop" / f"{job.pk}.json").read_text())["attempt"] == 2


def test_two_workers_racing_for_one_job_claim_it_once(celery_worker, worker_factory):
    rivals = [worker_factory("rival")]
    workers = (celery_worker, *rivals)
    skip = {w.name: len(w.log()) for w in workers}  # count only what this test's messages caused

    def logs():
        return [w.log()[skip[w.name]:] for w in workers]

    try:
        jobs = [services.start_job("noop", params={"steps": 4, "step_seconds": 0.2}) for _ in range(3)]
        for job in jobs:  # two more messages for each job, as a re-delivery or an eager sweep would send
            services.send_job_message(job.pk, job.kind)
            services.send_job_message(job.pk, job.kind)
        for job in jobs:
            job = celery_worker.wait_for(job)
            assert job.state == Job.State.SUCCEEDED and job.attempts == 1 and job.result["attempt"] == 1
        deadline = time.monotonic() + 10
        while sum(log.count("'not claimed'") for log in logs()) < 6 and time.monotonic() < deadline:
            time.sleep(0.2)
        claimed = sum(log.count("'succeeded'") for log in logs())
        refused = sum(log.count("'not claimed'") for log in logs())
        assert (claimed, refused) == (3, 6)
        assert sum(1 for log in logs() if "'succeeded'" in log or "'not claimed'" in log) >= 2, "no race happened"
    finally:
        for rival in rivals:
            rival.stop()


def test_worker_status_lists_workers_per_queue(celery_worker, capsys):
    call_command("worker_status", timeout=3)
    out = capsys.readouterr().out
    assert re.search(r"queue cpu: 1 worker\(s\)\n  main@", out), out
    assert re.search(r"queue gpu: 1 worker\(s\)\n  main@", out), out


def test_the_beat_sweep_task_requeues_a_dead_run_and_a_worker_finishes_it(celery_worker):
    long_ago = timezone.now() - timedelta(minutes=10)
    job = Job.objects.create(kind="noop", state=Job.State.RUNNING, attempts=1, heartbeat=long_ago,
                             started=long_ago, worker="gone@host pid 1", params={"steps": 1})
    from workers.celery_app import app

    assert app.conf.beat_schedule["sweep-jobs"]["task"] == "skerry.sweep"
    app.send_task("skerry.sweep")
    job = celery_worker.wait_for(job, until=lambda j: j.state == Job.State.SUCCEEDED)
    assert job.attempts == 2 and job.worker.startswith("main@")


def test_a_long_video_is_ingested_in_parallel_pieces_on_workers(celery_worker, worker_factory, tmp_path):
    helper = worker_factory("helper", queues="cpu")
    try:
        source = make_video(tmp_path / "long.mp4", seconds=6.0, fps=10)
        video = uploaded_video(source)
        job = services.start_job(Job.Kind.INGEST, video=video, params={"size": 32, "pieces": 3})
        job = celery_worker.wait_for(job, timeout=120)
        assert job.state == Job.State.SUCCEEDED, job.error
        video.refresh_from_db()
        assert video.status == "ready" and video.frame_count == 12 and job.result["pieces"] == 3
        times = np.load(celery_worker.media_root / video.timestamps_path)
        assert np.allclose(times, np.arange(12) * 0.5)
        folder = celery_worker.media_root / video.media_dir
        assert not [p.name for p in folder.iterdir() if p.name.startswith(".")], "staging left behind"
    finally:
        helper.stop()
    assert "ingest_piece" in helper.log() or "ingest_piece" in celery_worker.log(), "no helper task was sent"


def test_every_task_in_the_table_is_registered_routed_and_limited_as_the_table_says():
    from webapp.jobs.kinds import TASKS
    from workers.celery_app import app

    def queue(name):
        return app.amqp.router.route({}, name)["queue"].name

    assert {name for name in app.tasks if name.startswith("skerry.")} == set(TASKS)
    for name, spec in TASKS.items():
        assert queue(name) == spec.queue, name
        assert (app.tasks[name].soft_time_limit, app.tasks[name].time_limit) == (spec.soft_limit, spec.hard_limit)
        assert (spec.soft_limit is None and spec.hard_limit is None) or spec.soft_limit < spec.hard_limit, name
    assert [queue(n) for n in ("skerry.ingest", "skerry.train", "skerry.score", "skerry.live")] == [
        "cpu", "gpu", "gpu", "live"]
    assert app.tasks["skerry.live"].time_limit is None  # a live stream lasts as long as the flight
    assert app.conf.worker_prefetch_multiplier == 1 and app.conf.task_acks_late


@pytest.mark.slow
def test_a_detector_trains_and_scores_a_mission_on_the_worker(celery_worker, tmp_path):
    from webapp.catalog.models import Video
    from webapp.detectors.models import Detector, ScoreRun

    videos = []
    for name, fps in (("n1.mp4", 8), ("n2.mp4", 10)):
        video = uploaded_video(make_video(tmp_path / name, seconds=3.0, fps=fps), name)
        Video.objects.filter(pk=video.pk).update(label="normal")
        videos.append(services.start_ingest(video))
    for job in videos:
        assert celery_worker.wait_for(job, timeout=120).state == Job.State.SUCCEEDED
    area = Video.objects.get(pk=videos[0].video_id).mission.area
    detector = Detector.objects.create(area=area, kind="cae", name="tiny", config=TINY_CAE, is_active=True)
    train = celery_worker.wait_for(services.start_training(detector), timeout=240)
    assert train.state == Job.State.SUCCEEDED, train.error
    # Named: a CAE this tiny may end its training with a flat validation loss, which leaves it inactive.
    score = services.start_scoring(videos[0].video.mission, detectors=[detector])
    assert celery_worker.wait_for(score, timeout=120).state == Job.State.SUCCEEDED
    assert ScoreRun.objects.filter(detector=detector, status="ready").count() == 2
