"""`mobilenet_v2+cae`: ImageNet appearance plus the area's reconstruction error, per clip. The MIL default.

Two groups of clip features, each L2-normalised on its own and then concatenated, so neither drowns the other
(mobilenet_v2's 2560 dimensions would otherwise outweigh the error's 40):
- appearance: the `mobilenet_v2` extractor's clip features (per-frame ImageNet features pooled over space by
  `pooling`, and their frame-to-frame changes; 2560 dims);
- reconstruction error: the area's CAE (detection.cae) per frame: its frame score, the error map's mean,
  spread and maximum, and the map's means on a 4 x 4 grid (`detection.features.cae.error_statistics`),
  standardised with the mean and spread of the training split's normal frames; per clip [mean, max] (40 dims).
The CAE's encoder features and the motion energy of the `cae` extractor are left out: the `cae` extractor's
whole vector scored far below the error statistics alone, and the motion energy added nothing (BENCHMARKS.md,
"MIL detector", has the numbers).

The error statistics carry what ImageNet appearance misses on few-pixel objects, so together they score
better than mobilenet_v2 alone on the generated benchmark (BENCHMARKS.md). Cost: mobilenet_v2's plus one CAE
pass per frame, plus training the CAE once per detector (none when given a trained CAE detector file). The
CAE's weights and the standardisation travel inside the MIL detector file; the version is a digest of them
and of mobilenet_v2's own version, so caches never mix areas.
"""

from __future__ import annotations

import numpy as np
import torch

from detection.cae.config import CAEConfig
from detection.cae.scoring import raw_frame_scores
from detection.features.cae import (
    ERROR_DIM,
    area_cae,
    cae_state_dict,
    clip_mean_max,
    error_statistics,
    load_cae,
    spread_of,
    state_digest,
)
from detection.features.mobilenet import MobileNetExtractor
from detection.types import ProgressFn, no_progress

FEATURE_VERSION = 1


def unit_rows(features: np.ndarray) -> np.ndarray:
    """(C, D) -> (C, D) float32, each row scaled to length 1 (zero rows stay zero)."""
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return (features / np.maximum(norms, 1e-12)).astype(np.float32)


class HybridExtractor:
    """mobilenet_v2 clip features beside the area's CAE error statistics. (N, H, W, 3) uint8 -> (C, 2600)."""

    name = "mobilenet_v2+cae"

    def __init__(
        self,
        *,
        cae_config: dict,
        state: dict,
        clip_len: int = 4,
        input_size: int | None = None,
        pooling: str = "max-avg",
        pretrained: bool = True,
        weights_path: str | None = None,
        norm_mean: np.ndarray | None = None,
        norm_std: np.ndarray | None = None,
        device: str | torch.device = "cpu",
    ):
        self.appearance = MobileNetExtractor(
            clip_len=clip_len,
            input_size=input_size,
            pooling=pooling,
            pretrained=pretrained,
            weights_path=weights_path,
            device=device,
        )
        self.cae_config = CAEConfig.from_dict(dict(cae_config))
        if self.cae_config.tiled or self.cae_config.sequence_length > 1:
            raise ValueError("the mobilenet_v2+cae extractor needs a frame CAE (tiled=False, sequence_length=1)")
        self.model, self.norm_mean, self.norm_std = load_cae(self.cae_config, state, norm_mean, norm_std, device)

    @property
    def clip_len(self) -> int:
        return self.appearance.clip_len

    @property
    def feature_dim(self) -> int:
        return self.appearance.feature_dim + 2 * ERROR_DIM

    @property
    def version(self) -> str:
        return f"{FEATURE_VERSION}-{self.appearance.version}-{state_digest(self.state_dict())}"

    def describe(self) -> dict:
        config = self.cae_config.to_dict()
        config["widths"] = list(config["widths"])
        appearance = self.appearance.describe()
        return {
            "name": self.name,
            "version": self.version,
            "clip_len": self.clip_len,
            "pretrained": appearance["pretrained"],
            "input_size": appearance["input_size"],
            "pooling": appearance["pooling"],
            "cae_config": config,
        }

    def state_dict(self) -> dict:
        """The CAE's weights (under 'cae.') and the error standardisation, as the MIL detector file stores them."""
        return cae_state_dict(self.model, self.norm_mean, self.norm_std)

    def error_features(self, frames: np.ndarray, progress: ProgressFn = no_progress) -> np.ndarray:
        """(N, H, W, 3) uint8 -> (N, ERROR_DIM) float32 error statistics, before standardisation."""
        raw = raw_frame_scores(self.model, frames, self.cae_config, progress)
        return error_statistics(raw.scores, raw.heatmaps)

    def fit_standardisation(self, per_frame: np.ndarray) -> None:
        """Set the error statistics' mean and spread from (N, ERROR_DIM) values of normal frames."""
        self.norm_mean, self.norm_std = spread_of(per_frame)

    def clip_features(self, frames: np.ndarray, progress: ProgressFn = no_progress) -> np.ndarray:
        """(N, H, W, 3) uint8 RGB -> (C, 2560 + 2 * ERROR_DIM) float32: [appearance, error], each of length 1."""
        if self.norm_mean is None:
            raise ValueError("the mobilenet_v2+cae extractor's standardisation is not fitted (fit_standardisation)")
        appearance = self.appearance.clip_features(frames, lambda f, s: progress(0.8 * f, s))  # (C, 2560)
        errors = (self.error_features(frames) - self.norm_mean) / self.norm_std  # (N, ERROR_DIM)
        error = clip_mean_max(errors, self.clip_len)  # (C, 2 * ERROR_DIM)
        progress(1.0, "mobilenet_v2+cae features")
        return np.concatenate([unit_rows(appearance), unit_rows(error)], axis=1)


def train_hybrid_extractor(
    train: list,
    *,
    clip_len: int = 4,
    input_size: int | None = None,
    pooling: str = "max-avg",
    cae_detector: str | None = None,
    cae_epochs: int | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: ProgressFn = no_progress,
) -> HybridExtractor:
    """The extractor for MIL training items: the area's CAE from `cae_detector` (a file), else trained here on
    the items labelled normal; its error statistics standardised on those normal videos' frames."""
    cae_config, state, normal = area_cae(
        train, cae_detector=cae_detector, cae_epochs=cae_epochs, seed=seed, device=device, progress=progress
    )
    extractor = HybridExtractor(
        cae_config=cae_config,
        state=state,
        clip_len=clip_len,
        input_size=input_size,
        pooling=pooling,
        device=device,
    )
    extractor.fit_standardisation(np.concatenate([extractor.error_features(i.frames.frames) for i in normal]))
    return extractor
