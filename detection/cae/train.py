"""Training the CAE on an area's normal frames, and choosing its threshold on the validation split.

`train_from_items` is the kind's entry point for detection.registry (CLI, evaluate, workers);
`train_cae` trains on plain arrays in three steps: `prepare_data` (frames as the model takes them, a
hold-out when validation has no normal frames), `fit` (the loop) and `choose_threshold`. The loop reads top
to bottom: seeded model and shuffling, Adam, one pass per epoch (`train_epoch`), validation loss on held-out
normal frames, early stopping that restores the best weights, reconstructions of a fixed batch at epochs 0
(untrained), 10, 20 and the last (made with the restored best weights, keyed by the number of the last
epoch run).

Which frames do what (train_from_items):
- training: videos labelled normal, and the frames outside the intervals of anomalous videos that have
  intervals, and the normal intervals of any video (dismissed events: an analyst saw those frames and called
  them normal). Otherwise unlabelled videos and anomalous videos without intervals are left out (they may
  hold anomalies at unknown times), with a warning.
- validation: frames with known labels (normal videos; anomalous videos with intervals; each normal interval
  of another video as a piece of its own, so that dismissed false alarms weigh on the threshold). An anomalous
  video without intervals is left out of the threshold choice rather than counted as all-anomalous: most
  of its frames usually look normal, and calling them anomalies would drag the threshold down.
  Validation normal frames give the validation loss and the score normalisation; when there are none,
  the last `val_fraction` of every training video is held out instead.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from detection.cae.config import CAEConfig, make_config
from detection.cae.corruption import corrupt
from detection.cae.losses import reconstruction_loss
from detection.cae.model import build_model
from detection.cae.scoring import (
    CAEDetector,
    finalise_scores,
    model_input,
    normalisation_stats,
    raw_frame_scores,
    to_model_frames,
)
from detection.cae.tiling import cut_tiles, tile_grid
from detection.device import autocast, pick_device
from detection.errors import TrainingDataError
from detection.evaluation.metrics import roc_auc
from detection.labels import frame_truth, known_runs
from detection.registry import TrainingReport, TrainItem
from detection.seeding import seeded_torch
from detection.thresholds import ThresholdChoice, normal_median, pick_threshold
from detection.types import ProgressFn, no_progress

SNAPSHOT_EPOCHS = (0, 10, 20)
SNAPSHOT_SIZE = 8
PREPARE_CHUNK = 256


class FrameSet:
    """Model-ready uint8 frames (N, 3, S, S) of several runs, and the first index of each frame's run."""

    def __init__(self, runs: Sequence[np.ndarray], config: CAEConfig, device: torch.device):
        parts = [prepare_run(run, config, device) for run in runs if len(run)]
        lengths = [len(part) for part in parts]
        self.frames = torch.cat(parts) if parts else torch.zeros(0, 3, 1, 1, dtype=torch.uint8, device=device)
        starts = np.repeat(np.cumsum([0, *lengths[:-1]]), lengths) if lengths else np.zeros(0)
        self.run_starts = torch.as_tensor(starts, dtype=torch.long, device=device)
        if config.tiled:  # tiles are independent samples
            self.run_starts = torch.arange(len(self.frames), device=device)
        self.length = config.sequence_length

    def __len__(self) -> int:
        return len(self.frames)

    def batch(self, indices: torch.Tensor) -> torch.Tensor:
        return model_input(self.frames, indices, self.run_starts, self.length)


def prepare_run(frames: np.ndarray, config: CAEConfig, device: torch.device) -> torch.Tensor:
    """(n, 3, S, S) uint8 model frames of one run, converted in chunks; tiles (n * T, 3, S, S) when tiled."""
    parts = []
    for start in range(0, len(frames), PREPARE_CHUNK):
        chunk = to_model_frames(np.asarray(frames[start : start + PREPARE_CHUNK]), config, device)
        if config.tiled:
            grid = tile_grid(chunk.shape[-2], chunk.shape[-1], config.input_size, config.tile_overlap)
            chunk = cut_tiles(chunk, grid)
        parts.append(chunk)
    return torch.cat(parts)


