"""Pretrained weights offline: the missing-weights error, torchvision's hash check, fetch and the CLI."""

import hashlib
from pathlib import Path

import pytest
import torch

from detection.cli import main
from detection.errors import MissingWeightsError
from detection.features import build_extractor
from detection.features.weights import fetch_weights, locate_weights, packaged_path, weights_info


@pytest.fixture
def empty_torch_home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch"


def test_missing_video_weights_name_the_file_where_it_goes_and_the_fetch_command(empty_torch_home):
    with pytest.raises(MissingWeightsError) as caught:
        build_extractor("s3d")
    message = str(caught.value)
    expected = empty_torch_home / "hub" / "checkpoints" / "s3d-d76dad2f.pth"
    assert str(expected) in message
    assert "python -m detection weights fetch s3d" in message
    assert "https://download.pytorch.org/models/s3d-d76dad2f.pth" in message


def test_an_explicit_weights_path_that_does_not_exist_is_named(empty_torch_home, tmp_path):
    with pytest.raises(MissingWeightsError, match="nowhere/r3d_18.pth"):
        locate_weights("r3d_18", tmp_path / "nowhere" / "r3d_18.pth")


def test_the_packaged_mobilenet_file_is_torchvisions_own(empty_torch_home):
    path = packaged_path("mobilenet_v2")
    assert path is not None and path.name == "mobilenet_v2-b0353104.pth"
    assert hashlib.sha256(path.read_bytes()).hexdigest().startswith("b0353104")
    assert locate_weights("mobilenet_v2") == path


def test_the_mobilenet_extractor_loads_the_real_imagenet_weights(empty_torch_home):
    extractor = build_extractor("mobilenet_v2")
    saved = torch.load(packaged_path("mobilenet_v2"), map_location="cpu", weights_only=True)
    first_conv = extractor.backbone[0][0].weight
    assert torch.equal(first_conv, saved["features.0.0.weight"])
    assert extractor.version.split("-")[1] == "b0353104"


def test_a_file_with_the_wrong_hash_is_refused(empty_torch_home, tmp_path):
    impostor = tmp_path / "mobilenet_v2-b0353104.pth"
    torch.save({"features.0.0.weight": torch.zeros(1)}, impostor)
    with pytest.raises(MissingWeightsError, match="expected b0353104"):
        build_extractor("mobilenet_v2", weights_path=impostor)


def test_fetch_downloads_into_the_hub_cache_and_checks_the_hash(empty_torch_home):
    source = packaged_path("mobilenet_v2")
    saved = fetch_weights("mobilenet_v2", url=source.as_uri())
    assert saved == empty_torch_home / "hub" / "checkpoints" / "mobilenet_v2-b0353104.pth"
    assert locate_weights("mobilenet_v2") == saved  # the cache is looked at before the package


def test_fetch_of_a_wrong_file_fails_clearly_and_leaves_nothing(empty_torch_home, tmp_path):
    wrong = tmp_path / "other.pth"
    wrong.write_bytes(b"not the weights")
    with pytest.raises(MissingWeightsError, match="could not download"):
        fetch_weights("s3d", url=wrong.as_uri())
    assert not weights_info("s3d").cache_path.exists()


def test_weights_list_says_what_is_present_and_missing(empty_torch_home, capsys):
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    assert "mobilenet_v2   present:" in out
    assert f"MISSING: put s3d-d76dad2f.pth at {empty_torch_home / 'hub' / 'checkpoints'}" in out


def test_weights_fetch_without_network_fails_with_a_clear_message(empty_torch_home, monkeypatch, capsys):
    monkeypatch.setattr(
        "detection.features.weights.weights_info",
        lambda name, real=weights_info: _with_url(real(name), "http://127.0.0.1:9/s3d-d76dad2f.pth"),
    )
    assert main(["weights", "fetch", "s3d", "--timeout", "2"]) == 2
    assert "could not download" in capsys.readouterr().err


def _with_url(info, url):
    from dataclasses import replace

    return replace(info, url=url)
