"""The demo's own steps that a second `make demo` relies on: interrupted jobs resume, failed ingests rerun."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from webapp.accounts.roles import role_in_team
from webapp.catalog.models import Area, Mission, Video
from webapp.core import demo
from webapp.jobs.models import Job

pytestmark = pytest.mark.django_db


def running_job(worker: str) -> Job:
    return Job.objects.create(kind="noop", state=Job.State.RUNNING, attempts=1, worker=worker,
                              started=timezone.now(), heartbeat=timezone.now())


def test_jobs_of_a_stopped_demo_worker_go_back_to_the_queue_at_once(django_capture_on_commit_callbacks):
    interrupted = running_job("demo@box pid 41")  # heartbeat seconds old: the sweep alone would wait a minute
    elsewhere = running_job("gpu2@other pid 7")
    with django_capture_on_commit_callbacks(execute=False):
        report = demo.requeue_interrupted_jobs()
    assert report.requeued == [interrupted.pk]
    interrupted.refresh_from_db()
    elsewhere.refresh_from_db()
    assert interrupted.state == Job.State.QUEUED and "demo@box" in interrupted.stage
    assert elsewhere.state == Job.State.RUNNING


def test_a_second_run_ingests_only_the_videos_that_are_not_ready(django_capture_on_commit_callbacks):
    area = Area.objects.create(name=demo.DEMO_AREA)
    mission = Mission.objects.create(area=area, name="Day 1", date=dt.date(2026, 5, 1))
    ready = Video.objects.create(mission=mission, original_name="a.mp4", status=Video.Status.READY)
    failed = Video.objects.create(mission=mission, original_name="b.mp4", status=Video.Status.FAILED)
    Job.objects.create(kind=Job.Kind.INGEST, video=failed, state=Job.State.FAILED, error="killed")
    with django_capture_on_commit_callbacks(execute=False):
        jobs = demo.ingest_jobs(area)
    assert [job.video_id for job in jobs] == [failed.pk]
    assert jobs[0].state == Job.State.QUEUED
    assert not Job.objects.filter(video=ready).exists()


def test_stopping_the_demo_again_and_again_never_gives_the_job_up(django_capture_on_commit_callbacks, settings):
    settings.JOB_MAX_ATTEMPTS = 3
    job = running_job("demo@box pid 41")
    Job.objects.filter(pk=job.pk).update(attempts=5)  # the user stopped the demo five times in this job
    with django_capture_on_commit_callbacks(execute=False):
        report = demo.requeue_interrupted_jobs()
    assert report.requeued == [job.pk] and report.failed == []


def test_the_demo_user_is_admin_of_the_demo_team_and_sees_the_demo_area(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # no slow hashing here
    username, _ = demo.ensure_demo_account()
    demo.ensure_demo_account()  # a second run changes nothing
    area = Area.objects.create(name=demo.DEMO_AREA, team=demo.demo_team())
    user = get_user_model().objects.get(username=username)
    assert role_in_team(user, area.team_id) == "admin" and user.memberships.count() == 1
    assert not user.is_superuser and not user.groups.exists()  # a team admin, not a site admin


def test_watch_it_live_replays_the_flight_with_the_most_events_as_a_live_stream(settings, tmp_path):
    from detection.live.reader import LiveReader, LiveSettings
    from tests.support.publish import free_port, stop
    from tests.support.videos import make_video
    from webapp.detectors.models import Detector, Event, ScoreRun
    from webapp.live.models import LiveStream

    settings.MEDIA_ROOT = tmp_path
    area = Area.objects.create(name=demo.DEMO_AREA)
    mission = Mission.objects.create(area=area, name="Patrol", date=dt.date(2026, 6, 1))
    detector = Detector.objects.create(area=area, kind="cae", name="CAE", status="ready", threshold=1.0)
    videos = []
    for name in ("calm.mp4", "boat.mp4"):
        video = Video.objects.create(mission=mission, original_name=name, status=Video.Status.READY,
                                     file=f"videos/{name}")
        make_video(tmp_path / video.file, seconds=3.0, fps=10, width=96, height=64, gop=10)
        videos.append(video)
    run = ScoreRun.objects.create(detector=detector, video=videos[1])
    Event.objects.create(score_run=run, start=1.0, end=2.0, peak_time=1.5, peak_score=3.0)
    source = demo.live_replay_source(area)
    assert source == videos[1]
    port = free_port()
    live_mission, publisher = demo.start_live_replay(area, source, port=port)
    try:
        stream = LiveStream.objects.get(mission=live_mission)
        assert stream.url == f"tcp://127.0.0.1:{port}" and not stream.listen
        assert Job.objects.get(kind=Job.Kind.LIVE, mission=live_mission).state == Job.State.QUEUED
        reader = LiveReader(stream.url, LiveSettings(connect_timeout=10, end_after=1, display_width=None))
        reader.start()
        frames = [reader.next_frame(5.0) for _ in range(3)]
        reader.stop()
        assert all(frame is not None for frame in frames) and reader.resolution == (96, 64)
    finally:
        stop(publisher)
