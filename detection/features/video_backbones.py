"""Frozen torchvision video backbones (Kinetics-400) as clip feature extractors: s3d, r2plus1d_18, r3d_18, ...

What it decodes: nothing itself. It sees the frames the detector is given (ingest's sampled frames, 2 fps
and 124 x 124 by default), `clip_len` (16) consecutive ones per clip, the last clip padded by repeating its
last frame. Kinetics models were trained on 15-30 fps clips, so at 2 fps a 16-frame clip spans 8 s and
their motion filters see large jumps; sample at a higher fps (ingest's sampling settings) to give them the
motion they expect, at a proportional cost. Each frame is resized whole to the weights' crop size (224 for
s3d/mvit/swin3d, 112 for the ResNet-3D family) and normalised with the weights' own mean and std (no centre
crop: it would cut off the frame border, where an anomaly may be). The classifier is removed; the feature is
the backbone's pooled output (s3d 1024-d, the ResNet-3Ds 512-d, mvit/swin3d_t 768-d).

Weights load offline only (weights.py). 3-D convolutions over 16-frame clips make them far slower per clip
than the image backbones (BENCHMARKS.md has the speeds). Their detection quality could not be measured
here: the Kinetics weights are not on this machine.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torchvision import models

from detection.features.clips import clip_windows, padded_clip
from detection.features.weights import BACKBONES, load_state_dict, weights_info
from detection.types import ProgressFn, no_progress

FEATURE_VERSION = 1
VIDEO_BACKBONES = tuple(name for name in BACKBONES if name != "mobilenet_v2")


def _strip_classifier(name: str, network: nn.Module) -> int:
    """Replace the classifier by an identity, in place; returns the feature width left."""
    if name == "s3d":
        width = network.classifier[1].in_channels
        network.classifier = nn.Identity()  # forward then averages (B, 1024, T', 1, 1) to (B, 1024)
    elif name.startswith("mvit"):
        width = network.head[-1].in_features
        network.head = nn.Identity()
    elif name.startswith("swin3d"):
        width = network.head.in_features
        network.head = nn.Identity()
    else:  # r3d_18, mc3_18, r2plus1d_18
        width = network.fc.in_features
        network.fc = nn.Identity()
    return width


class VideoBackboneExtractor:
    """Clip features from a frozen Kinetics backbone. Frames (N, H, W, 3) uint8 RGB -> (C, feature_dim)."""

    def __init__(
        self,
        name: str = "s3d",
        *,
        clip_len: int = 16,
        batch_clips: int = 2,
        weights_path: str | None = None,
        pretrained: bool = True,
        device: str | torch.device = "cpu",
    ):
        if name not in VIDEO_BACKBONES:
            raise ValueError(f"unknown video backbone {name!r}; known: {', '.join(VIDEO_BACKBONES)}")
        info = weights_info(name)
        meta = info.weights.meta
        min_frames = int(meta.get("min_temporal_size") or 1)
        if name.startswith("mvit"):
            clip_len = 16  # its positional embedding fixes 16 frames
        if clip_len < min_frames:
            raise ValueError(f"{name} needs clips of at least {min_frames} frames, got clip_len={clip_len}")
        preprocessing = info.weights.transforms()
        self.name = name
        self.clip_len = int(clip_len)
        self.batch_clips = batch_clips
        self.crop = tuple(int(v) for v in preprocessing.crop_size)
        self.mean = torch.tensor(preprocessing.mean).view(1, 3, 1, 1, 1)
        self.std = torch.tensor(preprocessing.std).view(1, 3, 1, 1, 1)
        self.device = torch.device(device)
        network = getattr(models.video, name)(weights=None)
        self.pretrained = bool(pretrained)
        if pretrained:
            state, _ = load_state_dict(name, weights_path)
            network.load_state_dict(state)
        self.feature_dim = _strip_classifier(name, network)
        self.network = network.eval().to(self.device)
        weights_tag = info.hash_prefix if pretrained else "random"
        self.version = f"{FEATURE_VERSION}-{weights_tag}-{self.crop[0]}px"

    def describe(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "clip_len": self.clip_len,
            "pretrained": self.pretrained,
        }

    def _prepare(self, clips: np.ndarray) -> torch.Tensor:
        """(B, T, H, W, 3) uint8 -> (B, 3, T, h, w) float, resized and normalised as the weights expect."""
        batch, length = clips.shape[:2]
        video = torch.from_numpy(np.ascontiguousarray(clips)).to(self.device)
        video = video.flatten(0, 1).permute(0, 3, 1, 2).float().div_(255.0)  # (B*T, 3, H, W)
        video = F.interpolate(video, size=self.crop, mode="bilinear", antialias=True, align_corners=False)
        video = video.view(batch, length, 3, *self.crop).transpose(1, 2)  # (B, 3, T, h, w)
        return (video - self.mean.to(self.device)) / self.std.to(self.device)

    @torch.inference_mode()
    def clip_features(self, frames: np.ndarray, progress: ProgressFn = no_progress) -> np.ndarray:
        """(N, H, W, 3) uint8 RGB -> (C, feature_dim) float32, one row per clip_windows(N, clip_len)."""
        windows = clip_windows(len(frames), self.clip_len)
        out = np.empty((len(windows), self.feature_dim), dtype=np.float32)
        for start in range(0, len(windows), self.batch_clips):
            chunk = windows[start : start + self.batch_clips]
            clips = np.stack([padded_clip(frames, first, end, self.clip_len) for first, end in chunk])
            out[start : start + len(chunk)] = self.network(self._prepare(clips)).flatten(1).cpu().numpy()
            progress(min(1.0, (start + len(chunk)) / len(windows)), f"{self.name} features")
        return out
