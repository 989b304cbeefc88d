"""CHANGE's persistence on the ground (`ground_radius`): a frame's change counts where the previous or the next
compared frame, moved into its view by today's own motion, sees it too."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from detection.change.comparator import STATUS_OK, FrameResult
from detection.change.detector import ChangeDetector
from tests.detection.test_change_detector import flight, train_on_textured_world


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("change-ground")
    detector, world = train_on_textured_world(tmp_path)
    return detector, world, tmp_path


def blob_map(x: int, y: int, height: float, size=(120, 160)) -> np.ndarray:
    values = np.full(size, 1.0, np.float32)
    cv2.circle(values, (x, y), 2, float(height), -1)
    return values


def test_persistence_on_the_ground_drops_sparkle_that_moves_and_keeps_an_object_that_stays(trained, monkeypatch):
    """Each frame's change counts where the previous or the next compared frame, moved into its view by today's
    motion, sees it too. A spike that the next frame shows elsewhere (glint sparkle) is dropped, though the
    score-level filter would keep it (two frames in a row score high); an object at one place on the ground
    keeps its height while the drone moves over it. Without today's motion, the lower of the two scores."""
    detector, world, tmp_path = trained
    ground = ChangeDetector(replace(detector.config, persistence=2, ground_radius=8), detector.index,
                            detector.threshold, extra=dict(detector.extra))
    assert ground.config.on_ground
    step = np.array([[1.0, 0.0, -20.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # the ground moves 20 cells left a frame
    monkeypatch.setattr(ChangeDetector, "motion", lambda self, today, before: step)
    maps = [blob_map(40, 30, 50.0), blob_map(120, 90, 50.0),  # sparkle: here, then somewhere else
            blob_map(100, 60, 40.0), blob_map(80, 60, 40.0), blob_map(60, 62, 40.0)]  # an object, 2 cells of wobble
    results = [FrameResult(STATUS_OK, None, m, float(m.max()), 0, 1) for m in maps]
    today = flight(world, tmp_path, "today", seed=23)
    scores = ground.ground_scores(today.frames.frames[: len(maps)], results)
    assert scores[0] < 2 and scores[1] < 2  # the score-level filter: 50 and 50
    assert scores[2:] == pytest.approx([40.0] * 3)
    monkeypatch.setattr(ChangeDetector, "motion", lambda self, today, before: None)
    assert ground.ground_scores(today.frames.frames[: len(maps)], results) == pytest.approx([50, 50, 40, 40, 40])
