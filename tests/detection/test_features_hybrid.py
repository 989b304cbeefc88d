"""The default MIL extractor, mobilenet_v2 beside the area's CAE error: shapes, normalisation, versions, rebuild."""

import numpy as np
import pytest
import torch

from detection.cae.config import CAEConfig
from detection.cae.model import build_model
from detection.features import EXTRACTOR_NAMES, build_extractor
from detection.features.cache import FeatureCache
from detection.features.cae import ERROR_DIM
from detection.mil.config import MILConfig, make_config


def untrained(seed: int = 0, **options) -> dict:
    torch.manual_seed(seed)
    config = CAEConfig(input_size=32, widths=(8, 16), latent_channels=4, inference_batch=16)
    return {"cae_config": config.to_dict(), "state": build_model(config).state_dict(), "pretrained": False,
            "input_size": 64, **options}


def frames_with_box(count: int = 8, seed: int = 0) -> np.ndarray:
    """Grey noisy frames; the second half shows a white box."""
    frames = np.random.default_rng(seed).integers(70, 90, size=(count, 32, 32, 3)).astype(np.uint8)
    frames[count // 2 :, 2:8, 2:8] = 255
    return frames


def test_it_is_the_mil_default_and_gives_two_groups_each_of_length_one():
    assert MILConfig().extractor == "mobilenet_v2+cae" == EXTRACTOR_NAMES[0]
    assert make_config({"config": "paper"}).extractor == "mobilenet_v2"
    extractor = build_extractor("mobilenet_v2+cae", clip_len=2, **untrained())
    with pytest.raises(ValueError, match="not fitted"):
        extractor.clip_features(frames_with_box())
    extractor.fit_standardisation(extractor.error_features(frames_with_box(seed=1)[:4]))
    features = extractor.clip_features(frames_with_box())
    assert features.shape == (4, extractor.feature_dim) == (4, 2560 + 2 * ERROR_DIM)
    assert np.allclose(np.linalg.norm(features[:, :2560], axis=1), 1.0)
    assert np.allclose(np.linalg.norm(features[:, 2560:], axis=1), 1.0)
    # the error half is [mean, max] of the standardised statistics: the box frames stand out from the fit
    error = features[:, 2560:]
    assert not np.allclose(error[:2], error[2:])


def test_the_version_follows_the_cae_and_its_standardisation_so_caches_never_mix(tmp_path):
    first = build_extractor("mobilenet_v2+cae", **untrained(0))
    other = build_extractor("mobilenet_v2+cae", **untrained(1))
    frames = frames_with_box()
    for extractor in (first, other):
        extractor.fit_standardisation(extractor.error_features(frames))
    assert first.version != other.version
    assert first.appearance.version in first.version  # and mobilenet_v2's own (weights, size, pooling)
    before = first.version
    first.fit_standardisation(first.error_features(frames[:2]))
    assert first.version != before
    cache = FeatureCache(tmp_path)
    cache.clip_features(first, frames, np.arange(8.0))
    cache.clip_features(other, frames, np.arange(8.0))
    cache.clip_features(first, frames, np.arange(8.0))
    assert cache.misses == 2 and cache.hits == 1


def test_it_rebuilds_from_its_description_and_state():
    settings = untrained(pooling="avg")
    torch.manual_seed(5)  # random mobilenet_v2 weights (no file in this test): the same on both builds
    extractor = build_extractor("mobilenet_v2+cae", clip_len=2, **settings)
    extractor.fit_standardisation(extractor.error_features(frames_with_box()))
    described = extractor.describe()
    options = {key: value for key, value in described.items() if key not in ("name", "version")}
    torch.manual_seed(5)
    rebuilt = build_extractor("mobilenet_v2+cae", state=extractor.state_dict(), **options)
    assert rebuilt.version == extractor.version and rebuilt.describe() == described
    assert np.allclose(rebuilt.clip_features(frames_with_box()), extractor.clip_features(frames_with_box()))


def test_a_tiled_or_sequence_cae_is_refused():
    for change in ({"tiled": True}, {"sequence_length": 3}):
        settings = untrained()
        settings["cae_config"] = {**settings["cae_config"], **change}
        with pytest.raises(ValueError, match="frame CAE"):
            build_extractor("mobilenet_v2+cae", **settings)
