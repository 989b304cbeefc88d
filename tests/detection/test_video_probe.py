"""probe(): the facts of good files, and one clear VideoError per kind of bad file, each made in the test."""

from __future__ import annotations

import json

import numpy as np
import pytest

from detection.errors import VideoError
from detection.video.probe import probe
from tests.detection.video_inputs import (
    cut,
    run_video_cli,
    write_audio_only,
    write_vfr_video,
    write_video_with_audio,
    write_video_without_frames,
)
from tests.support.videos import make_video


def test_it_describes_a_plain_video(tiny_video):
    info = probe(tiny_video)
    assert (info.codec, info.width, info.height, info.rotation) == ("h264", 64, 48, 0)
    assert info.duration == pytest.approx(2.0)
    assert info.fps == pytest.approx(10.0)
    assert info.frame_count == 20
    assert "mp4" in info.container
    assert not info.has_audio and not info.variable_frame_rate
    assert info.size_bytes == tiny_video.stat().st_size


def test_it_sees_audio(tmp_path):
    assert probe(write_video_with_audio(tmp_path / "with_audio.mp4")).has_audio


def test_it_reports_rotation_with_displayed_dimensions(tmp_path):
    info = probe(make_video(tmp_path / "rotated.mp4", width=64, height=48, rotation=90))
    assert (info.rotation, info.width, info.height) == (90, 48, 64)
    assert (info.coded_width, info.coded_height) == (64, 48)


def test_it_reads_hevc(tmp_path):
    info = probe(make_video(tmp_path / "hevc.mp4", codec="libx265", seconds=1))
    assert info.codec == "hevc" and info.frame_count == 10


def test_it_flags_a_variable_frame_rate(tmp_path):
    path = write_vfr_video(tmp_path / "vfr.mp4", [0, 33, 66, 300, 333, 366, 900, 933, 966, 1000])
    assert probe(path).variable_frame_rate


def test_it_measures_the_keyframe_interval(tmp_path):
    assert probe(make_video(tmp_path / "gop5.mp4", fps=10, gop=5)).keyframe_interval == pytest.approx(0.5)


def test_it_rejects_an_empty_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(VideoError, match="empty file"):
        probe(path)


def test_it_rejects_random_bytes_named_mp4(tmp_path):
    path = tmp_path / "random.mp4"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    with pytest.raises(VideoError, match="not a video file"):
        probe(path)


def test_it_rejects_a_truncated_mp4(tiny_video, tmp_path):
    # make_video writes the index (moov) last, so a cut file has no index at all.
    truncated = cut(tiny_video, tmp_path / "cut.mp4", 0.6)
    with pytest.raises(VideoError, match="truncated or corrupt"):
        probe(truncated)


def test_it_rejects_an_audio_only_file(tmp_path):
    with pytest.raises(VideoError, match="no video stream.*audio"):
        probe(write_audio_only(tmp_path / "voice.mp4"))


def test_it_rejects_a_video_without_frames(tmp_path):
    with pytest.raises(VideoError, match="zero duration"):
        probe(write_video_without_frames(tmp_path / "no_frames.mkv"))


def test_it_rejects_a_missing_file(tmp_path):
    with pytest.raises(VideoError, match="no such video file"):
        probe(tmp_path / "absent.mp4")


def test_the_cli_prints_json(tiny_video, capsys):
    assert run_video_cli(["probe", str(tiny_video)]) == 0
    assert json.loads(capsys.readouterr().out)["codec"] == "h264"


def test_the_cli_reports_a_bad_file_plainly(tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(VideoError, match="empty.mp4 is an empty file"):  # detection.cli prints it, exits 2
        run_video_cli(["probe", str(path)])
