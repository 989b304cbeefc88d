"""A live mission end to end: a real FFmpeg publisher, a real worker on the `live` queue, the sweep."""

from __future__ import annotations

import time

import numpy as np
import pytest

from detection.video.proxy import REMUXED
from detection.video.sampling import sample_frames
from tests.support.live import flight, live_mission, route_flight, trained_cae, trained_change
from tests.support.publish import free_port, publish, serve_folder, stop
from webapp.catalog.models import Video
from webapp.detectors.models import Event, ScoreRun
from webapp.jobs.models import Job
from webapp.jobs.sweep import sweep_jobs
from webapp.live.alerts import alert_message
from webapp.live.models import LiveStream
from webapp.live.services import start_stream
from workers.claim import run_job
from workers.scoring import run_scoring

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LIVE_ENV = {"SKERRY_SAMPLE_SIZE": "32", "SKERRY_LIVE_END_AFTER": "8", "SKERRY_LIVE_CONNECT_TIMEOUT": "20",
            "SKERRY_LIVE_SEGMENT_SECONDS": "2"}


@pytest.fixture(scope="module")
def live_worker(worker_factory):
    return worker_factory("live", queues="live,cpu", **LIVE_ENV)


@pytest.fixture
def worker(live_worker, settings):
    if not live_worker.alive():
        live_worker.start()
    settings.MEDIA_ROOT = live_worker.media_root
    return live_worker


def wait_until(check, worker, *, timeout: float = 60.0, what: str = ""):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, (f"{what} not seen after {timeout} s; jobs "
                                             f"{list(Job.objects.values('kind', 'state', 'stage', 'error'))}, streams "
                                             f"{list(LiveStream.objects.values('state', 'gaps', 'error'))}; worker log:\n"
                                             f"{worker.log()[-3000:]}")
        time.sleep(0.1)
    return found


def test_a_live_stream_yields_a_recorded_scored_mission_with_an_alert(worker, tmp_path):
    mission = live_mission()
    detector = trained_cae(mission.area, tmp_path)
    source = flight(tmp_path / "patrol.mp4", seconds=8.0, box_from=4.0, box_until=6.0, offset=200)
    port = free_port()
    publisher = publish(source, f"tcp://127.0.0.1:{port}", listen=True)
    stream, job = start_stream(mission, f"tcp://127.0.0.1:{port}")
    wait_until(lambda: Event.objects.filter(score_run__video__mission=mission).exists(), worker, what="an alert")
    live_event = Event.objects.get(score_run__video__mission=mission)
    assert live_event.level is not None and live_event.level >= 1.0 and 3.5 <= live_event.start <= 6.5
    job = worker.wait_for(job, timeout=90)
    stop(publisher)
    assert job.state == Job.State.SUCCEEDED, f"{job.error}\n{worker.log()[-3000:]}"
    stream.refresh_from_db()
    assert stream.state == LiveStream.State.ENDED and stream.error == "" and stream.alerts >= 1
    video = Video.objects.get(pk=stream.video_id)
    assert video.status == Video.Status.READY and video.has_proxy and abs(video.duration - 8.0) < 2.0
    # The recording is browser-playable H.264: its proxy is remuxed, and plays the frames ingest sampled.
    folder = worker.media_root / video.media_dir
    assert video.proxy_method == REMUXED
    proxy = sample_frames(folder / "proxy.mp4", fps=video.sample_fps, size=(32, 32))
    np.testing.assert_array_equal(proxy.frames, np.load(folder / "frames.npy"))
    np.testing.assert_allclose(proxy.times, np.load(folder / "timestamps.npy"))
    run = ScoreRun.objects.get(detector=detector, video=video)
    assert run.status == ScoreRun.Status.READY and run.frame_count == video.frame_count
    assert job.result["scored_live"] >= 12 and job.result["scored_after"] <= 4  # nothing scored twice
    (event,) = Event.objects.filter(score_run=run)
    assert event.start <= 4.5 and 5.5 <= event.end <= 6.5 and event.level >= 1.0
    assert (worker.media_root / stream.media_dir / "latest.jpg").stat().st_size > 500


def test_an_hls_playlist_over_http_yields_a_recorded_mission_with_an_alert(worker, tmp_path):
    # FFmpeg writes a live HLS playlist of 1 s segments into a folder a small HTTP server serves; the worker
    # reads the playlist's URL as it would a ground station's, and ends when the playlist does.
    mission = live_mission("HLS patrol")
    detector = trained_cae(mission.area, tmp_path)
    source = flight(tmp_path / "patrol.mp4", seconds=8.0, box_from=4.0, box_until=6.0, offset=200)
    (tmp_path / "hls").mkdir()
    with serve_folder(tmp_path / "hls") as base:
        publisher = publish(source, str(tmp_path / "hls" / "drone.m3u8"), fmt="hls",
                            options=("-hls_time", "1", "-hls_list_size", "10", "-hls_flags", "delete_segments"))
        stream, job = start_stream(mission, f"{base}/drone.m3u8")
        job = worker.wait_for(job, timeout=90)
        stop(publisher)
    assert job.state == Job.State.SUCCEEDED, f"{job.error}\n{worker.log()[-3000:]}"
    stream.refresh_from_db()
    assert stream.state == LiveStream.State.ENDED and stream.gaps == [] and stream.alerts >= 1
    video = Video.objects.get(pk=stream.video_id)
    assert video.status == Video.Status.READY and video.proxy_method == REMUXED
    assert 7.5 <= video.duration <= 8.5  # from the oldest segment listed, never replayed at the end
    # Segments already listed arrive faster than real time: the newest frames are scored, the rest afterwards.
    assert job.result["scored_live"] >= 6 and job.result["scored_live"] + job.result["scored_after"] >= 16
    (event,) = Event.objects.filter(score_run__detector=detector, score_run__video=video)
    assert 3.5 <= event.start <= 4.5 and 5.5 <= event.end <= 6.5


