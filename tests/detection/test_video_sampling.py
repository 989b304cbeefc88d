"""sample_frames(): frames chosen by timestamp, resized, rotated, streamed to memory-mapped files."""

from __future__ import annotations

import av
import numpy as np
import pytest

from detection.errors import VideoError
from detection.video.sampling import sample_frames, use_keyframes
from tests.detection.video_inputs import cut, write_vfr_video
from tests.support.videos import make_video, scene_frame


def test_it_samples_by_timestamp(tiny_video):
    # 2 s at 10 fps: frames every 0.1 s; at 2 fps the grid 0, 0.5, 1.0, 1.5 hits frames exactly.
    sampled = sample_frames(tiny_video, fps=2, size=(32, 24))
    assert sampled.frames.shape == (4, 24, 32, 3) and sampled.frames.dtype == np.uint8
    np.testing.assert_allclose(sampled.times, [0.0, 0.5, 1.0, 1.5])
    assert sampled.source_fps == pytest.approx(10.0)
    assert sampled.warning == ""


def test_it_takes_the_first_frame_at_or_after_each_grid_point(tiny_video):
    # grid k/3 s: 0, .333, .667, 1.0, 1.333, 1.667 -> frames at 0, .4, .7, 1.0, 1.4, 1.7
    sampled = sample_frames(tiny_video, fps=3, size=(32, 24))
    np.testing.assert_allclose(sampled.times, [0.0, 0.4, 0.7, 1.0, 1.4, 1.7])


def test_the_kept_frame_is_the_picture_shown_at_that_time(tiny_video):
    sampled = sample_frames(tiny_video, fps=2, size=None)
    assert sampled.frames.shape == (4, 48, 64, 3)
    shown = sampled.frames[1].astype(int)  # t = 0.5 s is frame 5
    error_right = np.abs(shown - scene_frame(5, 64, 48)).mean()
    error_wrong = np.abs(shown - scene_frame(4, 64, 48)).mean()
    assert error_right < 6 and error_right < error_wrong / 2


def test_it_samples_a_variable_frame_rate_by_time(tmp_path):
    path = write_vfr_video(tmp_path / "vfr.mp4", [0, 100, 200, 500, 550, 600, 1300, 1400, 2000])
    sampled = sample_frames(path, fps=2, size=(32, 24))
    # grid 0, .5, 1.0, 1.5, 2.0: the first frame at or after each one, 1.3 serving 1.0 and 2.0 serving 1.5
    np.testing.assert_allclose(sampled.times, [0.0, 0.5, 1.3, 2.0])


def test_it_honours_rotation(tmp_path):
    path = make_video(
        tmp_path / "rotated.mp4", width=64, height=48, rotation=90, box_from=0.0, box=(2, 2, 12)
    )
    sampled = sample_frames(path, fps=2, size=None)
    assert sampled.frames.shape == (4, 64, 48, 3)  # displayed upright: 48 wide, 64 tall
    # Turned 90 degrees counter-clockwise, the box in the top-left corner lands in the bottom-left one.
    rows, cols = np.nonzero(sampled.frames[0].min(axis=-1) > 230)
    assert rows.min() >= 48 and cols.max() < 16
    sized = sample_frames(path, fps=2, size=(24, 32))
    assert sized.frames.shape == (4, 32, 24, 3)


def test_it_decodes_hevc(tmp_path):
    sampled = sample_frames(make_video(tmp_path / "hevc.mp4", codec="libx265"), fps=2, size=(32, 24))
    np.testing.assert_allclose(sampled.times, [0.0, 0.5, 1.0, 1.5])


def test_keyframe_mode_gives_the_full_decode_frames_when_keyframes_sit_on_the_grid(tmp_path):
    path = make_video(tmp_path / "gop5.mp4", fps=10, gop=5)  # a keyframe every 0.5 s
    with av.open(str(path)) as container:
        assert use_keyframes(container.streams.video[0], 2.0, "auto")
        assert not use_keyframes(container.streams.video[0], 4.0, "auto")
    fast = sample_frames(path, fps=2, size=(32, 24), keyframes=True)
    full = sample_frames(path, fps=2, size=(32, 24), keyframes=False)
    np.testing.assert_allclose(fast.times, [0.0, 0.5, 1.0, 1.5])
    np.testing.assert_array_equal(fast.times, full.times)
    np.testing.assert_array_equal(fast.frames, full.frames)  # keyframes decode alone, identically


def test_keyframe_mode_keeps_only_keyframes(tmp_path):
    path = make_video(tmp_path / "gop10.mp4", fps=10, gop=10)  # keyframes at 0 and 1 s
    np.testing.assert_allclose(sample_frames(path, fps=2, keyframes=True).times, [0.0, 1.0])
    assert len(sample_frames(path, fps=2, keyframes="auto").times) == 4  # too sparse for 2 fps: full decode


def test_it_streams_to_memory_mapped_files(tiny_video, tmp_path):
    out = tmp_path / "frames"
    sampled = sample_frames(tiny_video, fps=2, size=(32, 24), out_dir=out)
    assert isinstance(sampled.frames, np.memmap)
    assert sorted(path.name for path in out.iterdir()) == ["frames.npy", "timestamps.npy"]
    in_memory = sample_frames(tiny_video, fps=2, size=(32, 24))
    np.testing.assert_array_equal(np.load(out / "frames.npy"), in_memory.frames)
    np.testing.assert_array_equal(np.load(out / "timestamps.npy"), in_memory.times)


def test_it_samples_a_time_range(tiny_video):
    sampled = sample_frames(tiny_video, fps=2, size=(32, 24), start=0.5, end=1.5)
    np.testing.assert_allclose(sampled.times, [0.5, 1.0])


def test_it_keeps_the_frames_of_a_truncated_file_and_says_where_it_stopped(tmp_path):
    whole = make_video(tmp_path / "whole.mp4", seconds=3, fps=10, width=96, height=64, faststart=True)
    sampled = sample_frames(cut(whole, tmp_path / "cut.mp4", 0.6), fps=2, size=(32, 24))
    assert 1 <= len(sampled.times) < 6
    stopped = float(sampled.warning.split("stopped at ")[1].split(" s")[0])
    assert sampled.times[-1] <= stopped < 3.0
    assert "truncated or corrupt" in sampled.warning


def test_it_rejects_a_bad_rate(tiny_video):
    with pytest.raises(ValueError, match="positive"):
        sample_frames(tiny_video, fps=0)


def test_it_rejects_a_file_that_is_not_a_video(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("meeting notes\n" * 100)
    with pytest.raises(VideoError, match="not a video"):
        sample_frames(path)
