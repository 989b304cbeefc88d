"""One generated `patrol_tiny` set per test run (three 4-second flights with .SRT sidecars, ground truth and
area.json), shared by the mapping tests of the library, the workers and the web app."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def patrol_tiny_set(tmp_path_factory) -> Path:
    """The generated set's folder (manifest.csv, area.json, dayNN/patrol.{mp4,SRT,gt.npz})."""
    from detection.synth import generate

    return generate(tmp_path_factory.mktemp("patrol-tiny") / "out", preset="patrol_tiny", seed=0, jobs=1).parent
