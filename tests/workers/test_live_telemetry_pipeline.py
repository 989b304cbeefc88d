"""A live mission with telemetry end to end: a real FFmpeg publisher, a real worker on the `live` queue, and a
ground station posting the drone's poses (Unix-time stamped) through the API while the stream runs. CHANGE
matches frames by those poses as they arrive, the facts count them, and the recording gets them as its
telemetry sidecar, which its batch CHANGE pass reads."""

from __future__ import annotations

import shutil
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from detection.telemetry import GeoOrigin, PoseTable, read_telemetry, write_srt
from tests.support.live import live_mission, route_flight
from tests.support.publish import free_port, publish, stop
from tests.support.seed import make_user
from webapp.catalog.models import Video
from webapp.catalog.telemetry import place_sidecar
from webapp.detectors.models import Detector, ScoreRun
from webapp.jobs.models import Job
from webapp.live.models import LiveStream
from webapp.live.services import start_stream
from workers.claim import run_job
from workers.scoring import run_scoring

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LIVE_ENV = {"SKERRY_SAMPLE_SIZE": "32", "SKERRY_LIVE_END_AFTER": "8", "SKERRY_LIVE_CONNECT_TIMEOUT": "20",
            "SKERRY_LIVE_SEGMENT_SECONDS": "2"}
ORIGIN = GeoOrigin(59.3, 18.9)
FLIGHT_SECONDS = 8.0


@pytest.fixture(scope="module")
def live_worker(worker_factory):
    return worker_factory("live-telemetry", queues="live,cpu", **LIVE_ENV)


@pytest.fixture
def worker(live_worker, settings):
    if not live_worker.alive():
        live_worker.start()
    settings.MEDIA_ROOT = live_worker.media_root
    return live_worker


def route_poses(start: float, seconds: float, *, every: float = 0.1) -> PoseTable:
    """Where the camera of tests.support.live.route_flight(start=...) is: its frame's centre moves 30 ground
    pixels (metres here) east a second, at 100 m."""
    times = np.round(np.arange(0.0, seconds + 1e-9, every), 3)
    latitude, longitude = ORIGIN.to_latlon(100 + start + 30 * times + 80, np.full(len(times), -360.0))
    return PoseTable.from_columns(times, latitude, longitude, rel_alt=np.full(len(times), 100.0),
                                  yaw=np.full(len(times), 90.0), pitch=np.full(len(times), -90.0))


def trained_change_with_telemetry(folder: Path) -> Detector:
    """As tests.support.live.trained_change, with a DJI .SRT sidecar on every flight: the reference frames are
    indexed with their poses, so a frame with telemetry is matched by pose."""
    from tests.support.jobs import ingest_job, uploaded_video
    from webapp.catalog.models import Area, LabelInterval
    from workers.ingest import run_ingest
    from workers.training import run_training

    for name, seconds, start, box_from, label in (("calm-1.mp4", 4.0, -3, None, "normal"),
                                                  ("calm-2.mp4", 9.0, 4, None, "normal"),
                                                  ("boat.mp4", 4.0, 0, 2.0, "anomalous")):
        video = uploaded_video(route_flight(folder / name, seconds=seconds, start=start, box_from=box_from), name)
        srt = write_srt(folder / f"{Path(name).stem}.SRT", route_poses(start, seconds), datetime(2026, 6, 1, 10))
        place_sidecar(video, srt, shutil.copy)
        assert run_job(ingest_job(video).pk, run_ingest, worker="test") == "succeeded"
        Video.objects.filter(pk=video.pk).update(label=label)
        if box_from is not None:
            LabelInterval.objects.create(video=video, start=box_from, end=seconds)
        assert Video.objects.get(pk=video.pk).has_telemetry
    detector = Detector.objects.create(area=Area.objects.get(name="Harbour"), kind="change", name="route change",
                                       config={"references": 1}, is_active=True)
    train = Job.objects.create(kind=Job.Kind.TRAIN, detector=detector)
    assert run_job(train.pk, run_training, worker="test") == "succeeded", Job.objects.get(pk=train.pk).error
    detector.refresh_from_db()
    assert detector.status == Detector.Status.READY
    return detector


