"""The level scale: 1 is the detector's threshold for every kind, and events get theirs when scored."""

from types import SimpleNamespace

import numpy as np
import pytest

from detection.thresholds import normal_median
from webapp.detectors.levels import LEVEL_STEPS, level_colour, level_of, level_text


def detector(threshold, median=None):
    metrics = {} if median is None else {"val_normal_median": median}
    return SimpleNamespace(threshold=threshold, validation_metrics=metrics)


def test_the_threshold_is_level_one_and_a_typical_normal_frame_level_zero():
    cae = detector(threshold=12.0, median=2.0)
    assert level_of(cae, 12.0) == pytest.approx(1.0)
    assert level_of(cae, 2.0) == pytest.approx(0.0)
    assert level_of(cae, 22.0) == pytest.approx(2.0)


def test_kinds_on_different_scales_meet_on_one():
    cae, mil = detector(threshold=12.0, median=2.0), detector(threshold=0.6, median=0.1)
    assert level_of(cae, 17.0) == pytest.approx(level_of(mil, 0.85)) == pytest.approx(1.5)


def test_an_older_detector_without_the_median_measures_from_zero():
    assert level_of(detector(threshold=0.5), 0.75) == pytest.approx(1.5)


def test_undefined_levels_are_none():
    assert level_of(detector(threshold=None), 3.0) is None
    assert level_of(detector(threshold=float("inf"), median=0.0), 3.0) is None
    assert level_text(None) == "–"


def test_a_threshold_below_the_median_still_puts_the_threshold_at_one():
    odd = detector(threshold=-1.0, median=0.5)
    assert level_of(odd, -1.0) == pytest.approx(1.0)
    assert level_of(odd, 0.0) > 1.0


def test_the_colour_scale_is_fixed_and_hotter_upwards():
    lows = [step[0] for step in LEVEL_STEPS]
    assert lows == sorted(lows)
    assert level_colour(0.5) == LEVEL_STEPS[0][1]
    assert level_colour(1.0) == LEVEL_STEPS[1][1]
    assert level_colour(100.0) == LEVEL_STEPS[-1][1]


def test_normal_median_reads_only_normal_frames():
    scores = np.array([1.0, 2.0, 3.0, 50.0, 60.0])
    labels = np.array([False, False, False, True, True])
    assert normal_median(scores, labels) == 2.0
    assert normal_median(np.array([]), None) is None
