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
