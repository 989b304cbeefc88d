"""Tiny frames for the CAE tests: the panning scene of tests.support.videos, with an optional white box."""

import numpy as np
import pytest

from detection.device import cpu_threads
from tests.support.videos import scene_frame


def scene(count: int, *, size: int = 32, offset: int = 0, box_from: int | None = None, box=(10, 8, 8)) -> np.ndarray:
    """(count, size, size, 3) uint8 frames; from index `box_from` on, a white box (x, y, side)."""
    return np.stack(
        [
            scene_frame(offset + i, size, size, box if box_from is not None and i >= box_from else None)
            for i in range(count)
        ]
    )


@pytest.fixture
def one_thread():
    """One intra-op thread: on a busy shared CPU, OpenMP's spinning threads make training 10x slower."""
    with cpu_threads(1):
        yield
