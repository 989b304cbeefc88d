"""The detector file: one atomic file, a format version, clear errors for bad files."""

from dataclasses import dataclass

import pytest
import torch

from detection import detector_file
from detection.detector_file import load_detector, read_payload, save_detector
from detection.errors import DetectorFileError


@dataclass
class EchoDetector:
    kind: str
    threshold: float
    payload: object


def load_from_payload(payload):
    """The loader this test module registers for the kind 'echo'."""
    return EchoDetector(payload.kind, payload.threshold, payload)


@pytest.fixture
def echo_kind(monkeypatch):
    monkeypatch.setitem(detector_file.LOADERS, "echo", __name__)


def save_echo(path, **changes):
    arguments = dict(
        kind="echo",
        state={"weight": torch.arange(6.0).reshape(2, 3)},
        config={"name": "tiny", "widths": (4, 8), "size": 32},
        threshold=0.25,
        normalisation={"mean": 1.5, "std": 0.5},
        extra={"note": "x"},
    )
    arguments.update(changes)
    save_detector(path, **arguments)


def test_it_round_trips_everything_through_one_file(tmp_path, echo_kind):
    path = tmp_path / "sub" / "model.pt"
    save_echo(path)
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]  # no staging file left behind
    detector = load_detector(path)
    assert detector.kind == "echo" and detector.threshold == 0.25
    payload = detector.payload
    assert torch.equal(payload.state["weight"], torch.arange(6.0).reshape(2, 3))
    assert payload.config == {"name": "tiny", "widths": (4, 8), "size": 32}
    assert payload.normalisation == {"mean": 1.5, "std": 0.5}
    assert payload.extra == {"note": "x"} and payload.format_version == detector_file.FORMAT_VERSION


def test_it_rejects_another_format_version(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    monkeypatch.setattr(detector_file, "FORMAT_VERSION", 99)
    save_echo(path)
    monkeypatch.setattr(detector_file, "FORMAT_VERSION", 1)
    with pytest.raises(DetectorFileError, match="format version 99.*reads version 1"):
        read_payload(path)


def test_it_names_a_missing_file(tmp_path):
    with pytest.raises(DetectorFileError, match="does not exist"):
        load_detector(tmp_path / "nothing.pt")


def test_it_rejects_a_corrupt_file(tmp_path, echo_kind):
    path = tmp_path / "model.pt"
    save_echo(path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DetectorFileError, match="cannot be read"):
        load_detector(path)


def test_it_rejects_a_file_that_is_not_a_detector(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"layer.weight": torch.zeros(2)}, path)
    with pytest.raises(DetectorFileError, match="not a Skerry detector file"):
        load_detector(path)


def test_it_rejects_an_unknown_kind(tmp_path):
    path = tmp_path / "model.pt"
    save_echo(path, kind="mystery")
    with pytest.raises(DetectorFileError, match="kind 'mystery'"):
        load_detector(path)