@dataclass(frozen=True)
class TrainingData:
    """What the loop and the threshold choice read: normal training runs and validation videos as given,
    and both as model-ready FrameSets on the training device."""

    train_videos: list[np.ndarray]  # runs of normal frames, each (N, H, W, 3) uint8
    val_videos: list[np.ndarray]  # whole videos, each (N, H, W, 3) uint8
    val_labels: list[np.ndarray]  # (N,) bool per validation video, True = anomalous
    train_set: FrameSet
    val_set: FrameSet
    val_normal: torch.Tensor  # (M,) indices of val_set's normal frames (tiles)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fitted:
    """The loop's result: the model with its best weights restored, and what it left on the way."""

    model: torch.nn.Module
    curve: tuple[dict, ...]
    reconstructions: dict
    epochs_run: int


@dataclass(frozen=True)
class ThresholdFit:
    """The threshold chosen on the validation frames, the normalisation their normal frames gave, and the
    (finalised) scores and labels it was chosen on."""

    choice: ThresholdChoice
    normalisation: dict
    scores: np.ndarray
    labels: np.ndarray
    warnings: tuple[str, ...] = ()


def train_cae(
    train_videos: Sequence[np.ndarray],
    val_videos: Sequence[np.ndarray],
    val_labels: Sequence[np.ndarray],
    *,
    config: CAEConfig,
    progress: ProgressFn = no_progress,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> tuple[CAEDetector, TrainingReport]:
    """Train on runs of normal frames (each (N, H, W, 3) uint8, all normal) and pick the threshold.

    val_videos are whole videos with frame labels val_labels ((N,) bool each, True = anomalous).
    """
    started = time.perf_counter()
    data = prepare_data(train_videos, val_videos, val_labels, config, pick_device(device))
    fitted = fit(data, config, seed=seed, progress=progress)
    train_seconds = time.perf_counter() - started
    progress(0.9, "choosing the threshold on the validation frames")
    threshold = choose_threshold(fitted.model, data, config)
    metrics = validation_metrics(threshold.scores, threshold.labels, threshold.choice)
    metrics["epochs_run"] = fitted.epochs_run
    metrics["train_frames_per_second"] = len(data.train_set) * fitted.epochs_run / max(train_seconds, 1e-9)
    detector = CAEDetector(
        fitted.model, config, threshold.choice.value, threshold.normalisation, extra={"validation": metrics}
    )
    progress(1.0, "trained")
    report = TrainingReport(
        curve=fitted.curve,
        reconstructions=fitted.reconstructions,
        validation_metrics=metrics,
        train_seconds=train_seconds,
        warnings=data.warnings + threshold.warnings,
    )
    return detector, report


def prepare_data(
    train_videos: Sequence[np.ndarray],
    val_videos: Sequence[np.ndarray],
    val_labels: Sequence[np.ndarray],
    config: CAEConfig,
    device: torch.device,
) -> TrainingData:
    """The frames on `device` as the model takes them. Without normal validation frames, the last
    `val_fraction` of each training run is held out as validation (and a warning says so)."""
    train_videos = [v for v in train_videos if len(v)]
    if not train_videos:
        raise TrainingDataError("no normal training frames: the CAE learns what normal looks like")
    val_videos, val_labels = list(val_videos), [np.asarray(labels, dtype=bool) for labels in val_labels]
    warnings = []
    if not any((~labels).any() for labels in val_labels):
        train_videos, held_out = hold_out(train_videos, config.val_fraction)
        val_videos += held_out
        val_labels += [np.zeros(len(v), dtype=bool) for v in held_out]
        warnings.append(f"no normal validation frames: held out the last {config.val_fraction:.0%} of each training run")
    train_set = FrameSet(train_videos, config, device)
    val_set = FrameSet(val_videos, config, device)
    val_normal = torch.as_tensor(np.flatnonzero(~np.concatenate(val_labels)) if val_labels else [], dtype=torch.long)
    if config.tiled:  # every tile of a normal frame is normal (validation frames share one size)
        tiles = len(val_set) // max(1, sum(len(v) for v in val_videos))
        val_normal = (val_normal[:, None] * tiles + torch.arange(tiles)).flatten()
    return TrainingData(
        train_videos, val_videos, val_labels, train_set, val_set, val_normal.to(device), tuple(warnings)
    )


def fit(data: TrainingData, config: CAEConfig, *, seed: int, progress: ProgressFn = no_progress) -> Fitted:
    """The loop: seeded model, Adam, one pass over the training frames per epoch, the validation loss on the
    normal validation frames, and early stopping that restores the best weights."""
    device = data.train_set.frames.device
    with seeded_torch(seed):  # the initial weights follow the seed (drawn on the CPU)
        model = build_model(config).to(device, memory_format=torch.channels_last)
    shuffle = torch.Generator().manual_seed(seed)
    corruption = torch.Generator().manual_seed(seed + 1)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    snapshot = fixed_batch(data.train_set, data.val_set, data.val_normal)
    reconstructions = {0: reconstruct(model, *snapshot)}
    curve, best_loss, best_state, stale, epoch = [], math.inf, None, 0, 0
    for epoch in range(1, config.epochs + 1):
        train_loss = train_epoch(model, optimiser, data.train_set, config, shuffle=shuffle, corruption=corruption)
        val_loss = mean_loss(model, data.val_set, data.val_normal, config) if len(data.val_normal) else train_loss
        curve.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss})
        progress(0.9 * epoch / config.epochs, f"epoch {epoch}/{config.epochs}: train {train_loss:.5f}, val {val_loss:.5f}")
        if epoch in SNAPSHOT_EPOCHS:
            reconstructions[epoch] = reconstruct(model, *snapshot)
        if val_loss < best_loss:
            best_loss, best_state, stale = val_loss, copy.deepcopy(model.state_dict()), 0
        else:
            stale += 1
            if stale >= config.patience:
                break
    model.load_state_dict(best_state)
    reconstructions[epoch] = reconstruct(model, *snapshot)  # the restored best weights, keyed by the last epoch
    return Fitted(model, tuple(curve), reconstructions, epoch)


