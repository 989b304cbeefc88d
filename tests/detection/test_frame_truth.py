"""Frame truth with reviews: dismissed events (normal intervals) are known normal frames, nothing else is."""

from pathlib import Path

import numpy as np

from detection.labels import frame_truth, known_runs
from detection.types import Interval, VideoRecord

TIMES = np.arange(10.0)


def record(label="", intervals=(), normal=()):
    return VideoRecord(Path("v.mp4"), label=label, intervals=tuple(intervals), normal_intervals=tuple(normal))


def test_a_labelled_video_is_known_everywhere():
    labels, known = frame_truth(TIMES, record("anomalous", [Interval(2, 3)], [Interval(6, 7)]))
    assert known.all() and list(np.flatnonzero(labels)) == [2, 3]


def test_an_unlabelled_video_is_known_only_in_its_dismissed_spans():
    labels, known = frame_truth(TIMES, record(normal=[Interval(2, 4), Interval(8, 8.5)]))
    assert list(np.flatnonzero(known)) == [2, 3, 4, 8] and not labels.any()
    assert known_runs(known) == [(2, 5), (8, 9)]


def test_a_weak_anomalous_video_keeps_its_intervals_out_of_the_normal_spans():
    _, known = frame_truth(TIMES, record("anomalous", normal=[Interval(1, 3)]))
    assert list(np.flatnonzero(known)) == [1, 2, 3]
    assert frame_truth(TIMES, record()) is None
    assert frame_truth(TIMES, record(normal=[Interval(20, 30)])) is None
