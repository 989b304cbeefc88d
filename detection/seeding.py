"""Seeded randomness that stays local: a training run's draws follow its `seed`, and nobody else's change.

Whatever takes a generator gets its own (`torch.Generator().manual_seed(seed)`, `np.random.default_rng(seed)`).
What takes none (layer initialisation, dropout) runs inside `seeded_torch(seed, device)`: torch's global
generators are seeded for the block and put back as they were after it, so a detector trained inside a
longer run (evaluate, a worker) neither depends on nor disturbs the draws around it.
"""

from __future__ import annotations

import contextlib

import torch


@contextlib.contextmanager
def seeded_torch(seed: int, device: str | torch.device | None = None):
    """Seed torch's global generator(s) for the block and restore them after it. `device`: where the block's
    random ops run; on CUDA its generators are seeded and restored too (else CUDA is left untouched)."""
    on_cuda = device is not None and torch.device(device).type == "cuda"
    devices = list(range(torch.cuda.device_count())) if on_cuda else []
    with torch.random.fork_rng(devices=devices):
        if on_cuda:
            torch.manual_seed(seed)  # the CPU's and every CUDA device's, all restored on exit
        else:
            torch.random.default_generator.manual_seed(seed)
        yield
