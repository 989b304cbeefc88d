"""Threshold choice on hand-made validation scores."""

import numpy as np
import pytest

from detection.errors import TrainingDataError
from detection.thresholds import flag_frames, pick_threshold


def test_it_separates_perfectly_separable_scores_halfway():
    scores = [0.1, 0.2, 0.3, 0.8, 0.9]
    labels = [False, False, False, True, True]
    choice = pick_threshold(scores, labels)
    assert choice.method == "best_f1"
    assert choice.value == pytest.approx(0.55)
    assert choice.f1 == pytest.approx(1.0)
    assert choice.warning == ""
    assert flag_frames(np.array(scores), choice.value).tolist() == labels


def test_it_picks_the_best_f1_when_classes_overlap():
    # Ranked: 0.9 A, 0.7 N, 0.6 A, 0.5 A, 0.2 N, 0.1 N.
    # Cut after 0.9: F1 = 2*1/(1+3) = 0.5; after 0.7: 2/5; after 0.6: 4/6; after 0.5: 6/7; after 0.2: 6/8.
    scores = [0.1, 0.5, 0.9, 0.2, 0.6, 0.7]
    labels = [False, True, True, False, True, False]
    choice = pick_threshold(scores, labels)
    assert choice.value == pytest.approx(0.35)
    assert choice.f1 == pytest.approx(6 / 7)


def test_it_never_cuts_between_tied_scores():
    scores = [0.5, 0.5, 0.5, 0.1]
    labels = [True, False, True, False]
    choice = pick_threshold(scores, labels)
    # Flagging the three tied scores: F1 = 2*2/(3+2) = 0.8, the only cut besides flagging everything (4/6).
    assert choice.value == pytest.approx(0.3)
    assert choice.f1 == pytest.approx(0.8)


def test_it_falls_back_to_a_quantile_and_warns_without_anomalies():
    scores = np.arange(101, dtype=float)  # 0..100
    choice = pick_threshold(scores, np.zeros(101, dtype=bool), quantile=0.9)
    assert choice.method == "quantile"
    assert choice.value == pytest.approx(90.0)
    assert choice.f1 is None
    assert "no anomalies" in choice.warning


def test_it_uses_the_quantile_when_no_labels_are_given():
    choice = pick_threshold(np.arange(101, dtype=float))
    assert choice.value == pytest.approx(99.0)
    assert "no anomalies" in choice.warning


def test_it_warns_when_validation_has_no_normal_frames():
    choice = pick_threshold([0.3, 0.6], [True, True])
    assert choice.method == "best_f1"
    assert choice.value == pytest.approx(0.3)
    assert "no normal frames" in choice.warning


def test_it_rejects_empty_or_broken_scores():
    with pytest.raises(TrainingDataError, match="no validation scores"):
        pick_threshold([])
    with pytest.raises(TrainingDataError, match="NaN"):
        pick_threshold([0.1, float("nan")])
    with pytest.raises(ValueError, match="labels"):
        pick_threshold([0.1, 0.2], [True])


def test_the_quantile_method_ignores_validation_anomalies_on_purpose():
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 5.0, 0.35])
    labels = np.array([False] * 10 + [True, True])  # one easy anomaly, one buried among the normals
    best = pick_threshold(scores, labels)
    assert best.method == "best_f1" and best.value == pytest.approx(3.0)  # halfway between 1.0 and 5.0
    normal_only = pick_threshold(scores, labels, method="quantile", quantile=0.5)
    assert normal_only.method == "quantile" and normal_only.warning == ""
    assert normal_only.value == pytest.approx(np.quantile(scores[:10], 0.5))  # 0.55: the anomalies took no part
    with pytest.raises(ValueError, match="threshold method"):
        pick_threshold(scores, labels, method="median")
    with pytest.raises(TrainingDataError, match="normal validation frames"):
        pick_threshold(scores[10:], labels[10:], method="quantile")


def test_the_one_standard_error_rule_takes_the_highest_threshold_that_validation_cannot_tell_from_the_best():
    # Ranked: 10..6 anomalous, 5.5 normal, 5 anomalous, then five normals. Best F1 flags down to 5
    # (6 TP, 1 FP: 12/13 = 0.923); flagging down to 6 only (5 TP, no FP) reaches 10/11 = 0.909, and down to
    # 7 (4 TP) 8/10 = 0.8.
    scores = np.array([10, 9, 8, 7, 6, 5.5, 5, 4, 3, 2, 1, 0.5])
    labels = np.array([True] * 5 + [False, True] + [False] * 5)
    plain = pick_threshold(scores, labels)
    assert plain.value == pytest.approx(4.5) and plain.f1 == pytest.approx(12 / 13) and plain.f1_se is None
    assert pick_threshold(scores, labels, se_factor=0.0) == plain
    one_se = pick_threshold(scores, labels, se_factor=1.0)
    # 12 frames resampled: the standard error of 12/13 is about 0.086, so 10/11 is within it and 0.8 is not.
    assert one_se.f1_se == pytest.approx(0.086, abs=0.01)
    assert one_se.value == pytest.approx(5.75)  # halfway between 6 and the normal frame at 5.5
    assert one_se.f1 == pytest.approx(10 / 11) and one_se.best_f1 == pytest.approx(12 / 13)
    assert one_se.method == "best_f1"
    assert pick_threshold(scores, labels, se_factor=1.0) == one_se  # the bootstrap is seeded: it repeats
    assert pick_threshold(scores, labels, se_factor=2.0).value == pytest.approx(6.5)  # 0.8 is within 2 SE
    with pytest.raises(ValueError, match="se_factor"):
        pick_threshold(scores, labels, se_factor=-1.0)


def test_a_perfect_validation_split_leaves_no_room_for_the_rule():
    scores = [0.1, 0.2, 0.3, 0.8, 0.9]
    labels = [False, False, False, True, True]
    choice = pick_threshold(scores, labels, se_factor=1.0)
    assert choice.value == pytest.approx(0.55) and choice.f1 == pytest.approx(1.0) and choice.f1_se == 0.0


def test_the_f1_standard_error_shrinks_with_more_frames():
    from detection.thresholds import f1_standard_error

    small = f1_standard_error(true_pos=6, flagged=8, positives=9, total=30)
    large = f1_standard_error(true_pos=600, flagged=800, positives=900, total=3000)
    assert 0.0 < large < small
    assert large == pytest.approx(small / 10, rel=0.25)  # about 1 / sqrt(n)
