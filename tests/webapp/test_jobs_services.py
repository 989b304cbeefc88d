"""The job services and the machinery under them, on the real database, without a worker."""

from __future__ import annotations

import datetime as dt
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from webapp.catalog.models import Area, Mission, Video
from webapp.detectors.models import Detector
from webapp.jobs import services
from webapp.jobs.kinds import JOB_KINDS
from webapp.jobs.models import Job
from webapp.jobs.sweep import sweep_jobs
from workers.claim import claim_job, finish_job, run_job
from workers.progress import JobCancelled, JobLost, JobReporter

pytestmark = pytest.mark.django_db


@pytest.fixture
def video():
    area = Area.objects.create(name="Harbour")
    mission = Mission.objects.create(area=area, name="Dawn", date=dt.date(2026, 5, 1))
    return Video.objects.create(mission=mission, original_name="a.mp4", status=Video.Status.READY)


def test_it_enqueues_only_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.start_job("noop", params={"steps": 2})
    assert job.state == Job.State.QUEUED and job.params == {"steps": 2}
    assert len(callbacks) == 1


def test_every_job_kind_has_a_task_and_unknown_kinds_are_refused():
    assert set(JOB_KINDS) == set(Job.Kind.values)
    with pytest.raises(ValueError, match="publish"):
        services.start_job("publish")
    assert not Job.objects.exists()


def test_each_message_carries_its_kinds_task_name_and_goes_to_its_queue(
        video, monkeypatch, django_capture_on_commit_callbacks):
    from webapp.celery import app

    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, args, queue, producer=None: sent.append((name, args, queue)))
    with django_capture_on_commit_callbacks(execute=True):
        ingest = services.start_job("ingest", video=video)
        score = services.start_job("score", video=video, params={"detectors": [1]})
        cpu, gpu = services.start_jobs("noop", [{}, {"queue": "gpu"}])
    assert sent == [("skerry.ingest", [ingest.pk], "cpu"), ("skerry.score", [score.pk], "gpu"),
                    ("skerry.noop", [cpu.pk], "cpu"), ("skerry.noop", [gpu.pk], "gpu")]


def test_it_refuses_a_target_the_kind_does_not_work_on(video):
    with pytest.raises(ValueError, match="ingest jobs do not work on a mission"):
        services.start_job("ingest", mission=video.mission)
    with pytest.raises(ValueError, match="noop jobs do not work on a video"):
        services.start_job("noop", video=video)
    assert not Job.objects.exists()


def test_it_cancels_a_queued_job_at_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = services.start_job("noop")
    assert services.cancel_job(job) is True
    assert job.state == Job.State.CANCELLED and job.finished is not None
    assert claim_job(job.pk, "w") is None, "a cancelled job must not be claimed"


