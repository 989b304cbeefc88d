"""Cutting videos into bags of segments, and the head that scores them."""

import numpy as np
import pytest
import torch

from detection.mil.bags import (
    clip_scores_from_segments,
    segment_bounds,
    segment_clip_ranges,
    segment_features,
    segment_membership,
)
from detection.mil.config import MILConfig, make_config
from detection.mil.loss import ranking_loss
from detection.mil.model import MILHead, build_head


def test_a_long_video_splits_into_contiguous_segments_covering_every_clip_once():
    ranges = segment_clip_ranges(100, 32)
    assert ranges.shape == (32, 2)
    assert ranges[0, 0] == 0 and ranges[-1, 1] == 100
    assert np.array_equal(ranges[1:, 0], ranges[:-1, 1])  # contiguous, no overlap
    assert np.all(ranges[:, 1] > ranges[:, 0])
    assert (segment_membership(100, 32) > 0).sum(axis=0).tolist() == [1] * 100  # each clip in one segment


def test_a_short_video_repeats_its_clips_in_order_without_inventing_any():
    ranges = segment_clip_ranges(5, 32)
    assert ranges.shape == (32, 2)
    assert np.all(ranges[:, 1] - ranges[:, 0] == 1)  # one clip per segment
    firsts = ranges[:, 0]
    assert firsts.min() == 0 and firsts.max() == 4 and set(firsts) == {0, 1, 2, 3, 4}
    assert np.all(np.diff(firsts) >= 0)  # in time order: a later segment never takes an earlier clip


def test_a_single_clip_video_fills_every_segment_with_it():
    features = segment_features(np.array([[3.0, 4.0]]), segments=32)
    assert features.shape == (32, 2)
    assert np.allclose(features, [0.6, 0.8])


def test_segment_features_are_clip_means_l2_normalised():
    clips = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [2.0, 0.0]])
    features = segment_features(clips, segments=2)
    assert np.allclose(features[0], np.array([0.5, 0.5]) / np.linalg.norm([0.5, 0.5]))
    assert np.allclose(features[1], [1.0, 0.0])
    assert np.allclose(np.linalg.norm(features, axis=1), 1.0)


def test_an_all_zero_clip_does_not_become_nan():
    assert np.all(np.isfinite(segment_features(np.zeros((3, 4)), segments=4)))


def test_segment_scores_map_back_to_clips_for_short_and_long_videos():
    long_scores = np.linspace(0, 1, 32, dtype=np.float32)
    clips = clip_scores_from_segments(long_scores, 64)
    assert clips.shape == (64,) and clips[0] == 0.0 and clips[-1] == 1.0
    short = clip_scores_from_segments(np.arange(32, dtype=np.float32), 3)  # clips repeated over segments
    ranges = segment_clip_ranges(3, 32)
    for clip in range(3):
        assert short[clip] == np.arange(32)[ranges[:, 0] == clip].max()


def test_segment_bounds_come_from_the_clips_frame_times():
    clip_frames = np.array([[0, 4], [4, 8], [8, 10]])
    times = np.arange(10) * 0.5
    bounds = segment_bounds(clip_frames, times, segments=3)
    assert bounds.tolist() == [[0.0, 1.5], [2.0, 3.5], [4.0, 4.5]]


@pytest.mark.parametrize("kernel", [1, 3])
def test_the_head_scores_each_segment_in_0_1_and_gradients_reach_every_layer(kernel):
    torch.manual_seed(0)
    head = MILHead(in_features=16, temporal_kernel=kernel)
    bags = torch.randn(4, 32, 16)
    scores = head(bags)
    assert scores.shape == (4, 32)
    assert torch.all((scores >= 0) & (scores <= 1))
    ranking_loss(scores[:2], scores[2:]).total.backward()
    for name, parameter in head.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_the_paper_head_has_its_layer_sizes():
    head = build_head(in_features=1024, config=MILConfig())
    linears = [m for m in head.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(1024, 512), (512, 32), (32, 1)]
    dropouts = [m.p for m in head.modules() if isinstance(m, torch.nn.Dropout)]
    assert dropouts == [0.6, 0.6]


def test_config_rejects_unknown_and_bad_settings():
    with pytest.raises(ValueError, match="unknown MIL settings: colour"):
        make_config({"colour": "red"})
    with pytest.raises(ValueError, match="temporal_kernel must be odd"):
        MILConfig(temporal_kernel=2)
    assert make_config({"extractor": "cae", "learning_rate": "0.01"}).learning_rate == 0.01
    with pytest.raises(ValueError, match="spatial_pooling must be one of avg, max, max-avg"):
        MILConfig(spatial_pooling="median")
    with pytest.raises(ValueError, match="clip_len must be >= 1, or None"):
        MILConfig(clip_len=0)  # 0 no longer means "the extractor's own": None does


def test_the_default_pools_frames_by_max_minus_mean_and_the_paper_preset_by_the_mean():
    assert MILConfig().spatial_pooling == "max-avg"
    paper = make_config({"config": "paper"})
    assert (paper.spatial_pooling, paper.segment_pooling, paper.learning_rate) == ("avg", "max", 0.001)
    assert make_config({"spatial_pooling": "max"}).spatial_pooling == "max"
