"""make_proxy() and make_thumbnails(): a browser-playable H.264 file, a poster, sprite sheets and WebVTT."""

from __future__ import annotations

import dataclasses

import av
import numpy as np
import pytest
from PIL import Image

from detection.video.probe import probe
from detection.video.proxy import (
    REMUX_MAX_HEIGHT,
    REMUXED,
    RemuxRefused,
    make_browser_proxy,
    make_proxy,
    proxy_size,
    remux_proxy,
    remux_refusal,
)
from detection.video.sampling import sample_frames
from detection.video.thumbnails import make_thumbnails
from tests.detection.video_inputs import top_level_boxes, write_video_with_audio
from tests.support.videos import make_video


def assert_browser_playable(path, *, max_height=720):
    info = probe(path)
    assert info.codec == "h264" and info.pix_fmt == "yuv420p"
    assert info.height <= max_height and info.width % 2 == 0 and info.height % 2 == 0
    assert info.rotation == 0 and not info.has_audio
    boxes = top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat")  # +faststart: playback starts before the download ends
    return info


def test_proxy_size_keeps_the_aspect_with_even_sides():
    assert proxy_size(1920, 1080, 720) == (1280, 720)
    assert proxy_size(3840, 2160, 720) == (1280, 720)
    assert proxy_size(641, 359, 720) == (640, 358)
    assert proxy_size(400, 900, 720) == (320, 720)


def test_a_tall_hevc_video_gets_a_720_line_h264_proxy(tmp_path):
    source = make_video(tmp_path / "tall.mp4", seconds=1, fps=10, width=400, height=900, codec="libx265")
    proxy = make_proxy(source, tmp_path / "proxy.mp4")
    info = assert_browser_playable(proxy)
    assert (info.width, info.height) == (320, 720)
    assert info.duration == pytest.approx(1.0, abs=0.11) and info.frame_count == 10
    assert not list(tmp_path.glob(".*tmp*"))  # the temporary file was moved into place


def test_the_proxy_is_upright_and_drops_audio(tmp_path):
    rotated = make_video(
        tmp_path / "rotated.mp4", width=64, height=48, rotation=90, box_from=0.0, box=(2, 2, 12)
    )
    info = assert_browser_playable(make_proxy(rotated, tmp_path / "rotated_proxy.mp4"))
    assert (info.width, info.height) == (48, 64)
    ours = sample_frames(tmp_path / "rotated_proxy.mp4", fps=2, size=None).frames[0].astype(int)
    reference = sample_frames(rotated, fps=2, size=None).frames[0].astype(int)
    assert np.abs(ours - reference).mean() < 8  # same picture, same way up
    assert_browser_playable(make_proxy(write_video_with_audio(tmp_path / "a.mp4"), tmp_path / "a_proxy.mp4"))


def test_the_proxy_plays_from_start_to_end(tiny_video, tmp_path):
    proxy = make_proxy(tiny_video, tmp_path / "proxy.mp4")
    with av.open(str(proxy)) as container:
        times = [frame.time for frame in container.decode(video=0)]
    assert len(times) == 20 and times[0] == 0.0 and times[-1] == pytest.approx(1.9)


def test_thumbnails_write_a_poster_sprites_and_webvtt(tmp_path):
    source = make_video(tmp_path / "v.mp4", seconds=3, fps=10, width=96, height=64)
    result = make_thumbnails(source, tmp_path / "thumbs", interval=0.5, width=48, columns=4, rows=1)
    assert result.count == 6 and len(result.sheets) == 2  # 6 thumbnails, 4 to a sheet
    assert Image.open(result.poster).size == (96, 64)
    assert Image.open(result.sheets[0]).size == (4 * 48, 32) and Image.open(result.sheets[1]).size == (
        2 * 48,
        32,
    )
    lines = result.vtt.read_text().splitlines()
    assert lines[0] == "WEBVTT"
    assert lines[2:4] == ["00:00:00.000 --> 00:00:00.500", "thumbnails_000.jpg#xywh=0,0,48,32"]
    assert "00:00:02.500 --> 00:00:03.000" in lines and "thumbnails_001.jpg#xywh=48,0,48,32" in lines


