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


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory):
    """The demo's patrols, as `make demo` generates them (two renderer processes) but 2 s long and 64x48 (every
    flight, every sidecar)."""
    return demo.ensure_demo_data(tmp_path_factory.mktemp("demo") / "data", seconds=2, size="64x48")


def ingest_all(area) -> None:
    from workers.claim import run_job
    from workers.ingest import run_ingest

    for job in demo.ingest_jobs(area):
        assert run_job(job.pk, run_ingest, worker="test") == "succeeded", job.error


@pytest.mark.slow
def test_the_demo_imports_each_video_with_its_sidecar_and_ingest_stores_its_poses(demo_data, settings,
                                                                                   django_capture_on_commit_callbacks):
    from pathlib import Path

    from detection.telemetry import PoseTable, read_telemetry
    from tests.webapp.catalog_actors import login

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    assert demo_data.read_text().splitlines()[0].endswith(",telemetry")
    with django_capture_on_commit_callbacks(execute=False):
        demo.ensure_demo_account()
        area = demo.import_demo_data(demo_data)
        ingest_all(area)
    videos = list(Video.objects.filter(mission__area=area).order_by("mission__name"))
    assert len(videos) == 10
    for video in videos:
        assert video.telemetry_name == "patrol.SRT" and video.has_telemetry and video.telemetry_error == ""
        flight = read_telemetry(demo_data.parent / video.mission.name / "patrol.SRT")
        stored = PoseTable.load(Path(settings.MEDIA_ROOT) / video.poses_path)
        assert video.pose_count == len(stored) == len(flight) == 20  # a pose per frame: 2 s at 10 fps
        assert stored.latitude == pytest.approx(flight.latitude) and stored.yaw == pytest.approx(flight.yaw)
        assert (video.start_latitude, video.start_longitude) == pytest.approx((59.4213, 18.8842), abs=0.01)
    page = login(get_user_model().objects.get(username=demo.DEMO_USER)).get(videos[0].get_absolute_url())
    assert 'data-pose="latitude">59.' in page.content.decode()  # the flight's position on the video page


@pytest.mark.slow
def test_a_demo_imported_before_it_had_sidecars_gets_them_on_the_next_run(demo_data, tmp_path,
                                                                         django_capture_on_commit_callbacks):
    from webapp.catalog.importing import import_manifest

    old = tmp_path / "old.csv"  # the same videos, listed without the telemetry column
    rows = [line.rpartition(",")[0] for line in demo_data.read_text().splitlines()]
    old.write_text("\n".join(rows) + "\n")
    for name in {row.split(",")[0].split("/")[0] for row in rows[1:]}:
        (tmp_path / name).symlink_to(demo_data.parent / name)
    with django_capture_on_commit_callbacks(execute=False):
        Area.objects.create(name=demo.DEMO_AREA)
        import_manifest(old, area_name=demo.DEMO_AREA, start_ingest=False)
        assert not Video.objects.exclude(telemetry_file="").exists()
        area = demo.import_demo_data(demo_data)
    assert Video.objects.filter(mission__area=area).count() == 10
    assert not Video.objects.filter(mission__area=area, has_telemetry=False).exists()


def run_succeeds(job, pipeline) -> Job:
    from workers.claim import run_job

    assert run_job(job.pk, pipeline, worker="test") == "succeeded", Job.objects.get(pk=job.pk).error
    return Job.objects.get(pk=job.pk)


@pytest.mark.slow
def test_the_demo_reviews_events_from_the_ground_truth_and_retrains_its_cae_with_them(
        demo_data, settings, django_capture_on_commit_callbacks):
    from tests.support.jobs import TINY_CAE
    from tests.webapp.catalog_actors import login
    from webapp.detectors.models import Detector, Event, ScoreRun
    from workers.evaluation import run_evaluation
    from workers.scoring import run_scoring
    from workers.training import run_training

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DEMO_CAE_EPOCHS = 12  # the retraining takes a sixth: 2
    with django_capture_on_commit_callbacks(execute=False):
        demo.ensure_demo_account()
        user = get_user_model().objects.get(username=demo.DEMO_USER)
        area = demo.import_demo_data(demo_data)
        ingest_all(area)
        cae = Detector.objects.create(area=area, kind="cae", name="Demo CAE", config=TINY_CAE, is_active=True)
        run_succeeds(Job.objects.create(kind=Job.Kind.TRAIN, detector=cae), run_training)
        for video in Video.objects.filter(mission__area=area):
            run_succeeds(Job.objects.create(kind=Job.Kind.SCORE, video=video, params={"detectors": [cae.pk]}),
                         run_scoring)
        assert demo.demo_detector(area, "cae") == cae and demo.retrained_version(cae) is None
        # Far above whatever the tiny CAE flagged: a false alarm on a normal training day, one over day05's boat
        # and person, and a higher one on the test day, which a retraining never reads (the evaluation measures it).
        videos = {v.mission.name: v for v in Video.objects.filter(mission__area=area).select_related("mission")}

        def event(day: str, start: float, end: float, level: float) -> Event:
            run = ScoreRun.objects.get(detector=cae, video=videos[day])
            return Event.objects.create(score_run=run, start=start, end=end, peak_time=start, peak_score=level,
                                        level=level)

        # day05's ground truth (the manifest's intervals): boat 0.5-0.699 and 0.8-0.999, person 1.4-1.499 and
        # 1.6-1.699; the true event overlaps the second boat most.
        assert [(i.start, i.anomaly_class) for i in videos["day05"].intervals.all()] == [
            (0.5, "boat"), (0.8, "boat"), (1.4, "person"), (1.6, "person")]
        false_alarm, true_event = event("day02", 0.5, 1.0, 2e6), event("day05", 0.85, 1.6, 1e6)
        on_test_day = event("day10", 1.0, 1.5, 3e6)

        version, training, reviewed = demo.retraining(cae, user)
        assert [e.pk for e in reviewed] == [false_alarm.pk, true_event.pk]
        for reviewed_event in (false_alarm, true_event, on_test_day):
            reviewed_event.refresh_from_db()
        assert (false_alarm.review, false_alarm.anomaly_class, false_alarm.reviewer) == ("dismissed", "", user)
        assert (true_event.review, true_event.anomaly_class) == ("confirmed", "boat"), "the widest overlap's class"
        assert on_test_day.review == "unreviewed"
        assert (version.parent, version.is_active, version.config) == (cae, False, {**TINY_CAE, "epochs": 2})
        assert training.params == {"evaluate": True}
        training = run_succeeds(training, run_training)
        version.refresh_from_db()
        assert version.reviews_used == {"confirmed": [true_event.pk], "dismissed": [false_alarm.pk]}

        client = login(user)
        page = client.get(version.get_absolute_url()).content.decode()
        missing = demo.retrained_page_problems(page, version)
        assert len(missing) == 2 and all("held-out" in m or "beside Demo CAE" in m for m in missing), missing
        evaluation = demo.held_out_evaluation(version)
        assert evaluation.pk == training.result["evaluation_job"]
        run_succeeds(evaluation, run_evaluation)
        assert demo.retraining(cae, user) == (version, None, []), "a second demo run reuses the version"
    page = client.get(version.get_absolute_url()).content.decode()
    assert demo.retrained_page_problems(page, version) == []


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
