"""Sequence mode input: each frame with the frames before it, stacked on the channel axis.

The origin report fed the autoencoder 10 consecutive frames. A window never reaches across the start of
its run of frames (a video, or a run of normal frames): before the start, the first frame is repeated.
"""

from __future__ import annotations

import torch


def window_indices(indices: torch.Tensor, run_starts: torch.Tensor, length: int) -> torch.Tensor:
    """(B, length) frame indices, oldest first, ending at each of `indices` (B,).

    run_starts (N,) gives, for every frame, the index of the first frame of its run.
    """
    back = torch.arange(length - 1, -1, -1, device=indices.device)  # (L,): L-1 .. 0
    window = indices[:, None] - back[None, :]  # (B, L)
    return torch.maximum(window, run_starts[indices][:, None])


def stack_window(frames: torch.Tensor, windows: torch.Tensor) -> torch.Tensor:
    """frames (N, 3, H, W), windows (B, L) -> (B, 3 * L, H, W), frame channels oldest first."""
    gathered = frames[windows]  # (B, L, 3, H, W)
    return gathered.flatten(1, 2)
