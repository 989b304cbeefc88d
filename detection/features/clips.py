"""How sampled frames form clips, and what a feature extractor promises.

A clip is `clip_len` consecutive sampled frames, clips do not overlap, and the last one may be shorter
(a video shorter than one clip is one short clip). Extractors that need a fixed number of frames pad a
short clip by repeating its last frame. Every extractor turns (N, H, W, 3) uint8 RGB frames into
(C, D) float32 clip features for the C windows of `clip_windows(N, clip_len)`.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from detection.types import ProgressFn, no_progress


def clip_windows(num_frames: int, clip_len: int) -> np.ndarray:
    """(C, 2) int64 [first, end) frame indices of the clips of a video with `num_frames` sampled frames."""
    if num_frames < 1:
        raise ValueError("a video with no frames has no clips")
    if clip_len < 1:
        raise ValueError(f"clip_len must be >= 1, got {clip_len}")
    starts = np.arange(0, num_frames, clip_len, dtype=np.int64)
    return np.stack([starts, np.minimum(starts + clip_len, num_frames)], axis=1)


def frame_clip_index(num_frames: int, clip_len: int) -> np.ndarray:
    """(N,) int64: the clip each sampled frame belongs to."""
    return np.arange(num_frames, dtype=np.int64) // clip_len


def padded_clip(frames: np.ndarray, first: int, end: int, length: int) -> np.ndarray:
    """(length, H, W, 3): frames[first:end], the last frame repeated to fill `length`."""
    index = np.minimum(np.arange(first, first + length), end - 1)
    return np.asarray(frames[index])


class FeatureExtractor(Protocol):
    """Turns sampled frames into clip features. `version` changes whenever its features would."""

    name: str
    version: str
    feature_dim: int
    clip_len: int

    def clip_features(self, frames: np.ndarray, progress: ProgressFn = no_progress) -> np.ndarray:
        """(N, H, W, 3) uint8 RGB -> (C, feature_dim) float32 for the windows of clip_windows(N, clip_len)."""
        ...

    def describe(self) -> dict:
        """Plain values identifying the extractor (name, version, options), for caches and detector files."""
        ...
