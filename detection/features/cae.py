"""Clip features from an area's convolutional autoencoder (detection.cae): no pretrained weights needed at all.

Per sampled frame, from one pass of the CAE (non-tiled configurations):
- encoder features: the bottleneck's output, average- and max-pooled over space (ConvCAE: 2 x latent
  channels; the report's CAE: its 225-d linear bottleneck);
- reconstruction error: the frame score of detection.cae (top-k mean), the pooled error map's mean, spread
  and maximum, and the map averaged on a 4 x 4 grid (where in the frame the error is);
- motion energy: mean absolute difference to the previous frame (grey, 32 x 32), its top 1 %, and the same
  on a 4 x 4 grid.
Each dimension is standardised with the mean and spread of the training split's normal frames (kept with
the extractor), then a clip's feature is [mean over its frames, max over its frames] (2 x 70 = 140 dims with the
default ConvCAE). One small CAE pass per frame makes it the cheapest extractor, plus training the CAE; speed
and quality on the synthetic MIL set: BENCHMARKS.md.

The CAE is either given (a trained CAE detector file) or trained on the MIL training split's normal videos
(`train_cae_extractor`); its weights and the standardisation travel inside the MIL detector file, and the
extractor's version is a digest of both, so cached features of another CAE are never reused.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from detection.cae.config import CAEConfig
from detection.cae.model import build_model
from detection.cae.scoring import raw_frame_scores
from detection.features.clips import clip_windows
from detection.types import ProgressFn, no_progress

FEATURE_VERSION = 1
GRID = 4
MOTION_SIZE = 32
ERROR_DIM = 4 + GRID * GRID  # error_statistics' width


def _latent_module(model: nn.Module) -> nn.Module:
    if hasattr(model, "to_latent"):
        return model.to_latent  # ConvCAE: (B, latent, h, w)
    return model.bottleneck[1]  # ReportCAE: Linear to the 225-d bottleneck, (B, 225)


def motion_features(frames: np.ndarray, chunk: int = 256) -> np.ndarray:
    """(N, H, W, 3) uint8 -> (N, 2 + GRID^2) float32: per frame mean |difference| to the previous frame,
    its top 1 % and its 4 x 4 grid means (grey frames at 32 x 32). The first frame takes the second's."""
    grey = []
    for start in range(0, len(frames), chunk):
        images = (
            torch.from_numpy(np.array(frames[start : start + chunk])).permute(0, 3, 1, 2).float()
        )
        small = F.interpolate(images / 255.0, size=(MOTION_SIZE, MOTION_SIZE), mode="area")  # (n, 3, 32, 32)
        grey.append(small.mean(dim=1))  # (n, 32, 32)
    grey = torch.cat(grey)
    change = (grey[1:] - grey[:-1]).abs()  # (N-1, 32, 32)
    change = torch.cat([change[:1] if len(change) else torch.zeros_like(grey[:1]), change])  # (N, 32, 32)
    flat = change.flatten(1)
    top = flat.topk(max(1, flat.shape[1] // 100), dim=1).values.mean(dim=1)
    grid = F.adaptive_avg_pool2d(change.unsqueeze(1), GRID).flatten(1)  # (N, 16)
    return torch.cat([flat.mean(dim=1, keepdim=True), top[:, None], grid], dim=1).numpy().astype(np.float32)


def error_statistics(scores: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
    """Frame scores (N,) and error maps (N, h, w) -> (N, ERROR_DIM) float32: the score, the map's mean, spread
    and maximum, and its means on a GRID x GRID grid (where in the frame the error is)."""
    maps = torch.from_numpy(np.asarray(heatmaps, dtype=np.float32))  # (N, h, w)
    flat = maps.flatten(1)
    grid = F.adaptive_avg_pool2d(maps.unsqueeze(1), GRID).flatten(1)  # (N, GRID^2)
    score = torch.from_numpy(np.asarray(scores, dtype=np.float32))
    error = torch.stack([score, flat.mean(1), flat.std(1), flat.amax(1)], dim=1)
    return torch.cat([error, grid], dim=1).numpy().astype(np.float32)


def clip_mean_max(per_frame: np.ndarray, clip_len: int) -> np.ndarray:
    """(N, F) per-frame values -> (C, 2F) float32: per clip of `clip_windows(N, clip_len)`, [mean, max]."""
    windows = clip_windows(len(per_frame), clip_len)
    means = np.add.reduceat(per_frame, windows[:, 0], axis=0) / (windows[:, 1] - windows[:, 0])[:, None]
    maxima = np.maximum.reduceat(per_frame, windows[:, 0], axis=0)
    return np.concatenate([means, maxima], axis=1).astype(np.float32)


def spread_of(per_frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, spread) float32 per dimension of (N, F) values of normal frames; a constant dimension gets 1e-6."""
    return per_frame.mean(axis=0).astype(np.float32), np.maximum(per_frame.std(axis=0), 1e-6).astype(np.float32)


def state_digest(state: dict) -> str:
    """12 hex digits of sha1 over a state dict's names and tensors: a version that follows the weights."""
    digest = hashlib.sha1()
    for name, tensor in sorted(state.items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:12]


def load_cae(
    config: CAEConfig, state: dict, norm_mean=None, norm_std=None, device: str | torch.device = "cpu"
) -> tuple[nn.Module, np.ndarray | None, np.ndarray | None]:
    """(model in eval mode on `device`, standardisation mean, spread) from a CAE-built extractor's state: the CAE's
    weights (with or without the 'cae.' prefix) and, unless given, the "norm_mean"/"norm_std" it carries."""
    state = dict(state)
    if norm_mean is None and "norm_mean" in state:
        norm_mean, norm_std = state.pop("norm_mean").numpy(), state.pop("norm_std").numpy()
    model = build_model(config)
    model.load_state_dict({key.removeprefix("cae."): value for key, value in state.items()})
    model.eval().to(torch.device(device))

    def as_array(values):
        return None if values is None else np.asarray(values, dtype=np.float32)

    return model, as_array(norm_mean), as_array(norm_std)


def cae_state_dict(model: nn.Module, norm_mean: np.ndarray | None, norm_std: np.ndarray | None) -> dict:
    """The CAE's weights (under 'cae.') and the standardisation, as MIL detector files store a CAE-built extractor."""
    state = {f"cae.{key}": value for key, value in model.state_dict().items()}
    if norm_mean is not None:
        state["norm_mean"] = torch.from_numpy(norm_mean)
        state["norm_std"] = torch.from_numpy(norm_std)
    return state


class CAEExtractor:
    """Clip features from a trained CAE. Frames (N, H, W, 3) uint8 RGB -> (C, 2 * frame_dim) float32."""

    name = "cae"

    def __init__(
        self,
        *,
        cae_config: dict,
        state: dict,
        clip_len: int = 4,
        norm_mean: np.ndarray | None = None,
        norm_std: np.ndarray | None = None,
        device: str | torch.device = "cpu",
    ):
        self.cae_config = CAEConfig.from_dict(dict(cae_config))
        if self.cae_config.tiled:
            raise ValueError("the CAE feature extractor needs a non-tiled CAE (tiled=False)")
        self.clip_len = int(clip_len)
        self.model, self.norm_mean, self.norm_std = load_cae(self.cae_config, state, norm_mean, norm_std, device)

    @property
    def frame_dim(self) -> int:
        latent = (
            self.cae_config.latent_channels * 2
            if hasattr(self.model, "to_latent")
            else self.cae_config.latent_dim
        )
        return latent + ERROR_DIM + 2 + GRID * GRID

    @property
    def feature_dim(self) -> int:
        return 2 * self.frame_dim

    @property
    def version(self) -> str:
        return f"{FEATURE_VERSION}-{state_digest(self.state_dict())}"

    def describe(self) -> dict:
        config = self.cae_config.to_dict()
        config["widths"] = list(config["widths"])
        return {"name": self.name, "version": self.version, "clip_len": self.clip_len, "cae_config": config}

    def state_dict(self) -> dict:
        """The CAE's weights (under 'cae.') and the standardisation, as the MIL detector file stores them."""
        return cae_state_dict(self.model, self.norm_mean, self.norm_std)

    def frame_features(self, frames: np.ndarray, progress: ProgressFn = no_progress) -> np.ndarray:
        """(N, H, W, 3) uint8 -> (N, frame_dim) float32, before standardisation."""
        latents = []
        hook = _latent_module(self.model).register_forward_hook(lambda module, args, out: latents.append(out))
        try:
            raw = raw_frame_scores(self.model, frames, self.cae_config, progress)
        finally:
            hook.remove()
        latent = torch.cat(latents).float()  # (N, latent, h, w) or (N, 225)
        if latent.ndim == 4:
            latent = torch.cat([latent.mean(dim=(2, 3)), latent.amax(dim=(2, 3))], dim=1)
        parts = [latent.cpu().numpy(), error_statistics(raw.scores, raw.heatmaps), motion_features(frames)]
        return np.concatenate(parts, axis=1).astype(np.float32)

    def fit_standardisation(self, per_frame: np.ndarray) -> None:
        """Set the per-dimension mean and spread from (N, frame_dim) features of normal frames."""
        self.norm_mean, self.norm_std = spread_of(per_frame)

    def clip_features(self, frames: np.ndarray, progress: ProgressFn = no_progress) -> np.ndarray:
        """(N, H, W, 3) uint8 RGB -> (C, 2 * frame_dim) float32: per clip [mean, max] of standardised frames."""
        if self.norm_mean is None:
            raise ValueError("the CAE extractor's standardisation is not fitted (call fit_standardisation)")
        per_frame = (self.frame_features(frames, progress) - self.norm_mean) / self.norm_std  # (N, F)
        return clip_mean_max(per_frame, self.clip_len)


def area_cae(
    train: list,
    *,
    cae_detector: str | None = None,
    cae_epochs: int | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: ProgressFn = no_progress,
) -> tuple[dict, dict, list]:
    """(CAE config dict, CAE weights on the CPU, the normal items) for feature extractors built on the area's
    CAE: the CAE in `cae_detector` (a file), else one trained here on the training items labelled normal, with
    the default CAE config and `cae_epochs` epochs (None: the config's own)."""
    from detection.cae.train import train_from_items as train_cae
    from detection.detector_file import load_detector
    from detection.errors import TrainingDataError

    normal = [item for item in train if item.record.label == "normal"]
    if not normal:
        raise TrainingDataError("the CAE feature extractor needs normal training videos to learn from")
    if cae_detector is not None:
        cae = load_detector(cae_detector)
        if cae.kind != "cae":
            raise TrainingDataError(f"{cae_detector} holds a {cae.kind} detector, not a CAE")
    else:
        overrides = {"device": str(device), **({"epochs": cae_epochs} if cae_epochs is not None else {})}
        cae, _ = train_cae(normal, [], overrides=overrides, progress=progress, seed=seed)
    state = {key: value.cpu() for key, value in cae.model.state_dict().items()}
    return cae.config.to_dict(), state, normal


def train_cae_extractor(
    train: list,
    *,
    clip_len: int = 4,
    cae_detector: str | None = None,
    cae_epochs: int | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: ProgressFn = no_progress,
) -> CAEExtractor:
    """A CAE extractor for MIL training items: the CAE from `cae_detector` (a file), else trained here on the
    items labelled normal; standardised on those normal videos' frames."""
    cae_config, state, normal = area_cae(
        train, cae_detector=cae_detector, cae_epochs=cae_epochs, seed=seed, device=device, progress=progress
    )
    extractor = CAEExtractor(cae_config=cae_config, state=state, clip_len=clip_len, device=device)
    extractor.fit_standardisation(np.concatenate([extractor.frame_features(i.frames.frames) for i in normal]))
    return extractor
