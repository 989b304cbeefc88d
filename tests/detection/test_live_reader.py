"""The live reader and recorder against a real FFmpeg publishing over TCP (MPEG-TS), RTMP, UDP, HLS, and RTSP
through GStreamer's RTSP server."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import av
import pytest

from detection.live.reader import LiveReader, LiveSettings, redact
from detection.live.recorder import SegmentRecorder, assemble, read_segments
from tests.support.publish import free_port, publish, serve_folder, stop
from tests.support.videos import make_video

SYSTEM_PYTHON = "/usr/bin/python3"  # the RTSP server runs on the system's PyGObject, not in the virtual environment
FAST = dict(connect_timeout=10.0, read_timeout=3.0, backoff=(0.2, 0.5), end_after=2.0, display_width=None)


@pytest.fixture(scope="module")
def flight(tmp_path_factory):
    """4 s at 10 fps, a keyframe every second (as drones send), 160x120."""
    return make_video(tmp_path_factory.mktemp("live") / "flight.mp4", seconds=4.0, fps=10, width=160, height=120,
                      gop=10)


def drain(reader: LiveReader, *, pause: float = 0.0, limit: float = 30.0) -> list:
    """Take frames until the reader is done; `pause` seconds per frame stands for a slow scorer."""
    taken, deadline = [], time.monotonic() + limit
    while not reader.done:
        assert time.monotonic() < deadline, "the reader never ended"
        frame = reader.next_frame(0.2)
        if frame is not None:
            taken.append(frame)
            time.sleep(pause)
    return taken


def test_it_samples_and_records_a_stream_pushed_to_its_listening_endpoint(flight, tmp_path):
    port = free_port()
    recorder = SegmentRecorder(tmp_path / "rec", segment_seconds=1.5)
    reader = LiveReader(f"tcp://127.0.0.1:{port}", LiveSettings(listen=True, **FAST), recorder=recorder)
    reader.start()
    time.sleep(0.3)
    publisher = publish(flight, f"tcp://127.0.0.1:{port}")
    frames = drain(reader)
    stop(publisher)
    assert reader.error == "" and reader.connections == 1 and reader.gaps == []
    assert [round(f.time, 2) for f in frames] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
    assert frames[0].image.shape == (124, 124, 3) and reader.resolution == (160, 120)
    segments = read_segments(tmp_path / "rec")
    assert len(segments) >= 2 and not list((tmp_path / "rec").glob("*.part"))
    duration = assemble(tmp_path / "rec", tmp_path / "joined.mp4")
    with av.open(str(tmp_path / "joined.mp4")) as joined:
        stream = joined.streams.video[0]
        assert stream.codec_context.name == "h264" and (stream.width, stream.height) == (160, 120)
        assert sum(1 for _ in joined.decode(stream)) == 40  # every published frame, none re-encoded away
    assert abs(duration - segments[0].start - 4.0) < 0.15


def test_it_connects_to_an_rtmp_publisher(flight):
    port = free_port()
    publisher = publish(flight, f"rtmp://127.0.0.1:{port}/live/drone", fmt="flv", listen=True)
    time.sleep(0.5)
    reader = LiveReader(f"rtmp://127.0.0.1:{port}/live/drone", LiveSettings(**FAST))
    reader.start()
    frames = drain(reader)
    stop(publisher)
    assert reader.error == ""
    assert len(frames) >= 6 and frames[0].time == 0.0  # the reader connects a moment after the publisher starts


def test_it_reads_mpegts_over_udp(flight):
    port = free_port()
    reader = LiveReader(f"udp://127.0.0.1:{port}", LiveSettings(**{**FAST, "connect_timeout": 5.0}))
    reader.start()
    time.sleep(0.3)
    publisher = publish(flight, f"udp://127.0.0.1:{port}?pkt_size=1316")
    frames = []
    while publisher.poll() is None:
        frame = reader.next_frame(0.2)
        frames += [frame] if frame else []
    reader.stop()  # UDP has no end of stream: the mission is stopped by hand
    frames += drain(reader)
    assert reader.error == "" and len(frames) >= 6


@pytest.mark.parametrize("flags", ["delete_segments", "delete_segments+omit_endlist"])
def test_it_reads_an_hls_playlist_over_http_and_ends_with_it(tmp_path, flags):
    # FFmpeg writes a live playlist of 1 s segments into a folder served over HTTP, keeping the newest 4. At the
    # end it writes #EXT-X-ENDLIST, or (omit_endlist: a publisher that died) the playlist just stops growing.
    source = make_video(tmp_path / "six.mp4", seconds=6.0, fps=10, width=160, height=120, gop=10)
    (tmp_path / "hls").mkdir()
    recorder = SegmentRecorder(tmp_path / "rec", segment_seconds=2.0)
    with serve_folder(tmp_path / "hls") as base:
        publisher = publish(source, str(tmp_path / "hls" / "drone.m3u8"), fmt="hls",
                            options=("-hls_time", "1", "-hls_list_size", "4", "-hls_flags", flags))
        reader = LiveReader(f"{base}/drone.m3u8", LiveSettings(**{**FAST, "end_after": 3.0}), recorder=recorder)
        reader.start()
        frames = drain(reader)
        stop(publisher)
    assert reader.error == "" and reader.connections == 1 and reader.gaps == []  # never replayed the playlist
    assert [round(f.time, 2) for f in frames] == [n / 2 for n in range(12)]
    duration = assemble(tmp_path / "rec", tmp_path / "joined.mp4")
    with av.open(str(tmp_path / "joined.mp4")) as joined:
        assert sum(1 for _ in joined.decode(video=0)) == 60
    assert abs(duration - read_segments(tmp_path / "rec")[0].start - 6.0) < 0.15


@pytest.fixture
def rtsp_server():
    """GStreamer's RTSP server (tests/support/rtsp_server.py) relaying what FFmpeg sends to its feed port."""
    check = subprocess.run([SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"],
                           capture_output=True)
    if check.returncode:
        pytest.skip("GStreamer's RTSP server is not installed (apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 "
                    "gstreamer1.0-rtsp gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)")
    rtsp_port, feed_port = free_port(), free_port()
    server = subprocess.Popen([SYSTEM_PYTHON, str(Path(__file__).parents[1] / "support" / "rtsp_server.py"),
                               str(rtsp_port), str(feed_port)], stdout=subprocess.PIPE, text=True)
    assert server.stdout.readline().strip() == "ready"
    yield f"rtsp://127.0.0.1:{rtsp_port}/drone", feed_port
    stop(server)


def test_it_reads_rtsp_over_tcp_from_a_real_rtsp_server(rtsp_server, tmp_path):
    url, feed_port = rtsp_server
    source = make_video(tmp_path / "six.mp4", seconds=6.0, fps=10, width=160, height=120, gop=10)
    publisher = publish(source, f"udp://127.0.0.1:{feed_port}?pkt_size=1316")
    recorder = SegmentRecorder(tmp_path / "rec", segment_seconds=2.0)
    reader = LiveReader(url, LiveSettings(**FAST), recorder=recorder)
    reader.start()
    frames = []
    while publisher.poll() is None:
        frame = reader.next_frame(0.2)
        frames += [frame] if frame else []
    time.sleep(0.5)
    reader.stop()  # the server keeps the session open for a feed that may come back: the mission is stopped
    frames += drain(reader)
    assert reader.error == "" and reader.connections == 1 and reader.gaps == []
    assert [round(f.time, 2) for f in frames][:10] == [n / 2 for n in range(10)]  # FFmpeg's timestamps kept
    duration = assemble(tmp_path / "rec", tmp_path / "joined.mp4")
    assert 5.5 <= duration - read_segments(tmp_path / "rec")[0].start <= 6.2


def test_a_dropped_stream_reconnects_and_the_gap_is_recorded(flight, tmp_path):
    port = free_port()
    recorder = SegmentRecorder(tmp_path / "rec", segment_seconds=10)
    reader = LiveReader(f"tcp://127.0.0.1:{port}", LiveSettings(**{**FAST, "end_after": 3.0}), recorder=recorder)
    first = publish(flight, f"tcp://127.0.0.1:{port}", listen=True)
    reader.start()
    frames = []
    while first.poll() is None:
        frame = reader.next_frame(0.2)
        frames += [frame] if frame else []
    time.sleep(1.0)  # the link is down for a second
    second = publish(flight, f"tcp://127.0.0.1:{port}", listen=True)
    frames += drain(reader)
    stop(second)
    assert reader.error == "" and reader.connections == 2
    (gap,) = reader.gaps
    assert 3.5 <= gap.at <= 4.3 and 0.8 <= gap.seconds <= 4.0 and gap.reason
    times = [f.time for f in frames]
    assert times == sorted(times) and times[-1] > 7.0  # the second connection continues the timeline
    assert len(read_segments(tmp_path / "rec")) == 2  # one segment per connection
    assert assemble(tmp_path / "rec", tmp_path / "joined.mp4") > 7.5


def test_a_stream_that_never_opens_is_a_clear_error():
    port = free_port()
    url = f"tcp://pilot:secret@127.0.0.1:{port}"
    reader = LiveReader(url, LiveSettings(**{**FAST, "connect_timeout": 1.0}))
    started = time.monotonic()
    reader.start()
    assert drain(reader, limit=10) == []
    assert time.monotonic() - started < 6
    assert "did not open within 1 s" in reader.error and "secret" not in reader.error
    assert redact(url) == f"tcp://127.0.0.1:{port}"


def test_a_new_resolution_midway_is_refused_clearly(flight, tmp_path):
    smaller = make_video(tmp_path / "small.mp4", seconds=2.0, fps=10, width=128, height=96, gop=10)
    port = free_port()
    recorder = SegmentRecorder(tmp_path / "rec")
    reader = LiveReader(f"tcp://127.0.0.1:{port}", LiveSettings(**FAST), recorder=recorder)
    first = publish(flight, f"tcp://127.0.0.1:{port}", listen=True)
    reader.start()
    first.wait(20)
    second = publish(smaller, f"tcp://127.0.0.1:{port}", listen=True)
    drain(reader)
    stop(second)
    assert "resolution changed from 160x120 to 128x96" in reader.error
    assert assemble(tmp_path / "rec", tmp_path / "joined.mp4") > 3.5  # what came before is kept


def test_a_slow_consumer_gets_the_newest_frames_and_the_lag_stays_flat(tmp_path):
    longer = make_video(tmp_path / "long.mp4", seconds=8.0, fps=10, width=160, height=120, gop=10)
    port = free_port()
    reader = LiveReader(f"tcp://127.0.0.1:{port}", LiveSettings(listen=True, **FAST))
    reader.start()
    time.sleep(0.3)
    publisher = publish(longer, f"tcp://127.0.0.1:{port}")
    started, lags = time.monotonic(), []
    while not reader.done:
        frame = reader.next_frame(0.2)
        if frame is not None:
            lags.append(((time.monotonic() - started) - frame.time, publisher.poll() is None))
            time.sleep(1.2)  # a scorer slower than the 2 fps analysis rate
    stop(publisher)
    assert reader.dropped >= 3
    # while the stream runs, the backlog does not grow; once it has ended, the last frames kept wait their turn
    # at the slow consumer's pace (the reader drops nothing that is not replaced by a newer frame)
    streaming = [lag for lag, live in lags[1:] if live]
    assert len(streaming) >= 5 and max(streaming) - min(streaming) < 1.5, lags


def test_a_killed_run_s_unfinished_segment_is_salvaged(flight, tmp_path):
    folder = tmp_path / "rec"
    recorder = SegmentRecorder(folder, segment_seconds=100)
    with av.open(str(flight)) as source:
        stream = source.streams.video[0]
        recorder.begin(stream)
        for packet in source.demux(stream):
            if packet.dts is not None:
                seconds = float(packet.pts * packet.time_base)
                recorder.write(packet, seconds, float(packet.dts * packet.time_base), 0.1)
    recorder._output.close()  # the process dies here: the segment is never renamed nor listed
    assert read_segments(folder) == [] and list(folder.glob("*.part"))
    resumed = SegmentRecorder(folder)
    (segment,) = resumed.segments
    assert segment.packets == 40 and not list(folder.glob("*.part"))
    assert abs(resumed.recorded_until - 4.0) < 0.25
    assert abs(assemble(folder, tmp_path / "joined.mp4") - 4.0) < 0.25


def test_an_endpoint_that_accepts_but_stays_silent_ends_with_a_clear_error():
    """A TCP endpoint that accepts connections and sends nothing (FFmpeg's probe then times out; an RTSP server
    that answers but sends no packet gives "opened but sent no picture" instead)."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []
    threading.Thread(target=lambda: [held.append(server.accept()) for _ in range(8)], daemon=True).start()
    url = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    reader = LiveReader(url, LiveSettings(**{**FAST, "connect_timeout": 2.0, "read_timeout": 1.0}))
    reader.start()
    assert drain(reader, limit=20) == []
    assert "did not open within 2 s" in reader.error or "sent no picture within 2 s" in reader.error
    assert reader.gaps == []
    server.close()
