"""Masks: polygons in frame fractions; an event peaking in one is dropped."""

import numpy as np
import pytest

from detection.masks import (
    MaskError,
    apply_masks,
    check_polygon,
    drop_masked,
    in_masks,
    mask_grid,
    masked_share,
)
from detection.types import DetectedEvent, VideoScores

LEFT_HALF = [(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]


def scores_with(events, heatmaps=None):
    return VideoScores(times=np.arange(4.0), frame_scores=np.ones(4, np.float32), threshold=0.5,
                       events=tuple(events), heatmaps=heatmaps)


def test_an_event_peaking_in_a_mask_is_dropped_and_one_outside_kept():
    inside = DetectedEvent(0.0, 1.0, 0.5, 3.0, peak_x=0.2, peak_y=0.7)
    outside = DetectedEvent(2.0, 3.0, 2.5, 3.0, peak_x=0.8, peak_y=0.3)
    unplaced = DetectedEvent(1.0, 2.0, 1.5, 3.0)  # MIL: no map, nothing says where
    heatmaps = np.full((4, 6, 8), 200, np.uint8)
    masked, dropped = apply_masks(scores_with([inside, outside, unplaced], heatmaps), [LEFT_HALF])
    assert dropped == 1 and masked.events == (outside, unplaced)
    assert masked.heatmaps is heatmaps, "the maps stay: a re-derived event finds its true peak in them"
    assert drop_masked([inside, outside], [LEFT_HALF]) == (outside,)


def test_no_masks_change_nothing():
    scores = scores_with([DetectedEvent(0.0, 1.0, 0.5, 3.0, peak_x=0.2, peak_y=0.7)])
    assert apply_masks(scores, []) == (scores, 0)


def test_the_masked_share_and_point_tests():
    triangle = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)]
    assert masked_share([LEFT_HALF]) == pytest.approx(0.5)
    assert masked_share([triangle]) == pytest.approx(0.5, abs=0.01)
    assert masked_share([LEFT_HALF, LEFT_HALF]) == pytest.approx(0.5), "overlapping masks count once"
    assert in_masks(0.1, 0.1, [triangle]) and not in_masks(0.9, 0.9, [triangle]) and not in_masks(None, 0.1, [triangle])
    assert mask_grid([LEFT_HALF], 4, 2).tolist() == [[True, True, False, False]] * 2


@pytest.mark.parametrize("points, reason", [
    ("x", "list of"), ([(0, 0), (1, 1)], "3 to"), ([(0, 0), (1, 0), (2, 1)], "outside the frame"),
    ([(0, 0), (1, 0), ("a", 1)], "pair of numbers"), ([(0, 0), (0.5, 0.5), (1, 1)], "no area"),
    ([(0, 0), (1, 0), (1,)], "not an \\[x, y\\] pair"), ([(0, 0), (1, 0), (float("nan"), 1)], "outside"),
])
def test_a_bad_polygon_is_refused_with_its_reason(points, reason):
    with pytest.raises(MaskError, match=reason):
        check_polygon(points)
