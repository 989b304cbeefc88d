"""The baselines learn normal from normal frames, take thresholds from validation and flag inserted boxes."""

import numpy as np
import pytest
import torch

from detection.errors import TrainingDataError
from detection.evaluation.baselines import BASELINES, gather_frames, greedy_coreset, train_baseline
from detection.registry import TrainItem
from detection.types import Interval, SampledFrames, VideoRecord
from tests.support.videos import scene_frame

SIDE = 48


def _item(
    name: str, start: int, count: int, *, box_from: int | None = None, split: str = "train"
) -> TrainItem:
    frames = np.stack(
        [
            scene_frame(
                start + i, SIDE, SIDE, (14, 14, 12) if box_from is not None and i >= box_from else None
            )
            for i in range(count)
        ]
    )
    times = np.arange(count) * 0.5
    if box_from is None:
        record = VideoRecord(path=name, label="normal", split=split, video_id=name)
    else:
        interval = Interval(box_from * 0.5, (count - 1) * 0.5, "box")
        record = VideoRecord(path=name, label="anomalous", split=split, intervals=(interval,), video_id=name)
    return TrainItem(SampledFrames(frames, times), record)


@pytest.fixture(scope="module")
def splits():
    # the scene drifts with the frame index: validation and test stay within the drift seen in training
    train = [_item("n1", 0, 30), _item("n2", 30, 30)]
    val = [_item("v1", 5, 12, split="val"), _item("v2", 20, 12, box_from=6, split="val")]
    test = _item("t1", 40, 12, box_from=6, split="test")
    return train, val, test


@pytest.mark.parametrize("kind", sorted(BASELINES))
def test_each_baseline_scores_the_box_above_the_normal_scene(kind, splits):
    train, val, test = splits
    overrides = {"bank_size": 200, "max_candidates": 2000} if kind == "patchcore" else {}
    detector, report = train_baseline(kind, train, val, overrides=overrides, seed=0)
    scores = detector.score_frames(test.frames.frames, test.frames.times)
    assert np.isfinite(detector.threshold) and scores.threshold == detector.threshold
    assert scores.frame_scores.shape == (12,)
    normal, boxed = scores.frame_scores[:6], scores.frame_scores[6:]
    if kind == "iforest":  # the weakest: on 60 training frames it ranks the box higher on average only
        assert boxed.mean() > normal.mean()
    else:
        assert boxed.min() > normal.max()
        assert any(event.start >= 2.5 for event in scores.events)
    assert report.validation_metrics["method"] == "best_f1"
    if scores.heatmaps is not None:
        assert scores.heatmaps.dtype == np.uint8 and len(scores.heatmaps) == 12
        peak = np.unravel_index(int(np.argmax(scores.heatmaps[-1])), scores.heatmaps.shape[1:])
        box_centre = np.array([20, 20]) / SIDE
        assert np.abs((np.array(peak) + 0.5) / np.array(scores.heatmaps.shape[1:]) - box_centre).max() < 0.25


def test_training_without_normal_videos_is_a_clear_error(splits):
    _, val, test = splits
    with pytest.raises(TrainingDataError, match="no normal videos"):
        train_baseline("iforest", [test], val)


def test_validation_without_frame_labels_is_a_clear_error(splits):
    train, _, _ = splits
    weak = TrainItem(train[0].frames, VideoRecord(path="w", label="anomalous", split="val"))
    with pytest.raises(TrainingDataError, match="val split"):
        train_baseline("iforest", train, [weak])


def test_unknown_settings_are_named(splits):
    train, val, _ = splits
    with pytest.raises(ValueError, match="depth"):
        train_baseline("iforest", train, val, overrides={"depth": 3})


def test_gather_frames_spreads_evenly_over_videos():
    videos = [np.full((4, 1, 1, 3), 1, np.uint8), np.full((6, 1, 1, 3), 2, np.uint8)]
    assert gather_frames(videos, 100)[:, 0, 0, 0].tolist() == [1] * 4 + [2] * 6
    assert gather_frames(videos, 2)[:, 0, 0, 0].tolist() == [1, 2]  # the first and the last frame


def test_greedy_coreset_covers_every_cluster():
    generator = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [50.0, 0.0], [0.0, 50.0], [50.0, 50.0]])
    points = torch.cat([c + torch.randn(40, 2, generator=generator) for c in centres])
    chosen = greedy_coreset(points, 4, seed=1)
    assert sorted((chosen // 40).tolist()) == [0, 1, 2, 3]
