"""A live mission over SRT end to end: a real FFmpeg pushing SRT to the worker's listening endpoint, read through
the relay by the system's FFmpeg when PyAV's own FFmpeg has no SRT (detection/live/relay.py)."""

from __future__ import annotations

import pytest

from tests.support.live import flight, live_mission, trained_cae
from tests.support.publish import free_port, publish, stop
from tests.support.srt import RELAYED, needs_srt, relays
from tests.workers.test_live_pipeline import LIVE_ENV, wait_until
from webapp.catalog.models import Video
from webapp.detectors.models import Event, ScoreRun
from webapp.jobs.models import Job
from webapp.live.models import LiveStream
from webapp.live.services import start_stream

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), needs_srt]


@pytest.fixture(scope="module")
def live_worker(worker_factory):
    return worker_factory("live-srt", queues="live,cpu", **LIVE_ENV)


@pytest.fixture
def worker(live_worker, settings):
    if not live_worker.alive():
        live_worker.start()
    settings.MEDIA_ROOT = live_worker.media_root
    return live_worker


def test_an_srt_stream_pushed_to_the_worker_yields_a_recorded_scored_mission_with_an_alert(worker, tmp_path):
    mission = live_mission("SRT patrol")
    detector = trained_cae(mission.area, tmp_path)
    source = flight(tmp_path / "patrol.mp4", seconds=8.0, box_from=4.0, box_until=6.0, offset=200)
    port = free_port()
    url = f"srt://127.0.0.1:{port}"
    stream, job = start_stream(mission, url, listen=True)
    wait_until(lambda: not RELAYED or relays(port), worker, what="the worker's SRT relay listening")
    publisher = publish(source, url)
    wait_until(lambda: Event.objects.filter(score_run__video__mission=mission).exists(), worker, what="an alert")
    live_event = Event.objects.get(score_run__video__mission=mission)
    assert 3.5 <= live_event.start <= 6.5
    job = worker.wait_for(job, timeout=90)
    stop(publisher)
    assert job.state == Job.State.SUCCEEDED, f"{job.error}\n{worker.log()[-3000:]}"
    stream.refresh_from_db()
    assert stream.state == LiveStream.State.ENDED and stream.error == "" and stream.gaps == []
    video = Video.objects.get(pk=stream.video_id)
    assert video.status == Video.Status.READY and abs(video.duration - 8.0) < 0.5
    run = ScoreRun.objects.get(detector=detector, video=video)
    (event,) = Event.objects.filter(score_run=run)
    assert event.start <= 4.5 and 5.5 <= event.end <= 6.5
    assert job.result["scored_live"] >= 12
    assert relays(port) == []  # the relay ended with the stream
