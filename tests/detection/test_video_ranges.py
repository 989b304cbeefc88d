"""Splitting a video into time ranges decoded separately, and joining them, gives exactly one pass's frames."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from detection.video.ranges import join_sample_dirs, join_samples, split_ranges
from detection.video.sampling import sample_frames
from tests.support.videos import make_video


@pytest.fixture
def gop_video(tmp_path):
    """6 s at 30 fps with a keyframe every 20 frames and B-frames: seeks land between grid points."""
    return make_video(tmp_path / "gop.mp4", seconds=6, fps=30, gop=20)


def test_split_ranges_cover_the_video_in_order():
    assert split_ranges(10.0, 4) == [(0.0, 2.5), (2.5, 5.0), (5.0, 7.5), (7.5, None)]
    assert split_ranges(3.0, 1) == [(0.0, None)]
    with pytest.raises(ValueError):
        split_ranges(3.0, 0)


@pytest.mark.parametrize("pieces", [2, 3, 7])
@pytest.mark.parametrize("keyframes", [False, True])
def test_joined_pieces_equal_one_pass(gop_video, pieces, keyframes):
    one = sample_frames(gop_video, fps=2.5, size=(32, 24), keyframes=keyframes)
    parts = [
        sample_frames(gop_video, fps=2.5, size=(32, 24), keyframes=keyframes, start=start, end=end)
        for start, end in split_ranges(6.0, pieces)
    ]
    joined = join_samples(parts)
    np.testing.assert_array_equal(joined.times, one.times)
    np.testing.assert_array_equal(joined.frames, one.frames)
    assert len(one.times) == (15 if not keyframes else 9)  # keyframes every 20 frames: 9 in 6 s


def _sample_piece(args):
    path, start, end, out_dir = args
    sample_frames(path, fps=2, size=(32, 24), start=start, end=end, out_dir=out_dir)
    return out_dir


def test_pieces_sampled_by_separate_processes_join_on_disk(gop_video, tmp_path):
    jobs = [
        (gop_video, start, end, tmp_path / f"piece{index}")
        for index, (start, end) in enumerate(split_ranges(6.0, 3))
    ]
    # spawned, not forked: a fork of this many-threaded test process can copy a lock some other thread holds
    # (a CI run hung here once, after failing live tests had left their threads running)
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        piece_dirs = list(pool.map(_sample_piece, jobs))
    joined = join_sample_dirs(piece_dirs, tmp_path / "joined")
    one = sample_frames(gop_video, fps=2, size=(32, 24))
    assert isinstance(joined.frames, np.memmap)
    np.testing.assert_array_equal(joined.times, one.times)
    np.testing.assert_array_equal(joined.frames, one.frames)


def test_it_refuses_to_join_pieces_out_of_order(gop_video):
    first, second = (
        sample_frames(gop_video, fps=2, size=(8, 8), start=a, end=b) for a, b in split_ranges(6.0, 2)
    )
    with pytest.raises(ValueError, match="not after"):
        join_samples([second, first])
