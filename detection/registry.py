"""Detector kinds by name, so that the CLI, evaluate and the workers train any kind the same way.

Each kind's module provides:
    train_from_items(train: list[TrainItem], val: list[TrainItem], *, overrides: dict, progress, seed)
        -> (Detector, TrainingReport)
where a TrainItem pairs one video's SampledFrames with its VideoRecord (label, split, intervals), and
`overrides` are the kind's config fields by name, "config" (a preset) and run options such as "device",
applied the same way for every kind (detection.configs).
Loading a saved detector of any kind goes through `detection.detector_file.load_detector`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from detection.types import SampledFrames, VideoRecord

KINDS = {
    "cae": "detection.cae.train",
    "mil": "detection.mil.train",
    "change": "detection.change.train",
}

# The frame size (width, height) each kind samples at; None = the video's native size (the kind resizes).
FRAME_SIZES: dict[str, tuple[int, int] | None] = {"cae": (124, 124), "mil": (124, 124), "change": None}


@dataclass(frozen=True)
class TrainItem:
    frames: SampledFrames
    record: VideoRecord


@dataclass(frozen=True)
class TrainingReport:
    """What training leaves besides the model: loss curve, reconstructions of a fixed batch, timings."""

    curve: tuple[dict, ...] = ()  # ({"epoch": int, "train_loss": float, "val_loss": float}, ...)
    reconstructions: dict = field(default_factory=dict)  # epoch -> (inputs, outputs) uint8 (B, H, W, 3)
    validation_metrics: dict = field(default_factory=dict)
    train_seconds: float = 0.0
    warnings: tuple[str, ...] = ()


def frame_size(kind: str, overrides: dict | None = None) -> tuple[int, int] | None:
    """The (width, height) a kind's frames are sampled at, None for native (a tiled CAE, CHANGE)."""
    if kind == "cae" and (overrides or {}).get("tiled"):
        return None
    return FRAME_SIZES.get(kind, (124, 124))


def trainer(kind: str):
    """The `train_from_items` function of a detector kind; a clear error for an unknown kind."""
    if kind not in KINDS:
        raise ValueError(f"unknown detector kind {kind!r}; known kinds: {', '.join(sorted(KINDS))}")
    return importlib.import_module(KINDS[kind]).train_from_items
