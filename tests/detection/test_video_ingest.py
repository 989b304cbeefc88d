"""ingest_video() in one call, the frames cache, and the `ingest` CLI."""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pytest

from detection.errors import VideoError
from detection.video import cache
from detection.video.ingest import ingest_video
from detection.video.probe import probe
from detection.video.proxy import REMUXED
from detection.video.sampling import sample_frames
from tests.detection.video_inputs import cut, run_video_cli
from tests.support.videos import make_video


def test_ingest_makes_every_output(tiny_video, tmp_path):
    progress = []
    result = ingest_video(
        tiny_video, tmp_path / "out", size=(32, 24), progress=lambda f, s: progress.append(f)
    )
    assert result.sha256 == hashlib.sha256(tiny_video.read_bytes()).hexdigest()
    assert result.info.duration == pytest.approx(2.0) and result.frame_count == 4 and result.warning == ""
    frames = np.load(result.frames_path, mmap_mode="r")
    np.testing.assert_array_equal(frames, sample_frames(tiny_video, fps=2, size=(32, 24)).frames)
    np.testing.assert_allclose(np.load(result.times_path), [0.0, 0.5, 1.0, 1.5])
    assert (
        result.proxy_path.is_file() and result.thumbnails.poster.is_file() and result.thumbnails.vtt.is_file()
    )
    assert result.realtime_factor > 0
    assert progress[-1] == 1.0 and progress == sorted(progress)


def test_ingest_remuxes_a_browser_playable_video_and_re_encodes_the_rest(tmp_path):
    playable = make_video(tmp_path / "h264.mp4", seconds=3, fps=10, width=96, height=64, gop=10)
    progress = []
    result = ingest_video(playable, tmp_path / "a", size=(32, 24), progress=lambda f, s: progress.append((f, s)))
    assert result.proxy_method == REMUXED and probe(result.proxy_path).frame_count == 30
    assert result.proxy_path.read_bytes() != playable.read_bytes()  # an MP4 of its own: +faststart, no audio
    assert "copying the video into the browser proxy" in {stage for _, stage in progress}
    assert [f for f, _ in progress] == sorted(f for f, _ in progress) and progress[-1][0] == 1.0
    sampled = ingest_video(playable, tmp_path / "b", size=(32, 24), remux=False)
    assert sampled.proxy_method == "re-encoded: remuxing was turned off"
    np.testing.assert_array_equal(np.load(result.frames_path), np.load(sampled.frames_path))  # same samples
    hevc = make_video(tmp_path / "hevc.mp4", seconds=1, fps=10, width=96, height=64, codec="libx265")
    encoded = ingest_video(hevc, tmp_path / "c", size=(32, 24))
    assert encoded.proxy_method == "re-encoded: its codec is hevc, not H.264"
    assert probe(encoded.proxy_path).codec == "h264"
    assert ingest_video(hevc, tmp_path / "d", proxy=False).proxy_method == ""


def test_ingest_of_a_truncated_file_keeps_what_decodes(tmp_path):
    whole = make_video(tmp_path / "whole.mp4", seconds=3, fps=10, width=96, height=64, faststart=True)
    result = ingest_video(cut(whole, tmp_path / "cut.mp4", 0.6), tmp_path / "out", size=(32, 24))
    assert "decoding stopped at" in result.warning
    assert 1 <= result.frame_count < 6 and result.proxy_path.is_file()
    assert result.proxy_method.startswith("re-encoded: its packet at ")  # a damaged packet is not copied
    assert result.proxy_method.endswith(" s is damaged (truncated or corrupt)")


def test_ingest_rejects_a_file_that_is_not_a_video(tmp_path):
    path = tmp_path / "zero.mp4"
    path.write_bytes(b"")
    with pytest.raises(VideoError, match="empty"):
        ingest_video(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_cache_decodes_a_video_once(tiny_video, tmp_path, monkeypatch):
    first = cache.frames_for(tiny_video, fps=2, size=(32, 24), cache_dir=tmp_path / "cache")
    assert isinstance(first.frames, np.memmap) and len(first.times) == 4

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(cache, "sample_frames", no_decoding)
    again = cache.frames_for(tiny_video, fps=2, size=(32, 24), cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(again.frames, first.frames)
    with pytest.raises(AssertionError, match="decoded again"):  # other parameters: another entry
        cache.frames_for(tiny_video, fps=1, size=(32, 24), cache_dir=tmp_path / "cache")


def test_the_cache_notices_a_changed_file(tiny_video, tmp_path):
    cache_dir = tmp_path / "cache"
    cache.frames_for(tiny_video, fps=2, size=(16, 16), cache_dir=cache_dir)
    make_video(tiny_video, seconds=1)  # rewritten in place
    os.utime(tiny_video, ns=(1, 1))
    assert len(cache.frames_for(tiny_video, fps=2, size=(16, 16), cache_dir=cache_dir).times) == 2
    content = cache.frames_for(tiny_video, fps=2, size=(16, 16), cache_dir=cache_dir, identity="sha256")
    assert len(content.times) == 2
    assert len([entry for entry in cache_dir.iterdir() if not entry.name.startswith(".")]) == 3


def test_the_cli_ingests_a_video(tiny_video, tmp_path, capsys):
    assert (
        run_video_cli(
            ["ingest", str(tiny_video), str(tmp_path / "out"), "--size", "32x24", "--fps", "1", "--quiet"]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["frames"] == 2 and summary["warning"] == "" and summary["proxy_method"] == REMUXED
    assert np.load(tmp_path / "out" / "frames.npy").shape == (2, 24, 32, 3)
    assert (tmp_path / "out" / "proxy.mp4").is_file() and (tmp_path / "out" / "thumbnails.vtt").is_file()