def test_the_area_s_change_detector_compares_the_stream_with_its_reference_flight_and_alerts(worker, tmp_path):
    change = trained_change(tmp_path)
    mission = live_mission("Route patrol")
    source = route_flight(tmp_path / "today.mp4", seconds=8.0, box_from=2.0)
    port = free_port()
    publisher = publish(source, f"tcp://127.0.0.1:{port}", listen=True)
    stream, job = start_stream(mission, f"tcp://127.0.0.1:{port}")
    live_alert = wait_until(lambda: Event.objects.filter(score_run__detector=change,
                                                         score_run__video__mission=mission).first(),
                            worker, what="a CHANGE alert")
    assert 1.5 <= live_alert.start <= 6.0  # raised while the stream ran, from the box on
    stream.refresh_from_db()
    assert alert_message(stream, live_alert)["detector"] == "CHANGE"  # what the page and the API show
    job = worker.wait_for(job, timeout=90)
    stop(publisher)
    assert job.state == Job.State.SUCCEEDED, f"{job.error}\n{worker.log()[-3000:]}"
    result = job.result
    assert result["change_compared"] >= 3 and result["change_error"] == ""
    assert result["change_compared"] + result["change_skipped"] + result["dropped_frames"] == 16  # each sample once
    # The recording is then scored by CHANGE's batch pass (queued for a `gpu` worker; run here), whose events
    # replace the live ones.
    video = Video.objects.get(pk=stream.video_id)
    score = Job.objects.get(kind=Job.Kind.SCORE, video=video, state=Job.State.QUEUED)
    assert run_job(score.pk, run_scoring, worker="test") == "succeeded", Job.objects.get(pk=score.pk).error
    run = ScoreRun.objects.get(detector=change, video=video, status=ScoreRun.Status.READY)
    assert Event.objects.filter(score_run=run, end__gte=2.0).exists()


def test_a_stream_that_never_connects_fails_the_mission_clearly(worker):
    mission = live_mission("Nobody home")
    port = free_port()
    stream, job = start_stream(mission, f"tcp://127.0.0.1:{port}")
    job = worker.wait_for(job, timeout=60)
    stream.refresh_from_db()
    assert job.state == Job.State.FAILED and "did not open within 20 s" in job.error
    assert stream.state == LiveStream.State.FAILED and "did not open" in stream.error


def test_a_dropped_connection_reconnects_and_a_killed_worker_resumes_in_a_new_segment(worker, tmp_path):
    mission = live_mission("Rough link")
    trained_cae(mission.area, tmp_path)
    port = free_port()
    first = publish(flight(tmp_path / "a.mp4", seconds=4.0), f"tcp://127.0.0.1:{port}", listen=True)
    stream, job = start_stream(mission, f"tcp://127.0.0.1:{port}")
    first.wait(30)
    time.sleep(1.0)  # the link drops for a moment
    second = publish(flight(tmp_path / "b.mp4", seconds=30.0, offset=40), f"tcp://127.0.0.1:{port}", listen=True)
    wait_until(lambda: _has_gap_and_live(stream), worker, what="the reconnection")
    time.sleep(2.0)
    worker.kill()  # mid-flight: no chance to close the open segment
    stop(second)
    job.refresh_from_db()
    assert job.state == Job.State.RUNNING
    third = publish(flight(tmp_path / "c.mp4", seconds=4.0, offset=400), f"tcp://127.0.0.1:{port}", listen=True)
    time.sleep(1.5)
    assert job.pk in sweep_jobs(stale_seconds=1).requeued
    worker.start()
    job = worker.wait_for(job, timeout=120)
    stop(third)
    assert job.state == Job.State.SUCCEEDED, f"{job.error}\n{worker.log()[-3000:]}"
    assert job.attempts == 2
    stream.refresh_from_db()
    assert stream.state == LiveStream.State.ENDED
    reasons = [gap["reason"] for gap in stream.gaps]
    assert len(reasons) == 2 and "resumed" in reasons[1], stream.gaps  # the drop, then the lost worker
    segments = sorted(p.name for p in (worker.media_root / stream.media_dir / "segments").glob("seg-*.ts"))
    assert len(segments) >= 3 and not list((worker.media_root / stream.media_dir).rglob("*.part"))
    video = Video.objects.get(pk=stream.video_id)
    assert video.status == Video.Status.READY and video.duration > 8.0  # both runs' recording, joined


def _has_gap_and_live(stream) -> bool:
    row = LiveStream.objects.get(pk=stream.pk)
    return row.state == LiveStream.State.LIVE and len(row.gaps) == 1