def test_it_asks_a_running_job_to_stop_and_the_reporter_raises(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = services.start_job("noop")
    claimed = claim_job(job.pk, "w")
    reporter = JobReporter(job.pk, claimed.runs, min_interval=0)
    reporter(0.5, "half way")
    assert services.cancel_job(job) is True
    assert job.state == Job.State.RUNNING and job.cancel_requested
    with pytest.raises(JobCancelled):
        reporter(0.6, "more")


def test_a_second_claim_of_the_same_job_fails(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = services.start_job("noop")
    assert claim_job(job.pk, "first") is not None
    assert claim_job(job.pk, "second") is None
    job.refresh_from_db()
    assert (job.worker, job.attempts) == ("first", 1)


def test_a_run_taken_over_cannot_write_any_more(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = services.start_job("noop")
    first = claim_job(job.pk, "first")
    Job.objects.filter(pk=job.pk).update(state=Job.State.QUEUED)  # as the sweep does
    second = claim_job(job.pk, "second")
    with pytest.raises(JobLost):
        JobReporter(job.pk, first.runs, min_interval=0)(0.9, "stale run")
    assert finish_job(job.pk, first.runs, Job.State.SUCCEEDED) is False
    assert finish_job(job.pk, second.runs, Job.State.SUCCEEDED) is True


def test_a_run_from_before_a_retry_cannot_write_either(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = services.start_job("noop")
        old = claim_job(job.pk, "first")
        Job.objects.filter(pk=job.pk).update(state=Job.State.FAILED)  # given up on while "first" hung
        services.retry_job(job)
    new = claim_job(job.pk, "second")
    assert new.attempts == old.attempts == 1 and new.runs == 2
    assert finish_job(job.pk, old.runs, Job.State.SUCCEEDED) is False


def test_a_raising_pipeline_leaves_its_error_on_the_job(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = services.start_job("noop")

    def pipeline(job, reporter):
        reporter(0.3, "working")
        raise ValueError("the frames file is missing")

    assert run_job(job.pk, pipeline, worker="w") == "failed"
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and "the frames file is missing" in job.error
    assert job.progress == pytest.approx(0.3)


def test_it_retries_a_failed_job_with_fresh_attempts(django_capture_on_commit_callbacks):
    job = Job.objects.create(kind="noop", state=Job.State.FAILED, attempts=3, error="boom")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert services.retry_job(job) is True
    assert (job.state, job.attempts, job.error) == (Job.State.QUEUED, 0, "")
    assert len(callbacks) == 1
    done = Job.objects.create(kind="noop", state=Job.State.SUCCEEDED)
    assert services.retry_job(done) is False


def test_it_reuses_an_ingest_under_way(video, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = services.start_ingest(video)
        second = services.start_ingest(video)
    assert first.pk == second.pk and len(callbacks) == 1


def test_scoring_needs_a_ready_detector(video, django_capture_on_commit_callbacks):
    assert services.start_scoring(video.mission) is None
    detector = Detector.objects.create(area=video.mission.area, kind="cae", name="d", status="ready", is_active=True)
    with django_capture_on_commit_callbacks(execute=False):
        job = services.start_scoring(video.mission)
    assert job.mission == video.mission and job.params == {"detectors": [detector.pk]}
    with pytest.raises(TypeError):
        services.start_scoring(detector)


def _stale_running_job(attempts: int) -> Job:
    long_ago = timezone.now() - timedelta(minutes=10)
    return Job.objects.create(kind="noop", state=Job.State.RUNNING, attempts=attempts, heartbeat=long_ago,
                              started=long_ago, worker="w1@host pid 7")


def test_the_sweep_requeues_a_dead_run_then_gives_up(django_capture_on_commit_callbacks, settings):
    settings.JOB_MAX_ATTEMPTS = 2
    retried, given_up = _stale_running_job(1), _stale_running_job(2)
    fresh = Job.objects.create(kind="noop", state=Job.State.RUNNING, attempts=1, heartbeat=timezone.now())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = sweep_jobs(stale_seconds=60)
    assert report.requeued == [retried.pk] and report.failed == [given_up.pk] and len(callbacks) == 1
    for job in (retried, given_up, fresh):
        job.refresh_from_db()
    assert retried.state == Job.State.QUEUED and "w1@host" in retried.stage
    assert given_up.state == Job.State.FAILED and "stopped responding" in given_up.error
    assert fresh.state == Job.State.RUNNING


def test_it_starts_many_jobs_with_one_insert_and_one_send(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        jobs = services.start_jobs("noop", [{"steps": 1}, {"steps": 2}])
    assert [job.params["steps"] for job in jobs] == [1, 2] and all(job.pk and job.enqueued for job in jobs)
    assert len(callbacks) == 1


@pytest.mark.usefixtures("isolated_broker")
def test_the_sweep_resends_queued_jobs_whose_message_is_not_in_the_broker():
    long_ago = timezone.now() - timedelta(minutes=10)
    stranded = Job.objects.create(kind="noop", created=long_ago, enqueued=long_ago)
    recent = Job.objects.create(kind="noop", enqueued=timezone.now())
    first = sweep_jobs(stale_seconds=60)
    assert first.resent == [stranded.pk], "a Redis restart lost its message: send it again"
    stranded.refresh_from_db()
    assert stranded.enqueued > long_ago and recent.pk not in first.resent
    Job.objects.filter(pk=stranded.pk).update(enqueued=long_ago)
    assert sweep_jobs(stale_seconds=60).resent == [], "its message is waiting in the broker now: no duplicate"


def test_the_sweep_command_reports_what_it_did(capsys, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    job = _stale_running_job(1)
    with django_capture_on_commit_callbacks(execute=False):
        call_command("sweep_jobs", stale_seconds=60)
    assert f"1 requeued [{job.pk}]" in capsys.readouterr().out


def test_a_job_past_its_time_limit_fails_saying_so(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = services.start_job("noop")

    def slow(job, reporter):
        for step in range(50):
            reporter(step / 50, "working")
            time.sleep(0.02)

    assert run_job(job.pk, slow, worker="w", time_limit=0.2) == "timed out"
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and "ran past its time limit of 0.2 s" in job.error


def test_progress_carries_an_eta(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = services.start_job("noop")
    claimed = claim_job(job.pk, "w")
    reporter = JobReporter(job.pk, claimed.runs, min_interval=0)
    reporter.started -= 10  # ten seconds in
    reporter(0.25, "a quarter")
    job.refresh_from_db()
    assert job.eta_seconds == pytest.approx(30, abs=1) and job.stage == "a quarter"
    assert job.progress == pytest.approx(0.25)


def test_the_broker_reader_counts_only_job_messages():
    import base64
    import json

    from webapp.jobs.broker import job_id_of

    def message(task, args):
        body = base64.b64encode(json.dumps([args, {}, {}]).encode()).decode()
        return {"headers": {"task": task}, "body": body, "properties": {"body_encoding": "base64"}}

    assert job_id_of(message("skerry.score", [7])) == 7
    assert job_id_of(message("skerry.ingest_piece", [7, 2])) is None, "a helper of a running job, not a queued job"
    assert job_id_of(message("skerry.sweep", [])) is None
    assert job_id_of(message("other.task", [7])) is None
