"""Where models run: CUDA when present (or asked for), else the CPU; mixed precision only on CUDA."""

from __future__ import annotations

import contextlib

import torch


def pick_device(preferred: str | torch.device | None = None) -> torch.device:
    """`preferred` ('cpu', 'cuda', 'cuda:1', or None/'auto' for CUDA when available, else CPU)."""
    if preferred is None or str(preferred) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(preferred)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {device} was asked for, but CUDA is not available on this machine")
    return device


def amp_enabled(device: torch.device) -> bool:
    """Mixed precision is used on CUDA only: on the CPU it is slower and changes results."""
    return device.type == "cuda"


def autocast(device: torch.device):
    """bfloat16 autocast on CUDA (no gradient scaler needed), a no-op context elsewhere."""
    if amp_enabled(device):
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


@contextlib.contextmanager
def cpu_threads(count: int):
    """Run the block with `count` intra-op CPU threads (fewer threads win on a busy, shared CPU)."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