def train_epoch(
    model: torch.nn.Module,
    optimiser: torch.optim.Optimizer,
    frames: FrameSet,
    config: CAEConfig,
    *,
    shuffle: torch.Generator,
    corruption: torch.Generator,
) -> float:
    """One pass over `frames` in shuffled batches; the mean training loss per frame."""
    model.train()
    device = frames.frames.device
    order = torch.randperm(len(frames), generator=shuffle).to(device)
    total = 0.0
    for indices in order.split(config.batch_size):
        x = frames.batch(indices)  # (B, 3L, S, S)
        with autocast(device):
            reconstruction = model(corrupt(x, config.corruption, corruption))
        loss = reconstruction_loss(x, reconstruction, config.loss, ssim_weight=config.ssim_weight)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        total += loss.item() * len(indices)
    return total / len(frames)


def choose_threshold(model: torch.nn.Module, data: TrainingData, config: CAEConfig) -> ThresholdFit:
    """Score the validation videos, normalise by their normal frames and pick the threshold as configured
    (detection.thresholds). Runs of single frames leave nothing to validate on: the training frames stand in."""
    val_videos, val_labels, warnings = data.val_videos, data.val_labels, []
    if not val_videos:
        val_videos, val_labels = data.train_videos, [np.zeros(len(v), dtype=bool) for v in data.train_videos]
        warnings.append("no validation frames at all: threshold from the training frames (optimistic)")
    raw = [raw_frame_scores(model, frames, config).scores for frames in val_videos]
    all_raw, all_labels = np.concatenate(raw), np.concatenate(val_labels)
    normalisation = normalisation_stats(all_raw[~all_labels])
    scores = np.concatenate([finalise_scores(r, config, normalisation) for r in raw])
    choice = pick_threshold(
        scores,
        all_labels,
        quantile=config.threshold_quantile,
        method=config.threshold_method,
        se_factor=config.threshold_se,
    )
    if choice.warning:
        warnings.append(choice.warning)
    return ThresholdFit(choice, normalisation, scores, all_labels, tuple(warnings))


