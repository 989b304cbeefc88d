"""SRT live streams against a real FFmpeg publisher (`ffmpeg -re ... -f mpegts srt://...`), read through the relay
by the system's FFmpeg when PyAV's own FFmpeg has no SRT (detection/live/relay.py).

A publisher that ends loses its last frame on the way (its SRT connection closes before the last packet is
delivered: the relay gets 42112 of the 42864 bytes sent), so recordings are compared with the clip's length to
within 0.15 s and its frame count to within one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

from detection.live.reader import LiveReader, LiveSettings
from detection.live.recorder import SegmentRecorder, assemble, read_segments
from detection.live.relay import MissingProtocol, relay_protocol
from tests.detection.test_live_reader import drain
from tests.support.publish import free_port, publish, stop
from tests.support.srt import RELAYED, needs_relay, needs_srt, relays
from tests.support.videos import make_video

FAST = dict(connect_timeout=10.0, read_timeout=3.0, backoff=(0.2, 0.5), end_after=2.0, display_width=None)

pytestmark = needs_srt


@pytest.fixture(scope="module")
def flight(tmp_path_factory):
    """4 s at 10 fps, a keyframe every second (as drones send), 160x120."""
    return make_video(tmp_path_factory.mktemp("srt") / "flight.mp4", seconds=4.0, fps=10, width=160, height=120,
                      gop=10)




def assert_recorded(folder: Path, joined: Path, seconds: float) -> None:
    """The segments join into an H.264 160x120 video of `seconds` (packets copied, nothing re-encoded)."""
    duration = assemble(folder, joined)
    with av.open(str(joined)) as video:
        stream = video.streams.video[0]
        assert stream.codec_context.name == "h264" and (stream.width, stream.height) == (160, 120)
        assert abs(sum(1 for _ in video.decode(stream)) - seconds * 10) <= 1.5
    assert abs(duration - read_segments(folder)[0].start - seconds) < 0.15


@pytest.mark.parametrize("listen", [False, True], ids=["caller", "listener"])
def test_an_srt_stream_is_sampled_live_and_recorded(flight, tmp_path, listen):
    # caller: the publisher listens (mode=listener) and Skerry connects; listener: Skerry listens, the drone pushes.
    port = free_port()
    url = f"srt://127.0.0.1:{port}"
    recorder = SegmentRecorder(tmp_path / "rec", segment_seconds=1.5)
    reader = LiveReader(url, LiveSettings(listen=listen, **FAST), recorder=recorder)
    if listen:
        reader.start()
        time.sleep(0.5)
        publisher = publish(flight, url)
    else:
        publisher = publish(flight, f"{url}?mode=listener")
        reader.start()
    frames = drain(reader)
    stop(publisher)
    assert reader.error == "" and reader.connections == 1 and reader.gaps == []
    assert reader.relayed == RELAYED
    assert [round(f.time, 2) for f in frames] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
    # After the first second (which the probes of the relay and of PyAV hold back) frames arrive as the stream
    # plays, not in a burst at its end (the last comes sooner: the decoder's threads give up the frames they
    # hold back when the stream ends).
    lags = [f.decoded_at - f.time for f in frames[3:-1]]
    assert max(lags) - min(lags) < 0.3, lags
    assert frames[0].image.shape == (124, 124, 3) and reader.resolution == (160, 120)
    assert len(read_segments(tmp_path / "rec")) >= 2 and not list((tmp_path / "rec").glob("*.part"))
    assert_recorded(tmp_path / "rec", tmp_path / "joined.mp4", 4.0)
    assert relays(port) == []


def read_a_listening_publisher(flight, limit: float = 30.0):
    """The reader (connecting) and its frames of `flight` published by an FFmpeg that listens, and the port."""
    port = free_port()
    url = f"srt://127.0.0.1:{port}"
    publisher = publish(flight, f"{url}?mode=listener")
    reader = LiveReader(url, LiveSettings(**FAST))
    reader.start()
    try:
        return reader, drain(reader, limit=limit), port
    finally:
        stop(publisher)


@needs_relay
def test_the_relay_reads_when_the_process_holds_over_1024_files(flight):
    """A worker holding many files gets descriptors of 1024 and more, which select() refuses: the relay failed at
    once then ("filedescriptor out of range in select()")."""
    held = []
    try:
        while not held or held[-1].fileno() < 1100:
            held.append(open(os.devnull, "rb"))
        reader, frames, port = read_a_listening_publisher(flight)
    finally:
        for file in held:
            file.close()
    assert reader.error == "" and reader.relayed and len(frames) == 8
    assert relays(port) == []


@needs_relay
@pytest.mark.timeout(60)  # it hung, rather than failed, before the fix
def test_the_relay_starts_beside_a_thread_holding_a_pyav_converter(flight):
    """Another thread of the worker keeps a PyAV frame converter (per thread, with its own slice threads), as any
    thread that has converted a frame does. The relay used to be started with Python code run in the forked child,
    whose after-fork cleanup freed that converter and waited forever on its lock: the relay never started (stop
    38's CI)."""
    converted, finished = threading.Event(), threading.Event()

    def convert():
        frame = av.VideoFrame.from_ndarray(np.zeros((720, 1280, 3), np.uint8), format="rgb24")
        frame.reformat(width=640, height=360, format="yuv420p")
        converted.set()
        finished.wait(60)

    holder = threading.Thread(target=convert, daemon=True)
    holder.start()
    try:
        assert converted.wait(10)
        reader, frames, port = read_a_listening_publisher(flight, limit=15)
    finally:
        finished.set()
    assert reader.error == "" and len(frames) == 8
    assert relays(port) == []


@pytest.mark.parametrize("listen", [False, True], ids=["caller", "listener"])
def test_a_publisher_that_drops_and_comes_back_leaves_a_gap_and_the_reading_goes_on(flight, tmp_path, listen):
    # caller: the first publisher ends its clip; listener: the first is killed at about 2 s (no SRT goodbye, as
    # when the radio link goes), so the relay waits out read_timeout.
    port = free_port()
    url = f"srt://127.0.0.1:{port}"
    publisher_url = url if listen else f"{url}?mode=listener"
    recorder = SegmentRecorder(tmp_path / "rec", segment_seconds=10)
    reader = LiveReader(url, LiveSettings(listen=listen, **{**FAST, "end_after": 6.0}), recorder=recorder)
    if listen:
        reader.start()
        time.sleep(0.5)
        first = publish(flight, publisher_url)
        time.sleep(2.5)
        first.kill()
        first.wait()
        deadline = time.monotonic() + 10
        while not reader.gaps:  # Skerry listens again once it has seen the drop (after read_timeout)
            assert time.monotonic() < deadline, "the drop was never seen"
            time.sleep(0.05)
    else:
        first = publish(flight, publisher_url)
        reader.start()
        first.wait(20)
    time.sleep(1.0)  # the link is down for a second at least
    second = publish(flight, publisher_url)
    frames = drain(reader)
    stop(second)
    assert reader.error == "" and reader.connections == 2
    (gap,) = reader.gaps
    first_part = 4.0 if not listen else gap.at
    assert (3.5 <= gap.at <= 4.3) if not listen else (1.0 <= gap.at <= 3.0)
    assert 0.8 <= gap.seconds <= 6.0 and gap.reason
    times = [f.time for f in frames]
    assert times == sorted(times) and times[-1] > first_part + 3.0  # the second connection continues the timeline
    assert len(read_segments(tmp_path / "rec")) == 2  # one segment per connection
    assert abs(assemble(tmp_path / "rec", tmp_path / "joined.mp4") - read_segments(tmp_path / "rec")[0].start
               - (first_part + 4.0)) < 0.3
    assert relays(port) == []


@needs_relay
@pytest.mark.parametrize("publishing", [True, False], ids=["streaming", "waiting"])
def test_stop_kills_the_relay(flight, publishing):
    port = free_port()
    url = f"srt://127.0.0.1:{port}"
    reader = LiveReader(url, LiveSettings(listen=True, **{**FAST, "connect_timeout": 60.0}))
    reader.start()
    publisher = None
    if publishing:
        time.sleep(0.5)
        publisher = publish(flight, url, loops=-1)
        assert reader.next_frame(10) is not None
    deadline = time.monotonic() + 5
    while not relays(port):  # the relay is running (and found where it is looked for below)
        assert time.monotonic() < deadline, "no relay process found"
        time.sleep(0.05)
    stopped = time.monotonic()
    reader.stop()
    assert reader.finished.wait(3) and time.monotonic() - stopped < 1.0
    drain(reader)
    if publisher is not None:
        stop(publisher)
    assert relays(port) == [] and reader.error == ""


@needs_relay
def test_a_killed_reader_process_leaves_no_relay_behind():
    """A worker killed outright (no stop): its relay, listening with nothing connected, dies with it."""
    port = free_port()
    script = ("import sys, time; from detection.live.reader import LiveReader, LiveSettings; "
              "reader = LiveReader(sys.argv[1], LiveSettings(listen=True, connect_timeout=120)); reader.start(); "
              "time.sleep(120)")
    child = subprocess.Popen([sys.executable, "-c", script, f"srt://127.0.0.1:{port}"],
                             cwd=Path(__file__).parents[2], env={**os.environ, "PYTHONPATH": "."})
    try:
        deadline = time.monotonic() + 15
        while not relays(port):
            assert time.monotonic() < deadline, "no relay process found"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        deadline = time.monotonic() + 3
        while relays(port):
            assert time.monotonic() < deadline, "the relay outlived its reader"
            time.sleep(0.05)
    finally:
        stop(child)
        for pid in relays(port):  # what a failure here leaves behind
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("listen", [False, True], ids=["caller", "listener"])
def test_an_srt_url_with_nobody_there_fails_clearly_within_connect_timeout(listen):
    port = free_port()
    reader = LiveReader(f"srt://127.0.0.1:{port}", LiveSettings(listen=listen, **{**FAST, "connect_timeout": 1.0}))
    started = time.monotonic()
    reader.start()
    assert drain(reader, limit=10) == []
    assert time.monotonic() - started < 4.5
    assert reader.error.startswith(f"the stream srt://127.0.0.1:{port} did not open within 1 s: "), reader.error
    assert relays(port) == []


def test_a_protocol_in_neither_ffmpeg_is_a_clear_error():
    reader = LiveReader("skerry://127.0.0.1:9000", LiveSettings(**FAST))
    started = time.monotonic()
    reader.start()
    assert drain(reader, limit=10) == [] and time.monotonic() - started < 2
    assert "protocol 'skerry' is not in PyAV's FFmpeg" in reader.error and "system's FFmpeg" in reader.error
    with pytest.raises(MissingProtocol, match="'srt' .*\\(/nonexistent/ffmpeg\\) is not found"):
        relay_protocol("srt://127.0.0.1:9000", ffmpeg="/nonexistent/ffmpeg")
