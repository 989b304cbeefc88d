"""Event merging on hand-made frame scores."""

import numpy as np
import pytest

from detection.events import merge_events

TIMES = np.arange(12) * 0.5  # 2 fps


def test_it_finds_nothing_below_the_threshold():
    assert merge_events(TIMES, np.zeros(12), 0.5) == ()


def test_it_merges_runs_across_short_gaps_and_splits_at_long_ones():
    scores = np.array([0, 0.9, 0.6, 0, 0, 0.7, 0, 0, 0, 0, 0.8, 0.8])
    # Flagged at 0.5, 1.0, 2.5 (gap 1.5 s > 1 s: new event) and 5.0, 5.5 (gap 2.5 s).
    events = merge_events(TIMES, scores, 0.5, max_gap=1.0)
    assert [(e.start, e.end) for e in events] == [(0.5, 1.0), (2.5, 2.5), (5.0, 5.5)]
    assert events[0].peak_time == 0.5 and events[0].peak_score == pytest.approx(0.9)
    # Ties at the peak: the first frame wins.
    assert events[2].peak_time == 5.0

    bridged = merge_events(TIMES, scores, 0.5, max_gap=1.5)
    assert [(e.start, e.end) for e in bridged] == [(0.5, 2.5), (5.0, 5.5)]
    assert bridged[0].peak_score == pytest.approx(0.9)


def test_the_threshold_itself_counts_as_over():
    events = merge_events(TIMES[:3], np.array([0.0, 0.5, 0.0]), 0.5)
    assert [(e.start, e.end) for e in events] == [(0.5, 0.5)]


def test_it_drops_events_shorter_than_min_duration():
    scores = np.array([0, 0.9, 0.6, 0, 0, 0.7, 0, 0, 0, 0, 0, 0])
    events = merge_events(TIMES, scores, 0.5, max_gap=0.5, min_duration=0.5)
    assert [(e.start, e.end) for e in events] == [(0.5, 1.0)]


def test_it_places_the_peak_at_the_hottest_heatmap_cell_of_the_peak_frame():
    scores = np.array([0.0, 0.6, 0.9, 0.0])
    heatmaps = np.zeros((4, 4, 8), dtype=np.uint8)
    heatmaps[1, 0, 0] = 255  # hotter, but not at the peak frame
    heatmaps[2, 3, 6] = 200  # row 3 of 4, column 6 of 8
    (event,) = merge_events(TIMES[:4], scores, 0.5, heatmaps=heatmaps)
    assert event.peak_time == 1.0
    assert event.peak_x == pytest.approx(6.5 / 8)
    assert event.peak_y == pytest.approx(3.5 / 4)


def test_it_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="times"):
        merge_events(TIMES, np.zeros(5), 0.5)