def hold_out(videos: list[np.ndarray], fraction: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Split the last `fraction` of each run (of at least 2 frames) off as validation."""
    kept, held = [], []
    for frames in videos:
        count = int(math.ceil(fraction * len(frames))) if len(frames) >= 2 else 0
        kept.append(frames[: len(frames) - count])
        if count:
            held.append(frames[len(frames) - count :])
    return kept, held


def mean_loss(model: torch.nn.Module, frames: FrameSet, indices: torch.Tensor, config: CAEConfig) -> float:
    """The training loss averaged over the frames at `indices`, in eval mode."""
    model.eval()
    total = 0.0
    with torch.inference_mode():
        for part in indices.split(config.inference_batch):
            x = frames.batch(part)
            with autocast(x.device):
                reconstruction = model(x)
            total += reconstruction_loss(x, reconstruction, config.loss, ssim_weight=config.ssim_weight).item() * len(part)
    return total / len(indices)


def fixed_batch(train_set: FrameSet, val_set: FrameSet, val_normal: torch.Tensor) -> tuple[FrameSet, torch.Tensor]:
    """Up to 8 frames, evenly spread over the normal validation frames (else the training frames)."""
    source, pool = (val_set, val_normal) if len(val_normal) else (train_set, torch.arange(len(train_set)))
    picks = np.linspace(0, len(pool) - 1, num=min(SNAPSHOT_SIZE, len(pool))).round().astype(int)
    return source, pool[torch.as_tensor(picks)].to(source.frames.device)


def reconstruct(model: torch.nn.Module, frames: FrameSet, indices: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, outputs) uint8 (B, S, S, 3) of the newest frame of each input."""
    model.eval()
    with torch.inference_mode():
        x = frames.batch(indices)
        out = model(x).float()
    as_images = lambda t: (t[:, -3:].permute(0, 2, 3, 1) * 255).round().clamp(0, 255).byte().cpu().numpy()  # noqa: E731
    return as_images(x), as_images(out)


def validation_metrics(scores: np.ndarray, labels: np.ndarray, choice) -> dict:
    """Plain numbers about the validation split at the chosen threshold."""
    flagged = scores >= choice.value
    metrics = {
        "threshold": choice.value,
        "threshold_method": choice.method,
        "val_frames": int(labels.size),
        "val_anomalous_frames": int(labels.sum()),
        "val_false_alarm_rate": float(flagged[~labels].mean()) if (~labels).any() else None,
        "val_f1": choice.f1,
        "val_normal_median": normal_median(scores, labels),
    }
    if choice.f1_se is not None:  # the one-standard-error rule was applied: the best F1 it started from
        metrics["val_best_f1"] = choice.best_f1
        metrics["val_f1_standard_error"] = choice.f1_se
    if labels.any() and (~labels).any():
        metrics["val_roc_auc"] = roc_auc(labels, scores)
        metrics["val_recall"] = float(flagged[labels].mean())
    return metrics


def normal_runs(frames: np.ndarray, labels: np.ndarray) -> list[np.ndarray]:
    """The runs of consecutive frames labelled normal (False)."""
    normal = ~np.asarray(labels, dtype=bool)
    edges = np.flatnonzero(np.diff(np.concatenate([[False], normal, [False]]).astype(np.int8)))
    return [frames[start:stop] for start, stop in zip(edges[::2], edges[1::2])]


def train_from_items(
    train: list[TrainItem],
    val: list[TrainItem],
    *,
    overrides: dict | None = None,
    progress: ProgressFn = no_progress,
    seed: int = 0,
) -> tuple[CAEDetector, TrainingReport]:
    """Train a CAE for detection.registry. overrides: {"config": "report" | "default", "device": ..., field: value}
    (detection.configs); the device is where it trains, not part of the saved config."""
    overrides = dict(overrides or {})
    device = overrides.pop("device", None)
    config = make_config(overrides)
    runs, skipped = [], []
    for item in train:
        truth = frame_truth(item.frames.times, item.record)
        if truth is None:
            skipped.append(item.record.video_id or str(item.record.path))
            continue
        labels, known = truth
        runs += normal_runs(item.frames.frames, labels | ~known)  # dismissed events' frames count as normal
    if not any(len(run) for run in runs):
        raise TrainingDataError(
            f"no normal training frames among {len(train)} training videos: the CAE needs videos labelled "
            "normal (or anomalous ones with intervals, whose other frames are normal)"
        )
    val_videos, val_labels, unknown = [], [], []
    for item in val:
        truth = frame_truth(item.frames.times, item.record)
        if truth is None:
            unknown.append(item.record.video_id or str(item.record.path))
            continue
        labels, known = truth
        if known.all():
            val_videos.append(item.frames.frames)
            val_labels.append(labels)
            continue
        for start, stop in known_runs(known):  # dismissed events of a video without labels: normal pieces
            val_videos.append(np.asarray(item.frames.frames[start:stop]))
            val_labels.append(labels[start:stop])
    detector, report = train_cae(
        runs, val_videos, val_labels, config=config, progress=progress, seed=seed, device=device
    )
    notes = []
    if skipped:
        notes.append(f"left out of training (unlabelled, or anomalous without intervals): {', '.join(skipped)}")
    if unknown:
        notes.append(f"left out of the threshold choice (frame labels unknown): {', '.join(unknown)}")
    if notes:
        report = TrainingReport(
            curve=report.curve,
            reconstructions=report.reconstructions,
            validation_metrics=report.validation_metrics,
            train_seconds=report.train_seconds,
            warnings=tuple(notes) + report.warnings,
        )
    return detector, report
