"""Synthetic archipelago patrols: labelled drone videos with per-frame ground truth, for demo, tests, benchmarks.

`generate(out_dir, preset=..., seed=...)` writes the videos, `<video>.gt.npz` ground truth beside each, and
a manifest; `detection.synth.groundtruth.load_groundtruth` reads the truth back.
"""

from __future__ import annotations

# Imported eagerly: a lazy wrapper named like its submodule was replaced by that submodule as soon as the
# submodule was first imported, so `from detection.synth import generate` then gave a module (seen in a test run).
from detection.synth.generate import generate

__all__ = ["generate"]
