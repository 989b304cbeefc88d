"""Synthetic archipelago patrols: labelled drone videos with per-frame ground truth, for demo, tests, benchmarks.

`generate(out_dir, preset=..., seed=...)` writes the videos, `<video>.gt.npz` ground truth beside each, and
a manifest; `detection.synth.groundtruth.load_groundtruth` reads the truth back.
"""

from __future__ import annotations


def generate(out_dir, *, preset: str = "demo", seed: int = 0, **overrides):
    """Generate a preset's dataset under `out_dir`; returns the manifest path (see `generate.generate`)."""
    from detection.synth.generate import generate as run

    return run(out_dir, preset=preset, seed=seed, **overrides)
