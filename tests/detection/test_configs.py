"""Detector configs: one way to apply overrides for every kind, typed values, None for "not set", no device in
a detector file, and old field names that still load (files) and still apply with a warning (overrides)."""

import importlib
import warnings

import pytest

from detection import registry
from detection.cae.config import CAEConfig
from detection.cae.config import make_config as cae_config
from detection.cae.model import build_model
from detection.cae.scoring import CAEDetector
from detection.change.config import ChangeConfig
from detection.change.config import make_config as change_config
from detection.configs import Legacy, from_saved, upgrade
from detection.detector_file import load_detector, read_payload, save_detector
from detection.mil.config import MILConfig
from detection.mil.config import make_config as mil_config

CONFIG_MODULES = {"cae": "detection.cae.config", "mil": "detection.mil.config", "change": "detection.change.config"}


def test_every_kind_has_a_config_module_whose_make_config_names_unknown_keys_the_same_way():
    assert set(CONFIG_MODULES) == set(registry.KINDS)
    for kind, module in CONFIG_MODULES.items():
        make_config = importlib.import_module(module).make_config
        with pytest.raises(ValueError, match=rf"unknown {kind.upper()} settings: colour; known: .*"):
            make_config({"colour": "red"})
        with pytest.raises(ValueError, match=rf"unknown {kind.upper()} preset 'fancy'"):
            make_config({"config": "fancy"})


def test_a_value_from_the_command_line_or_from_json_gives_the_same_config():
    assert cae_config({"epochs": "3", "learning_rate": "0.01", "tiled": "true", "widths": "8,16"}) == cae_config(
        {"epochs": 3, "learning_rate": 0.01, "tiled": True, "widths": [8, 16]}
    )
    assert cae_config({"threshold_se": 0}).threshold_se == 0.0 and cae_config({"epochs": 3.0}).epochs == 3
    assert mil_config({"iterations": "50", "topk_segments": "2"}) == mil_config({"iterations": 50, "topk_segments": 2})
    assert change_config({"use_colour": "yes", "candidates": "2"}) == change_config({"use_colour": True, "candidates": 2})


def test_a_value_of_the_wrong_type_is_named():
    with pytest.raises(ValueError, match="CAE setting epochs=2.5: expected int"):
        cae_config({"epochs": 2.5})
    with pytest.raises(ValueError, match="CAE setting tiled='maybe': expected bool"):
        cae_config({"tiled": "maybe"})
    with pytest.raises(ValueError, match="CAE setting epochs must be set"):
        cae_config({"epochs": None})


def test_not_set_is_none_and_zero_is_no_longer_a_default_in_disguise():
    config = MILConfig()
    assert (config.clip_len, config.input_size, config.cae_detector, config.cae_epochs, config.feature_cache) == (
        None, None, None, None, None)
    assert mil_config({"cae_epochs": None}).cae_epochs is None
    with pytest.raises(ValueError, match="cae_epochs must be >= 1, or None"):
        MILConfig(cae_epochs=0)


def test_the_device_is_where_a_trainer_runs_and_never_part_of_a_config():
    assert cae_config({"device": "cpu"}) == CAEConfig()
    assert mil_config({"device": "cpu", "epochs": 4}) == MILConfig()  # MIL's run options: device and epochs
    assert change_config({"device": "cpu"}) == ChangeConfig()
    for config in (CAEConfig(), MILConfig(), ChangeConfig()):
        assert "device" not in config.to_dict()
    assert from_saved(ChangeConfig, {"device": "cuda:1", "candidates": 2}, kind="CHANGE") == ChangeConfig(candidates=2)


def test_cae_and_mil_name_their_shared_settings_alike():
    shared = {"learning_rate", "weight_decay", "input_size", "threshold_method", "threshold_quantile", "threshold_se"}
    assert shared <= CAEConfig().to_dict().keys() and shared <= MILConfig().to_dict().keys()
    assert (CAEConfig().pixel_pooling, MILConfig().segment_pooling) == ("topk", "topk")
    with pytest.raises(ValueError, match="threshold_method must be one of best_f1, quantile"):
        MILConfig(threshold_method="median")


def test_old_names_in_overrides_apply_with_a_warning_that_names_the_new_key():
    with pytest.warns(FutureWarning, match="CAE setting 'score' is now called 'pixel_pooling'"):
        assert cae_config({"score": "mean"}).pixel_pooling == "mean"
    with pytest.warns(FutureWarning) as caught:
        config = mil_config({"lr": 0.1, "pool": "max", "topk": 2, "pooling": "avg", "features": "cae", "clip_len": 0})
    assert (config.learning_rate, config.segment_pooling, config.topk_segments) == (0.1, "max", 2)
    assert (config.spatial_pooling, config.extractor, config.clip_len) == ("avg", "cae", None)
    notes = " | ".join(str(w.message) for w in caught)
    assert "'lr' is now called 'learning_rate'" in notes and "clip_len=0 meant 'not set'" in notes
    with pytest.raises(ValueError, match="'pool' and 'segment_pooling' are the same setting"):
        mil_config({"pool": "max", "segment_pooling": "topk"})


def test_new_names_give_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mil_config({"learning_rate": 0.1, "segment_pooling": "max", "spatial_pooling": "avg", "cae_epochs": 3})
        cae_config({"pixel_pooling": "mean", "config": "report"})


def test_upgrade_maps_old_keys_and_old_unset_values_only():
    legacy = Legacy(renamed={"lr": "learning_rate"}, unset={"clip_len": 0})
    values, notes = upgrade({"lr": 0.1, "clip_len": 0, "segments": 0}, legacy, kind="MIL")
    assert values == {"learning_rate": 0.1, "clip_len": None, "segments": 0} and len(notes) == 2


def test_a_cae_file_saved_under_the_old_names_loads_to_the_same_config(tmp_path):
    config = cae_config({"input_size": 32, "widths": (8, 16), "latent_channels": 4, "pixel_pooling": "mean"})
    detector = CAEDetector(build_model(config), config, 0.5, {"score_mean": 0.0, "score_std": 1.0})
    detector.save(tmp_path / "new.pt")
    payload = read_payload(tmp_path / "new.pt")
    old = {("score" if key == "pixel_pooling" else key): value for key, value in payload.config.items()}
    old["widths"] = list(old["widths"])  # as JSON-minded writers stored it
    save_detector(tmp_path / "old.pt", kind="cae", state=payload.state, config=old, threshold=payload.threshold,
                  normalisation=payload.normalisation)
    assert "score" in read_payload(tmp_path / "old.pt").config
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # loading an old file is not the user's mistake: no warning
        loaded = load_detector(tmp_path / "old.pt")
    assert loaded.config == config
