"""Faults on real processes: a worker SIGKILLed mid-ingest and mid-training, Redis restarted with jobs queued,
the database gone for seconds during a job, the media disk full during an upload.

After each, every job ends succeeded or failed with a reason, nothing is half-written in place, and a re-run
succeeds.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from django.db import connection
from django.test import override_settings

from tests.reliability.faults import CuttableProxy, PrivateRedis
from tests.support.seed import make_user
from tests.support.videos import make_video
from webapp.catalog.models import Area, Mission, Video
from webapp.detectors.models import Detector
from webapp.jobs import services
from webapp.jobs.models import Job
from webapp.jobs.sweep import sweep_jobs
from workers.celery_app import app, configure

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def new_video(mission: Mission, source: Path, media_root: Path) -> Video:
    video = Video.objects.create(mission=mission, original_name=source.name)
    folder = media_root / video.media_dir
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "original.mp4"
    target.write_bytes(source.read_bytes())
    Video.objects.filter(pk=video.pk).update(file=f"{video.media_dir}/original.mp4", size_bytes=target.stat().st_size)
    video.refresh_from_db()
    return video


def stray_files(folder: Path) -> list[str]:
    """Names that look like partial outputs: temp files and staging folders left behind."""
    return sorted(p.name for p in folder.rglob("*") if p.name.startswith(".") or ".tmp" in p.name
                  or p.name.endswith(".part"))


def kill_mid_job(worker, job, *, at_progress: float):
    worker.wait_for(job, until=lambda j: j.state == Job.State.RUNNING and j.progress >= at_progress, timeout=240)
    worker.kill()
    time.sleep(2.5)  # the dead run's heartbeats have stopped (they come every second in tests)
    report = sweep_jobs(stale_seconds=2)
    assert report.requeued == [job.pk], report
    worker.start()
    job = worker.wait_for(job, timeout=600)
    assert job.state == Job.State.SUCCEEDED, f"{job.error}\n{worker.log()[-3000:]}"
    assert job.attempts == 2
    return job


@pytest.fixture
def mission(db):
    area = Area.objects.create(name="Fault area")
    return Mission.objects.create(area=area, name="Fault patrol", date=dt.date(2026, 11, 28))


def test_a_worker_killed_mid_ingest_leaves_the_video_whole_after_the_rerun(celery_worker, mission, tmp_path):
    source = make_video(tmp_path / "long.mp4", seconds=60, fps=10, width=320, height=240)
    video = new_video(mission, source, celery_worker.media_root)
    job = kill_mid_job(celery_worker, services.start_ingest(video), at_progress=0.15)
    video.refresh_from_db()
    assert video.status == Video.Status.READY and video.error == ""
    folder = celery_worker.media_root / video.media_dir
    frames = np.load(folder / "frames.npy", mmap_mode="r")
    times = np.load(folder / "timestamps.npy")
    assert len(frames) == len(times) == video.frame_count == 120  # 60 s at 2 fps, each once
    assert np.all(np.diff(times) > 0)
    assert stray_files(folder) == [], f"no half-written outputs left: {sorted(folder.rglob('*'))}"
    assert Job.objects.filter(kind=Job.Kind.INGEST, video=video).count() == 1 and job.attempts == 2


def test_a_worker_killed_mid_training_trains_again_to_a_loadable_model(celery_worker, mission, tmp_path):
    source = make_video(tmp_path / "normal.mp4", seconds=20, fps=10, width=96, height=96)
    video = new_video(mission, source, celery_worker.media_root)
    assert celery_worker.wait_for(services.start_ingest(video)).state == Job.State.SUCCEEDED
    Video.objects.filter(pk=video.pk).update(label=Video.Label.NORMAL)
    detector = Detector.objects.create(area=mission.area, kind="cae", name="CAE under fire",
                                       config={"epochs": 16, "patience": 1000})
    kill_mid_job(celery_worker, services.start_training(detector), at_progress=0.25)
    detector.refresh_from_db()
    assert detector.status == Detector.Status.READY and detector.threshold is not None
    from detection.detector_file import load_detector

    model = load_detector(celery_worker.media_root / detector.artifact)
    assert model.kind == "cae" and model.threshold == pytest.approx(detector.threshold)
    assert stray_files(celery_worker.media_root / detector.media_dir) == []


def test_jobs_queued_when_redis_restarts_are_resent_by_the_sweep_and_run_once(worker_factory, tmp_path):
    redis = PrivateRedis(tmp_path).start()
    override = override_settings(REDIS_URL=redis.url, CELERY_BROKER_URL=redis.url, CELERY_KEY_PREFIX="")
    override.enable()
    configure(app)
    try:
        jobs = [services.start_job("noop", params={"steps": 2, "step_seconds": 0.05, "write_result": True})
                for _ in range(8)]
        redis.kill()  # the queued messages die with it
        redis.start()
        worker = worker_factory("after-restart", REDIS_URL=redis.url, SKERRY_CELERY_KEY_PREFIX="")
        time.sleep(2)
        assert all(j.state == Job.State.QUEUED for j in Job.objects.filter(pk__in=[j.pk for j in jobs]))
        report = sweep_jobs(stale_seconds=0)
        assert sorted(report.resent) == sorted(j.pk for j in jobs)
        done = [worker.wait_for(job, timeout=60) for job in jobs]
        assert all(j.state == Job.State.SUCCEEDED and j.attempts == 1 for j in done), [j.error for j in done]
        results = sorted(p.name for p in (worker.media_root / "noop").iterdir() if p.stem.isdigit()
                         and int(p.stem) in {j.pk for j in jobs})
        assert len(results) == len(jobs), "each job wrote its one result"
        worker.stop()
    finally:
        redis.kill()
        override.disable()
        configure(app)


def test_a_job_survives_the_database_going_away_for_seconds(worker_factory):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): SQLite is a file, it cannot go away")
    db = connection.settings_dict
    proxy = CuttableProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    try:
        url = f"postgres://{db['USER']}@127.0.0.1:{proxy.port}/{db['NAME']}"
        worker = worker_factory("through-proxy", DATABASE_URL=url)
        job = services.start_job("noop", params={"steps": 40, "step_seconds": 0.15, "write_result": True})
        worker.wait_for(job, until=lambda j: j.state == Job.State.RUNNING and j.progress >= 0.2)
        proxy.cut()
        time.sleep(4)
        proxy.restore()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.state in Job.FINAL_STATES:
                break
            sweep_jobs(stale_seconds=3)
            time.sleep(0.5)
        assert job.state in Job.FINAL_STATES, f"job left {job.state}: {job.stage}\n{worker.log()[-3000:]}"
        if job.state == Job.State.FAILED:
            assert job.error, "a failure must say why"
            assert services.retry_job(job)
            job = worker.wait_for(job, timeout=60)
        assert job.state == Job.State.SUCCEEDED, job.error
        assert (worker.media_root / "noop" / f"{job.pk}.json").exists()
        worker.stop()
    finally:
        proxy.close()


@pytest.fixture
def small_disk(tmp_path):
    """A small tmpfs as the media root; skips where mounting is not allowed (needs root)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount_point)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a size-limited tmpfs here (needs root)")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill_disk(folder: Path) -> Path:
    """Another writer takes every free byte of the disk."""
    filler = folder / "other-writer.bin"
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_during_an_upload_is_reported_and_the_upload_resumes_once_space_is_freed(
    client, small_disk, tmp_path, settings, monkeypatch, celery_worker_process
):
    import base64
    import hashlib

    import webapp.uploads.protocol as protocol

    # The module's worker (left running by the tests above) would ingest the finished upload while the test's
    # database is being flushed, and the two deadlock; this test is about the upload, so no worker runs.
    celery_worker_process.stop()

    monkeypatch.setattr(protocol, "DISK_RESERVE_BYTES", 0)  # the space check at creation passes on this tiny disk
    settings.MEDIA_ROOT = small_disk
    data = make_video(tmp_path / "patrol.mp4", seconds=6, fps=10, width=160, height=120).read_bytes()
    analyst = make_user("ulla", "analyst")
    client.force_login(analyst)
    area = Area.objects.create(name="Disk area")
    mission = Mission.objects.create(area=area, name="Disk patrol", date=dt.date(2026, 11, 28))
    tus = {"HTTP_TUS_RESUMABLE": "1.0.0"}
    created = client.post(f"/missions/{mission.pk}/uploads/", HTTP_UPLOAD_LENGTH=str(len(data)),
                          HTTP_UPLOAD_METADATA="filename " + base64.b64encode(b"patrol.mp4").decode(), **tus)
    assert created.status_code == 201, created.content
    location = created["Location"]
    chunk = max(1, len(data) // 4)

    def patch(offset: int):
        return client.patch(location, data[offset:offset + chunk], content_type="application/offset+octet-stream",
                            HTTP_UPLOAD_OFFSET=str(offset), **tus)

    first = patch(0)
    assert first.status_code == 204
    offset = int(first["Upload-Offset"])
    filler = fill_disk(small_disk)
    refused = patch(offset)
    assert refused.status_code == 507, refused.content
    assert "no space left" in refused.json()["error"].lower()
    assert not mission.videos.exists()
    assert int(client.head(location, **tus)["Upload-Offset"]) == offset
    part = next((small_disk / "uploads").iterdir())
    assert part.read_bytes() == data[:offset], "only whole, correct bytes kept"

    filler.unlink()  # space is freed
    while offset < len(data):
        response = patch(offset)
        assert response.status_code == 204, response.content
        offset = int(response["Upload-Offset"])
    video = mission.videos.get()
    assert video.sha256 == hashlib.sha256(data).hexdigest()