def test_the_proxy_has_its_own_keyframe_spacing(tmp_path):
    # Source keyframes every 0.5 s must not be copied: the proxy seeks well with one every 2 s, at fewer bits.
    source = make_video(tmp_path / "gop5.mp4", seconds=5, fps=10, gop=5)
    assert probe(make_proxy(source, tmp_path / "proxy.mp4")).keyframe_interval == pytest.approx(2.0)


def packets(path):
    """(pts seconds, keyframe, bytes) of every video packet, in decode order."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [(round(float((p.pts - (stream.start_time or 0)) * p.time_base), 4), p.is_keyframe, bytes(p))
                for p in container.demux(stream) if p.size]


def test_a_browser_playable_h264_video_is_remuxed_packet_for_packet(tmp_path):
    source = make_video(tmp_path / "h264.mp4", seconds=3, fps=10, width=96, height=64, gop=10)
    proxy, how = make_browser_proxy(source, tmp_path / "proxy.mp4")
    assert how == REMUXED
    info = assert_browser_playable(proxy, max_height=REMUX_MAX_HEIGHT)
    assert (info.width, info.height, info.keyframe_interval) == (96, 64, pytest.approx(1.0))
    assert packets(proxy) == packets(source)  # the same pictures at the same times: nothing re-encoded
    with av.open(str(proxy)) as container:
        assert [round(frame.time, 3) for frame in container.decode(video=0)][:3] == [0.0, 0.1, 0.2]
    assert not list(tmp_path.glob(".*tmp*"))


def test_seeking_the_remuxed_proxy_lands_on_the_same_frames_as_the_source(tmp_path):
    # Keyframes 4 s apart (the most a remux accepts): a seek to 5.3 s decodes from the keyframe at 4 s.
    source = make_video(tmp_path / "gop40.mp4", seconds=8, fps=10, width=96, height=64, gop=40)
    proxy, how = make_browser_proxy(source, tmp_path / "proxy.mp4")
    assert how == REMUXED and probe(proxy).keyframe_interval == pytest.approx(4.0)
    for at in (0.0, 2.5, 5.3, 7.9):
        ours = sample_frames(proxy, fps=10, size=None, start=at, end=at + 0.1).frames[0]
        reference = sample_frames(source, fps=10, size=None, start=at, end=at + 0.1).frames[0]
        np.testing.assert_array_equal(ours, reference)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"codec": "hevc"}, "its codec is hevc, not H.264"),
        ({"profile": "High 10"}, "its H.264 profile High 10 is not one browsers decode"),
        ({"pix_fmt": "yuv422p"}, "its pixel format is yuv422p, not yuv420p"),
        ({"rotation": 90}, "it is stored rotated by 90 degrees"),
        ({"width": 2560, "height": 1440}, "it has 1440 lines, more than 1080"),
        ({"width": 97}, "its size 97x64 has an odd side"),
        ({}, ""),
    ],
)
def test_remux_refusal_names_what_a_browser_could_not_play(tmp_path, change, reason):
    info = probe(make_video(tmp_path / "v.mp4", seconds=1, fps=10, width=96, height=64))
    assert remux_refusal(dataclasses.replace(info, **change)) == reason


def test_a_video_that_cannot_be_remuxed_is_re_encoded_and_says_why(tmp_path):
    hevc = make_video(tmp_path / "hevc.mp4", seconds=1, fps=10, width=96, height=64, codec="libx265")
    proxy, how = make_browser_proxy(hevc, tmp_path / "hevc_proxy.mp4")
    assert how == "re-encoded: its codec is hevc, not H.264"
    assert_browser_playable(proxy)
    sparse = make_video(tmp_path / "sparse.mp4", seconds=6, fps=10, width=96, height=64, gop=60)
    with pytest.raises(RemuxRefused, match="keyframes are 6.0 s apart at 0.0 s, more than 4 s"):
        remux_proxy(sparse, tmp_path / "never.mp4")
    assert not (tmp_path / "never.mp4").exists() and not list(tmp_path.glob(".*tmp*"))
    proxy, how = make_browser_proxy(sparse, tmp_path / "sparse_proxy.mp4")
    assert how.startswith("re-encoded: its keyframes are 6.0 s apart")
    assert probe(proxy).keyframe_interval == pytest.approx(2.0)  # the re-encode's own spacing seeks well
