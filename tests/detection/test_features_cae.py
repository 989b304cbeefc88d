"""The CAE feature extractor: shapes, standardisation, motion energy, version tied to the CAE's weights."""

import numpy as np
import pytest
import torch

from detection.cae.config import CAEConfig
from detection.cae.model import build_model
from detection.features import build_extractor
from detection.features.cache import FeatureCache
from detection.features.cae import GRID, motion_features


def untrained_cae(seed: int = 0) -> dict:
    torch.manual_seed(seed)
    config = CAEConfig(input_size=32, widths=(8, 16), latent_channels=4, inference_batch=16)
    return {"cae_config": config.to_dict(), "state": build_model(config).state_dict()}


def frames_with_box(count: int = 8, moving: bool = False) -> np.ndarray:
    frames = np.full((count, 32, 32, 3), 80, dtype=np.uint8)
    for index in range(count):
        x = 2 + 2 * index if moving else 2
        frames[index, 2:8, x : x + 6] = 255
    return frames


def test_it_gives_mean_and_max_of_standardised_frame_features_per_clip():
    extractor = build_extractor("cae", clip_len=3, **untrained_cae())
    with pytest.raises(ValueError, match="not fitted"):
        extractor.clip_features(frames_with_box())
    extractor.fit_standardisation(extractor.frame_features(frames_with_box()))
    features = extractor.clip_features(frames_with_box())
    assert features.shape == (3, extractor.feature_dim) == (3, 2 * (8 + 4 + 16 + 2 + 16))
    half = extractor.frame_dim
    assert np.all(features[:, half:] >= features[:, :half] - 1e-5)  # max >= mean


def test_motion_energy_is_zero_when_still_and_lands_in_the_right_grid_cell_when_moving():
    assert np.allclose(motion_features(frames_with_box(moving=False)), 0.0)
    moving = motion_features(frames_with_box(moving=True))
    grid = moving[:, 2:].reshape(-1, GRID, GRID)
    assert moving[:, 0].min() > 0
    assert np.unravel_index(grid.mean(axis=0).argmax(), (GRID, GRID))[0] == 0  # the box moves along the top


def test_the_version_follows_the_weights_and_standardisation_so_caches_never_mix(tmp_path):
    first = build_extractor("cae", **untrained_cae(0))
    other = build_extractor("cae", **untrained_cae(1))
    assert first.version != other.version
    frames = frames_with_box()
    for extractor in (first, other):
        extractor.fit_standardisation(extractor.frame_features(frames))
    cache = FeatureCache(tmp_path)
    cache.clip_features(first, frames, np.arange(8.0))
    cache.clip_features(other, frames, np.arange(8.0))
    assert cache.misses == 2


def test_it_rebuilds_from_its_own_state():
    extractor = build_extractor("cae", clip_len=2, **untrained_cae())
    extractor.fit_standardisation(extractor.frame_features(frames_with_box()))
    described = extractor.describe()
    rebuilt = build_extractor(
        "cae", clip_len=2, cae_config=described["cae_config"], state=extractor.state_dict()
    )
    assert rebuilt.version == extractor.version
    assert np.allclose(rebuilt.clip_features(frames_with_box()), extractor.clip_features(frames_with_box()))


def test_a_tiled_cae_is_refused():
    settings = untrained_cae()
    settings["cae_config"]["tiled"] = True
    with pytest.raises(ValueError, match="non-tiled"):
        build_extractor("cae", **settings)
