"""The demo's ground station: while FFmpeg replays a demo flight live, the flight's poses go to the live telemetry
API as a ground station would send them, stamped with the wall-clock moment each frame is published, across
FFmpeg's loops; a failed post stops it quietly."""

from __future__ import annotations

import datetime as dt
import logging
import math
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import av
import numpy as np
import pytest
from rest_framework.authtoken.models import Token

from detection.telemetry import PoseTable
from tests.support.publish import free_port, stop
from tests.support.videos import make_video
from webapp.catalog.models import Mission, Video
from webapp.core import demo
from webapp.core.demo_ground_station import (
    PoseSchedule,
    PublishClock,
    TelemetryPoster,
    loop_period,
    start_ground_station,
)
from webapp.live.models import LivePose, LiveStream

T0 = 1_780_000_000.0  # Unix seconds of the first loop's video second 0 in these tests
NAN = math.nan


def flight(times, latitudes, yaw=None) -> PoseTable:
    count = len(times)
    return PoseTable(np.array(times, dtype=float), np.array(latitudes, dtype=float), np.full(count, 18.9),
                     np.full(count, 60.0), np.full(count, 62.5),
                     np.full(count, 90.0) if yaw is None else np.array(yaw, dtype=float), np.full(count, -90.0))


# --- the schedule --------------------------------------------------------------------------------------------


def test_the_rows_go_on_across_loops_each_loop_a_period_later():
    schedule = PoseSchedule.of(flight([0.0, 0.5, 1.0, 1.5], [59.0, 59.1, 59.2, 59.3], yaw=[90, NAN, 90, 90]),
                               period=1.5)
    assert len(schedule.poses) == 3, "a pose at or past the loop's end is never published before the next loop"
    rows = schedule.rows(T0, after=-math.inf, until=T0 + 4.0)
    # loop 0 at T0 + 0, 0.5, 1.0; loop 1 at T0 + 1.5, 2.0, 2.5; loop 2 at T0 + 3.0, 3.5, 4.0
    assert [row["timestamp"] - T0 for row in rows] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]
    assert [row["latitude"] for row in rows] == [59.0, 59.1, 59.2] * 3
    assert rows[1] == {"timestamp": T0 + 0.5, "latitude": 59.1, "longitude": 18.9, "rel_alt": 60.0,
                       "abs_alt": 62.5, "pitch": -90.0}, "a value the flight lacks is left out"
    assert rows[0]["yaw"] == 90.0
    assert all(b["timestamp"] > a["timestamp"] for a, b in zip(rows, rows[1:]))


def test_batches_taken_second_by_second_are_the_same_rows_with_none_twice():
    schedule = PoseSchedule.of(flight(np.arange(0, 1.0, 0.1), np.linspace(59.0, 59.9, 10)), period=1.0)
    whole = schedule.rows(T0, after=-math.inf, until=T0 + 3.55)
    batches, last = [], -math.inf
    for now in (T0 - 0.5, T0 + 0.95, T0 + 2.0, T0 + 2.01, T0 + 3.55):
        batch = schedule.rows(T0, after=last, until=now)
        batches += batch
        last = batch[-1]["timestamp"] if batch else last
    assert batches == whole and len(whole) == 36  # 3 loops of 10, then 0.0 to 0.5 of the fourth
    assert [round(row["timestamp"] - T0, 6) for row in whole[8:12]] == [0.8, 0.9, 1.0, 1.1]


def test_a_batch_stops_at_the_limit_and_the_next_goes_on_from_there():
    schedule = PoseSchedule.of(flight([0.0, 0.25, 0.5], [59.0, 59.1, 59.2]), period=0.75)
    first = schedule.rows(T0, after=-math.inf, until=T0 + 10.0, limit=4)
    assert [row["timestamp"] - T0 for row in first] == [0.0, 0.25, 0.5, 0.75]
    following = schedule.rows(T0, after=first[-1]["timestamp"], until=T0 + 10.0, limit=2)
    assert [row["timestamp"] - T0 for row in following] == [1.0, 1.25]
    assert schedule.rows(T0, after=-math.inf, until=T0 - 0.1) == [], "nothing before FFmpeg's start"


def test_a_flight_without_positions_has_no_schedule_and_a_bad_period_is_refused():
    assert PoseSchedule.of(flight([0.0, 0.5], [NAN, NAN]), period=1.0) is None
    with pytest.raises(ValueError, match="a loop period must be positive seconds, got 0"):
        PoseSchedule.of(flight([0.0], [59.0]), period=0)


