"""Every extractor on tiny inputs: clip count and width; backbones with random weights (their cost is the same)."""

import numpy as np
import pytest
import torch

from detection.features import build_extractor
from detection.features.clips import clip_windows
from detection.features.mobilenet import pool_with_differences, spatial_pool
from detection.features.video_backbones import VIDEO_BACKBONES


def test_clips_do_not_overlap_and_the_last_may_be_short():
    assert clip_windows(10, 4).tolist() == [[0, 4], [4, 8], [8, 10]]
    assert clip_windows(3, 16).tolist() == [[0, 3]]
    with pytest.raises(ValueError, match="no frames"):
        clip_windows(0, 4)


def test_pooling_keeps_what_a_clip_shows_and_how_much_it_changes():
    per_frame = np.array([[0.0], [2.0], [2.0], [5.0], [5.0]])
    pooled = pool_with_differences(per_frame, clip_len=2)
    # changes: first taken as the second's (2), then 2, 0, 3, 0
    assert pooled.tolist() == [[1.0, 2.0], [3.5, 1.5], [5.0, 0.0]]


def test_mobilenet_gives_one_row_per_clip_and_a_still_video_no_change():
    extractor = build_extractor("mobilenet_v2", input_size=64, clip_len=4)
    still = np.full((6, 40, 40, 3), 90, dtype=np.uint8)
    features = extractor.clip_features(still)
    assert features.shape == (2, 2560) and features.dtype == np.float32
    assert np.allclose(features[:, 1280:], 0.0)
    assert features[:, :1280].std() > 0


def test_spatial_pooling_keeps_a_single_bright_cell_that_the_average_drowns():
    maps = torch.zeros(1, 2, 4, 4)  # (B, C, H, W): channel 0 one bright cell, channel 1 uniformly lit
    maps[0, 0, 1, 2] = 16.0
    maps[0, 1] = 3.0
    assert spatial_pool(maps, "avg").tolist() == [[1.0, 3.0]]
    assert spatial_pool(maps, "max").tolist() == [[16.0, 3.0]]
    assert spatial_pool(maps, "max-avg").tolist() == [[15.0, 0.0]]  # a uniform change does not stand out
    with pytest.raises(ValueError, match="unknown pooling"):
        spatial_pool(maps, "median")


@pytest.mark.parametrize("pooling", ["max", "max-avg"])
def test_mobilenet_pooling_keeps_the_shape_and_gets_its_own_version(pooling):
    avg = build_extractor("mobilenet_v2", input_size=64, clip_len=4)
    pooled = build_extractor("mobilenet_v2", input_size=64, clip_len=4, pooling=pooling)
    frames = np.random.default_rng(0).integers(0, 255, size=(6, 40, 40, 3), dtype=np.uint8)
    features = pooled.clip_features(frames)
    assert features.shape == (2, 2560) and features.dtype == np.float32
    assert not np.allclose(features, avg.clip_features(frames))
    assert pooled.version != avg.version and pooled.version.endswith(pooling)
    assert pooled.describe()["pooling"] == pooling and avg.describe()["pooling"] == "avg"


def test_mobilenet_refuses_an_unknown_pooling():
    with pytest.raises(ValueError, match="unknown mobilenet_v2 pooling 'median'"):
        build_extractor("mobilenet_v2", input_size=64, pooling="median")


def test_a_video_backbone_turns_a_short_video_into_padded_clips():
    extractor = build_extractor("r3d_18", pretrained=False)
    frames = np.random.default_rng(0).integers(
        0, 255, size=(extractor.clip_len + 3, 24, 32, 3), dtype=np.uint8
    )
    features = extractor.clip_features(frames)
    assert features.shape == (2, 512) and features.dtype == np.float32
    assert np.all(np.isfinite(features))
    assert extractor.describe()["version"].split("-")[1] == "random"


@pytest.mark.slow
def test_s3d_the_reports_backbone_gives_1024_d_clip_features():
    extractor = build_extractor("s3d", pretrained=False)
    frames = np.random.default_rng(0).integers(0, 255, size=(5, 24, 32, 3), dtype=np.uint8)
    assert extractor.clip_features(frames).shape == (1, 1024)


@pytest.mark.parametrize("name", VIDEO_BACKBONES)
def test_every_video_backbone_builds_without_its_classifier(name):
    extractor = build_extractor(name, pretrained=False)
    assert extractor.feature_dim in (512, 768, 1024)
    assert extractor.clip_len == 16
    assert not any(
        isinstance(m, torch.nn.Linear) and m.out_features == 400 for m in extractor.network.modules()
    )
