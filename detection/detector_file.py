"""One file per trained detector: weights, config, threshold, normalisation and a format version.

The file is `torch.save` of a plain dict (tensors, numbers, strings, lists, tuples, dicts; no numpy, no
classes), so it loads with `weights_only=True`:
    {"format_version": 1, "kind": "cae", "state": {name: tensor}, "config": {...},
     "threshold": float, "normalisation": {...}, "extra": {...}}
It is written to a temporary file beside the target and renamed, so a reader never sees half a file.

`load_detector` dispatches on `kind` to the module named in LOADERS, which provides
    load_from_payload(payload: DetectorPayload) -> Detector
so a new kind plugs in with one line here and no import of its code until a file of that kind is loaded.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

import torch

from detection.atomic_files import replacing
from detection.errors import DetectorFileError
from detection.types import Detector

FORMAT_VERSION = 1

LOADERS = {
    "cae": "detection.cae.scoring",
    "mil": "detection.mil.detector",
    "change": "detection.change.detector",
}


@dataclass(frozen=True)
class DetectorPayload:
    """The contents of a detector file, as a kind's `load_from_payload` receives them."""

    kind: str
    state: dict
    config: dict
    threshold: float
    normalisation: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    format_version: int = FORMAT_VERSION


def save_detector(
    path: Path,
    *,
    kind: str,
    state: dict,
    config: dict,
    threshold: float,
    normalisation: dict | None = None,
    extra: dict | None = None,
) -> None:
    """Write a detector file atomically; `state` is a model's state_dict, the rest plain Python values."""
    path = Path(path)
    payload = {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "state": {name: tensor.detach().cpu() for name, tensor in state.items()},
        "config": dict(config),
        "threshold": float(threshold),
        "normalisation": dict(normalisation or {}),
        "extra": dict(extra or {}),
    }
    with replacing(path) as staging:
        torch.save(payload, staging)


def read_payload(path: Path) -> DetectorPayload:
    """The checked contents of a detector file; DetectorFileError if missing, corrupt or of another version."""
    path = Path(path)
    if not path.is_file():
        raise DetectorFileError(f"detector file {path} does not exist")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a damaged or foreign file
        raise DetectorFileError(f"detector file {path} cannot be read ({type(exc).__name__}: {exc})") from exc
    if not isinstance(raw, dict) or "format_version" not in raw:
        raise DetectorFileError(f"{path} is not a Skerry detector file (no format_version)")
    if raw["format_version"] != FORMAT_VERSION:
        raise DetectorFileError(
            f"detector file {path} has format version {raw['format_version']}, this Skerry reads version "
            f"{FORMAT_VERSION}; retrain the detector or use the Skerry version that wrote it"
        )
    missing = [key for key in ("kind", "state", "config", "threshold") if key not in raw]
    if missing:
        raise DetectorFileError(f"detector file {path} lacks {', '.join(missing)}")
    return DetectorPayload(
        kind=raw["kind"],
        state=raw["state"],
        config=raw["config"],
        threshold=float(raw["threshold"]),
        normalisation=raw.get("normalisation", {}),
        extra=raw.get("extra", {}),
        format_version=raw["format_version"],
    )


def load_detector(path: Path) -> Detector:
    """Rebuild the detector saved in `path`, whatever its kind."""
    payload = read_payload(path)
    if payload.kind not in LOADERS:
        raise DetectorFileError(
            f"detector file {path} is of kind {payload.kind!r}; known kinds: {', '.join(sorted(LOADERS))}"
        )
    module = importlib.import_module(LOADERS[payload.kind])
    try:
        return module.load_from_payload(payload)
    except DetectorFileError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise DetectorFileError(f"detector file {path} does not rebuild a {payload.kind} detector: {exc}") from exc