def test_the_publish_clock_keeps_the_report_that_waited_least():
    arrivals = iter([1000.5, 1001.05, 1001.9])  # when each numeric report was read
    clock = PublishClock(["out_time_us=N/A", "out_time_us=-199989", "out_time_us=400000", "progress=continue",
                          "out_time_us=1000000", "out_time_us=1800000", "progress=end"], now=lambda: next(arrivals))
    assert clock.ended.wait(5)
    assert clock.start == pytest.approx(1000.05), "1000.5-0.4 = 1000.1, 1001.05-1.0 = 1000.05, 1001.9-1.8 = 1000.1"


def test_the_loop_period_is_what_ffmpeg_adds_at_each_loop(tmp_path):
    source = make_video(tmp_path / "flight.mp4", seconds=1.5, fps=10, width=64, height=48, gop=5)
    looped = tmp_path / "looped.ts"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-stream_loop", "1", "-i", str(source),
                    "-map", "0:v:0", "-c", "copy", "-f", "mpegts", str(looped)], check=True)
    with av.open(str(looped)) as container:
        stream = container.streams.video[0]
        pts = sorted(float(p.pts * stream.time_base) for p in container.demux(stream) if p.pts is not None)
    assert len(pts) == 30
    assert loop_period(source) == pytest.approx(1.5)
    assert pts[15] - pts[0] == pytest.approx(loop_period(source), abs=1e-3)


# --- against the running server ------------------------------------------------------------------------------


@pytest.fixture
def live(mission):
    video = Video.objects.create(mission=mission, original_name="live.mp4", status=Video.Status.RECORDING)
    return LiveStream.objects.create(mission=mission, url="tcp://127.0.0.1:9000", video=video,
                                     state=LiveStream.State.LIVE)


@pytest.fixture
def replayed(mission, settings, tmp_path):
    """A ready 1 s flight (10 fps) with a pose per frame, each at its own latitude, as ingest stores them."""
    settings.MEDIA_ROOT = tmp_path
    video = Video.objects.create(mission=mission, original_name="patrol.mp4", status=Video.Status.READY,
                                 file="videos/patrol.mp4", has_telemetry=True, pose_count=10)
    make_video(tmp_path / video.file, seconds=1.0, fps=10, width=64, height=48, gop=5)
    flight(np.arange(0, 1.0, 0.1), 59.0 + np.arange(10) / 100).save(tmp_path / video.poses_path)
    return video


