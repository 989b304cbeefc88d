"""Cutting one video's clip features into a bag of a fixed number of segments (32 by default).

As in Sultani et al.'s code, segment boundaries are `round(linspace(0, C, S + 1))` over the C clips; a
segment's feature is the mean of the clips from its start up to (not including) its end, L2-normalised.
When a video has fewer clips than segments, some boundaries coincide: such a segment takes the single clip
at its start, so segments repeat clips by index and never take a feature from outside the video. The
(S, C) membership matrix makes this one matrix product, and maps segment scores back to clips and frames.
"""

from __future__ import annotations

import numpy as np


def segment_clip_ranges(num_clips: int, segments: int) -> np.ndarray:
    """(S, 2) int: each segment's clips as [first, end) indices into the C clips; never empty."""
    if num_clips < 1:
        raise ValueError("a video needs at least one clip to form a bag")
    if segments < 1:
        raise ValueError(f"segments must be >= 1, got {segments}")
    edges = np.round(np.linspace(0, num_clips, segments + 1)).astype(np.int64)  # (S+1,)
    first = np.minimum(edges[:-1], num_clips - 1)
    end = np.maximum(edges[1:], first + 1)
    return np.stack([first, end], axis=1)


def segment_membership(num_clips: int, segments: int) -> np.ndarray:
    """(S, C) float32: row s holds 1/len for each clip of segment s, so `membership @ clips` averages."""
    ranges = segment_clip_ranges(num_clips, segments)
    clips = np.arange(num_clips)
    member = (clips[None, :] >= ranges[:, :1]) & (clips[None, :] < ranges[:, 1:])  # (S, C)
    return (member / member.sum(axis=1, keepdims=True)).astype(np.float32)


def segment_features(clip_features: np.ndarray, segments: int = 32) -> np.ndarray:
    """(C, D) clip features -> (S, D) float32 segment features: means over each segment's clips, L2-normalised."""
    clip_features = np.asarray(clip_features, dtype=np.float32)
    if clip_features.ndim != 2:
        raise ValueError(f"clip features must be (clips, dims), got shape {clip_features.shape}")
    means = segment_membership(len(clip_features), segments) @ clip_features  # (S, D)
    norms = np.linalg.norm(means, axis=1, keepdims=True)
    return (means / np.maximum(norms, 1e-12)).astype(np.float32)


def clip_scores_from_segments(segment_scores: np.ndarray, num_clips: int) -> np.ndarray:
    """(S,) segment scores -> (C,) clip scores: the highest score of the segments each clip belongs to."""
    segment_scores = np.asarray(segment_scores, dtype=np.float32)
    ranges = segment_clip_ranges(num_clips, len(segment_scores))
    clips = np.arange(num_clips)
    member = (clips[None, :] >= ranges[:, :1]) & (clips[None, :] < ranges[:, 1:])  # (S, C)
    return np.where(member, segment_scores[:, None], -np.inf).max(axis=0).astype(np.float32)


def segment_bounds(clip_frames: np.ndarray, times: np.ndarray, segments: int) -> np.ndarray:
    """(S, 2) seconds: from the first frame of a segment's first clip to the last frame of its last clip.

    `clip_frames` is (C, 2) [first, end) frame indices per clip, `times` (N,) the sampled frame times.
    """
    clip_frames = np.asarray(clip_frames)
    times = np.asarray(times, dtype=np.float64)
    ranges = segment_clip_ranges(len(clip_frames), segments)
    start_frames = clip_frames[ranges[:, 0], 0]
    last_frames = clip_frames[ranges[:, 1] - 1, 1] - 1
    return np.stack([times[start_frames], times[last_frames]], axis=1)