class GroundStation:
    """Posts the flight's poses as they happen, stamped with its own clock (Unix seconds), in small batches."""

    def __init__(self, stream: LiveStream, poses: PoseTable):
        token = Token.objects.create(user=make_user("gus", "analyst"))
        self.client = Client(headers={"Authorization": f"Token {token.key}"})
        self.stream, self.poses = stream, poses
        self.zero: float | None = None  # the Unix time of video second 0, as the station's clock has it
        self.sent = 0
        self.answers: list[int] = []

    def send_due(self) -> None:
        """Post the poses up to now; before the first frame there is no video second 0 to stamp from."""
        if self.zero is None:
            clock = LiveStream.objects.get(pk=self.stream.pk).clock
            if not clock:
                return
            self.zero = clock[0][1]
        due = int(np.searchsorted(self.poses.time, time.time() - self.zero, side="right"))
        if due <= self.sent:
            return
        rows = [{"timestamp": self.zero + float(self.poses.time[i]), "latitude": float(self.poses.latitude[i]),
                 "longitude": float(self.poses.longitude[i]), "rel_alt": 100.0, "yaw": 90.0, "pitch": -90.0}
                for i in range(self.sent, due)]
        response = self.client.post(f"/api/live/{self.stream.pk}/telemetry/", {"poses": rows},
                                    content_type="application/json")
        self.answers.append(response.status_code)
        if response.status_code == 201:
            self.sent = due
        else:
            assert response.status_code == 409, response.content  # the stream is finishing: too late


def test_poses_posted_while_the_stream_runs_match_frames_live_and_become_the_recording_s_telemetry(worker, tmp_path):
    change = trained_change_with_telemetry(tmp_path)
    mission = live_mission("Route patrol with telemetry")
    source = route_flight(tmp_path / "today.mp4", seconds=FLIGHT_SECONDS, box_from=2.0)
    port = free_port()
    publisher = publish(source, f"tcp://127.0.0.1:{port}", listen=True)
    stream, job = start_stream(mission, f"tcp://127.0.0.1:{port}")
    station = GroundStation(stream, route_poses(0, FLIGHT_SECONDS))
    deadline = time.monotonic() + 120
    while Job.objects.get(pk=job.pk).state not in (Job.State.SUCCEEDED, Job.State.FAILED):
        assert time.monotonic() < deadline, f"the live job did not end; worker log:\n{worker.log()[-3000:]}"
        station.send_due()
        time.sleep(0.25)
    stop(publisher)
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, f"{job.error}\n{worker.log()[-3000:]}"
    assert station.sent >= 50 and station.answers.count(201) >= 5  # the flight's poses, in many batches
    result = job.result
    assert result["change_error"] == "" and result["change_compared"] >= 3
    # Frames compared once the station's poses had arrived were matched by them.
    assert 1 <= result["change_by_telemetry"] <= result["change_compared"]
    assert result["telemetry_poses"] == station.sent and result["telemetry_sidecar"] is True
    stream.refresh_from_db()
    assert stream.state == LiveStream.State.ENDED and stream.pose_clock == "timestamp"
    assert (stream.change_compared, stream.change_by_telemetry) == (result["change_compared"],
                                                                   result["change_by_telemetry"])
    late = station.client.post(f"/api/live/{stream.pk}/telemetry/", {"poses": [
        {"timestamp": time.time(), "latitude": 59.3, "longitude": 18.9}]}, content_type="application/json")
    assert late.status_code == 409

    # The recording's telemetry is the received poses, in video seconds.
    video = Video.objects.get(pk=stream.video_id)
    assert video.status == Video.Status.READY and video.has_telemetry and video.telemetry_error == ""
    assert video.telemetry_name == f"live-{stream.pk}-telemetry.srt"
    poses = read_telemetry(video.telemetry_path)
    expected = route_poses(0, FLIGHT_SECONDS)
    assert len(poses) >= 50 and poses.time[0] >= 0 and poses.time[-1] <= video.duration + 1.0
    # Stamped with the decode time of the first frame, so at most a few tenths of a second late.
    east, _ = ORIGIN.to_metres(poses.latitude, poses.longitude)
    true_east, _ = ORIGIN.to_metres(expected.at(poses.time).latitude, expected.at(poses.time).longitude)
    assert np.abs(east - true_east).max() < 30 * 0.5

    # The batch CHANGE pass (queued for a `gpu` worker; run here) reads it.
    score = Job.objects.get(kind=Job.Kind.SCORE, video=video, state=Job.State.QUEUED)
    assert run_job(score.pk, run_scoring, worker="test") == "succeeded", Job.objects.get(pk=score.pk).error
    assert ScoreRun.objects.get(detector=change, video=video).status == ScoreRun.Status.READY