def telemetry_get(base: str, stream, user) -> dict:
    import json

    token, _ = Token.objects.get_or_create(user=user)
    request = urllib.request.Request(f"{base}/api/live/{stream.pk}/telemetry/",
                                     headers={"Authorization": f"Token {token.key}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def read_feed(port: int, connected: list, done: threading.Event) -> None:
    """The live worker's side: connect to FFmpeg and read what it publishes until told to stop."""
    for _ in range(100):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            break
        except OSError:
            time.sleep(0.05)
    connected.append(time.time())
    with sock:
        while not done.is_set() and sock.recv(65536):
            pass


@pytest.mark.django_db(transaction=True)
def test_the_poses_land_through_the_api_stamped_when_their_frames_are_published(live_server, live, replayed,
                                                                              analyst, settings):
    port = free_port()
    publisher = demo.start_publisher(Path(settings.MEDIA_ROOT) / replayed.file, f"tcp://127.0.0.1:{port}", progress=True)
    connected, done = [], threading.Event()
    reader = threading.Thread(target=read_feed, args=(port, connected, done), daemon=True)
    poster = None
    try:
        poster = start_ground_station(live, replayed, publisher, api_url=live_server.url, user=analyst)
        reader.start()
        time.sleep(3.6)  # a few batches, over three loops of the 1 s flight
    finally:
        stop(publisher)
        done.set()
    poster.thread.join(5)
    assert not poster.thread.is_alive()
    assert poster.reason == "FFmpeg stopped publishing"
    stored = list(LivePose.objects.filter(stream=live).order_by("pk"))
    assert len(stored) == poster.sent >= 20, "rows of at least two loops"
    stamps = np.array([p.at for p in stored])
    assert np.all(np.diff(stamps) > 0)
    index = np.rint((np.array([p.latitude for p in stored]) - 59.0) * 100).astype(int)  # which pose each row is
    assert list(index[:12]) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1], "the flight from its start, then again"
    # Each row at its frame's wall-clock moment: FFmpeg starts when the reader connects, loops every second.
    loops = np.concatenate([[0], np.cumsum(np.diff(index) < 0)])
    published = connected[0] + loops + index / 10
    assert np.abs(stamps - published).max() < 0.2
    assert stamps[1:11] - stamps[0] == pytest.approx(np.arange(1, 11) / 10, abs=0.02)
    again = [(i, j) for i in range(len(stored)) for j in range(i + 1, len(stored))
             if index[j] == index[i] and loops[j] == loops[i] + 1]
    assert len(again) >= 10 and [stamps[j] - stamps[i] for i, j in again] == pytest.approx([1.0] * len(again),
                                                                                          abs=0.02)
    assert all(p.yaw == 90.0 and p.rel_alt == 60.0 for p in stored)
    live.refresh_from_db()
    assert (live.pose_clock, live.pose_count) == ("timestamp", len(stored))
    assert telemetry_get(live_server.url, live, analyst)["count"] == len(stored)


def blocking_progress(release: threading.Event):
    """FFmpeg's progress as the clock reads it: one report, then nothing until FFmpeg ends."""
    yield "out_time_us=500000\n"
    release.wait(30)


@pytest.mark.django_db(transaction=True)
def test_a_stream_that_ended_stops_the_poster_quietly_with_a_log_line(live_server, live, replayed, analyst,
                                                                     caplog):
    release = threading.Event()
    clock = PublishClock(blocking_progress(release))
    token, _ = Token.objects.get_or_create(user=analyst)
    schedule = PoseSchedule.of(flight(np.arange(0, 1.0, 0.1), np.full(10, 59.0)), period=1.0)
    poster = TelemetryPoster(schedule, clock, url=f"{live_server.url}/api/live/{live.pk}/telemetry/",
                             token=token.key, every=0.2)
    with caplog.at_level(logging.INFO, logger="webapp.core.demo_ground_station"):
        poster.start()
        for _ in range(50):
            if poster.sent:
                break
            time.sleep(0.1)
        assert poster.sent > 0 and poster.thread.is_alive()
        LiveStream.objects.filter(pk=live.pk).update(state=LiveStream.State.ENDED)
        poster.thread.join(10)
        release.set()
    assert not poster.thread.is_alive()
    assert poster.reason.endswith(f"answered 409: live stream #{live.pk} has ended: it takes no more telemetry")
    assert f"Demo ground station stopped after {poster.sent} poses" in caplog.text
    assert LivePose.objects.filter(stream=live).count() == poster.sent


def test_a_server_that_is_gone_stops_the_poster_quietly(caplog):
    release = threading.Event()
    schedule = PoseSchedule.of(flight([0.0, 0.1], [59.0, 59.1]), period=0.2)
    gone = f"http://127.0.0.1:{free_port()}/api/live/1/telemetry/"
    poster = TelemetryPoster(schedule, PublishClock(blocking_progress(release)), url=gone, token="x", every=0.1)
    with caplog.at_level(logging.INFO, logger="webapp.core.demo_ground_station"):
        poster.start().thread.join(10)
    release.set()
    assert not poster.thread.is_alive() and poster.sent == 0
    assert poster.reason.startswith(f"{gone} cannot be reached (") and "stopped after 0 poses" in caplog.text


class PipeLike:
    """What the ground station reads of FFmpeg: its stdout."""

    def __init__(self, lines):
        self.stdout = iter(lines)


@pytest.mark.django_db
def test_a_flight_without_telemetry_gets_no_poster_and_a_line_saying_so(live, replayed, analyst, caplog):
    Video.objects.filter(pk=replayed.pk).update(has_telemetry=False)
    replayed.refresh_from_db()
    progress = PipeLike(["out_time_us=100000\n"])
    with caplog.at_level(logging.INFO, logger="webapp.core.demo_ground_station"):
        assert start_ground_station(live, replayed, progress, api_url="http://127.0.0.1:1", user=analyst) is None
    assert "patrol.mp4 has no telemetry: the live replay sends no poses" in caplog.text
    assert not Token.objects.filter(user=analyst).exists()


@pytest.mark.django_db
def test_a_pose_table_that_cannot_be_read_gets_no_poster_and_says_why(live, replayed, analyst, settings, caplog):
    (Path(settings.MEDIA_ROOT) / replayed.poses_path).write_bytes(b"not a pose table")
    with caplog.at_level(logging.INFO, logger="webapp.core.demo_ground_station"):
        assert start_ground_station(live, replayed, PipeLike([]), api_url="http://127.0.0.1:1", user=analyst) is None
    assert "patrol.mp4: its telemetry cannot be replayed (" in caplog.text
    assert "; the live replay sends no poses" in caplog.text


def test_a_replay_started_without_progress_is_refused():
    with pytest.raises(ValueError, match="start the replay with progress=True"):
        start_ground_station(None, None, type("Publisher", (), {"stdout": None})(), api_url="", user=None)


def test_the_live_replay_reports_its_progress_once_its_reader_connects(settings, tmp_path, db):
    """`make demo-live` starts FFmpeg with its progress on a pipe, for the ground station to read."""
    from webapp.catalog.models import Area

    settings.MEDIA_ROOT = tmp_path
    area = Area.objects.create(name=demo.DEMO_AREA)
    mission = Mission.objects.create(area=area, name="Patrol", date=dt.date(2026, 6, 1))
    source = Video.objects.create(mission=mission, original_name="a.mp4", status=Video.Status.READY,
                                  file="videos/a.mp4")
    make_video(tmp_path / source.file, seconds=1.0, fps=10, width=64, height=48)
    port = free_port()
    live_mission, publisher = demo.start_live_replay(area, source, port=port, progress=True)
    connected, done = [], threading.Event()
    threading.Thread(target=read_feed, args=(port, connected, done), daemon=True).start()
    try:
        clock = PublishClock(publisher.stdout)
        for _ in range(100):
            if clock.start is not None:
                break
            time.sleep(0.05)
        assert clock.start == pytest.approx(connected[0], abs=0.3)
        assert live_mission.live_streams.get().url == f"tcp://127.0.0.1:{port}"
    finally:
        stop(publisher)
        done.set()
    assert clock.ended.wait(5)


@pytest.mark.django_db(transaction=True)
def test_make_demo_live_feeds_the_replays_telemetry_to_its_own_server(live_server, isolated_broker, settings,
                                                                     tmp_path):
    """run_demo --live's step: the flight with the most events replayed, its poses posted to the running server
    with the demo user's token, and the message says so (the live job goes to this run's own broker namespace)."""
    import io
    import urllib.parse

    from webapp.catalog.models import Area
    from webapp.core.management.commands.run_demo import Command

    settings.MEDIA_ROOT = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    username, _ = demo.ensure_demo_account()
    area = Area.objects.create(name=demo.DEMO_AREA, team=demo.demo_team())
    mission = Mission.objects.create(area=area, name="day05", date=dt.date(2026, 6, 1))
    source = Video.objects.create(mission=mission, original_name="patrol.mp4", status=Video.Status.READY,
                                  file="videos/patrol.mp4", has_telemetry=True, pose_count=10)
    make_video(tmp_path / source.file, seconds=1.0, fps=10, width=64, height=48, gop=5)
    flight(np.arange(0, 1.0, 0.1), 59.0 + np.arange(10) / 100).save(tmp_path / source.poses_path)
    out, live_port = io.StringIO(), free_port()
    command = Command(stdout=out)
    publisher, ground_station = command.start_live(urllib.parse.urlsplit(live_server.url).port, live_port, username,
                                                   command.stdout.write)
    connected, done = [], threading.Event()
    threading.Thread(target=read_feed, args=(live_port, connected, done), daemon=True).start()
    try:
        stream = LiveStream.objects.get(mission__area=area, mission__name="Live replay of patrol.mp4")
        for _ in range(60):
            if LivePose.objects.filter(stream=stream).exists():
                break
            time.sleep(0.1)
    finally:
        stop(publisher)
        done.set()
        ground_station.stop()
    assert LivePose.objects.filter(stream=stream).exists(), ground_station.reason
    assert Token.objects.filter(user__username=username).count() == 1
    assert (f"(patrol.mp4 replayed on tcp://127.0.0.1:{live_port}; its telemetry fed too: poses posted each second "
            f"to /api/live/{stream.pk}/telemetry/ as a ground station would)") in out.getvalue()
