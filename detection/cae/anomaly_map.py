"""From reconstruction errors to anomaly maps, frame scores and compact stored heatmaps.

Error maps are (B, H, W) float. Smoothing spreads a small object's error over its neighbourhood, so that
the top-k mean favours compact hot regions over single noisy pixels. The frame score is the mean of the
highest `topk_fraction` of pixel errors: a plain mean lets a 16x16-pixel object vanish in a 1080p frame.
Stored heatmaps are average-pooled to about `heatmap_pixels` cells (aspect kept) and quantised to uint8;
at the default 3844 cells (62x62) an hour at 2 fps (7200 frames) takes 27.7 MB.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from detection.cae.losses import separable_blur


def smooth_maps(maps: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian-smoothed (B, H, W) error maps; sigma in pixels, 0 leaves them as they are."""
    if sigma <= 0:
        return maps
    return separable_blur(maps.unsqueeze(1), sigma).squeeze(1)


def frame_scores(maps: torch.Tensor, *, score: str, topk_fraction: float = 0.01) -> torch.Tensor:
    """(B,) frame scores of (B, H, W) error maps: 'mean' of all pixels or mean of the 'topk' highest."""
    flat = maps.flatten(1)  # (B, H * W)
    if score == "mean":
        return flat.mean(dim=1)
    if score == "topk":
        k = max(1, int(round(topk_fraction * flat.shape[1])))
        return flat.topk(k, dim=1, sorted=False).values.mean(dim=1)
    raise ValueError(f"unknown frame score {score!r}")


def heatmap_shape(height: int, width: int, pixels: int) -> tuple[int, int]:
    """(h, w) with h * w about `pixels`, the frame's aspect kept, never larger than the frame."""
    h = max(1, min(height, round(math.sqrt(pixels * height / width))))
    w = max(1, min(width, round(pixels / h)))
    return h, w


def pool_heatmaps(maps: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """(B, h, w) average-pooled error maps."""
    return F.adaptive_avg_pool2d(maps.unsqueeze(1), shape).squeeze(1)


def quantise(heatmaps: np.ndarray) -> tuple[np.ndarray, float]:
    """(uint8 maps, scale) with value v standing for v * scale; the scale maps the largest value to 255."""
    heatmaps = np.asarray(heatmaps, dtype=np.float32)
    peak = float(heatmaps.max()) if heatmaps.size else 0.0
    scale = peak / 255.0 if peak > 0 else 1.0
    return np.clip(np.rint(heatmaps / scale), 0, 255).astype(np.uint8), scale
