"""Masks: polygons of the frame where changes are never of interest (a marina, a road, a waterfall).

A polygon is a list of (x, y) points in fractions of the frame's width and height (0..1), the coordinates events'
peaks use (`DetectedEvent.peak_x/peak_y`), so one mask fits every frame size a detector samples at. Applied to a
video's scores (`apply_masks`) and to events re-derived at a new threshold (`drop_masked`): an event whose
heatmap peak lies in a mask is dropped, so a masked region never produces an event. Frame scores and heatmaps
are left as the detector computed them: how a frame score follows from its map is the detector's own business
(a CAE's top-k mean, CHANGE's smoothed peak, MIL has no map), and a zeroed map would move a masked event's peak
out of the mask when events are re-derived from the stored scores.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from detection.types import VideoScores

MAX_POINTS = 200
SHARE_GRID = 200  # the share of the frame a mask covers is measured on a grid this many cells wide and high

Polygon = list[tuple[float, float]]


class MaskError(ValueError):
    """A polygon that cannot be a mask, with the reason in words."""


def check_polygon(points) -> Polygon:
    """The points as [(x, y), ...] floats in 0..1; a MaskError naming the problem otherwise."""
    if not isinstance(points, (list, tuple)):
        raise MaskError("a mask is a list of [x, y] points")
    if not 3 <= len(points) <= MAX_POINTS:
        raise MaskError(f"a mask needs 3 to {MAX_POINTS} points, not {len(points)}")
    polygon = []
    for number, point in enumerate(points, start=1):
        if not isinstance(point, (list, tuple)) or len(point) != 2:
            raise MaskError(f"point {number} is not an [x, y] pair")
        try:
            x, y = float(point[0]), float(point[1])
        except (TypeError, ValueError):
            raise MaskError(f"point {number} is not a pair of numbers") from None
        if not (np.isfinite(x) and np.isfinite(y) and 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise MaskError(f"point {number} lies outside the frame: x and y are fractions of its size, 0 to 1")
        polygon.append((x, y))
    if polygon_area(polygon) < 1e-6:
        raise MaskError("the mask's points enclose no area")
    return polygon


def polygon_area(polygon: Polygon) -> float:
    xs, ys = np.asarray(polygon, dtype=np.float64).T
    return float(abs(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))) / 2)


def inside(xs: np.ndarray, ys: np.ndarray, polygon: Polygon) -> np.ndarray:
    """Boolean array: which points (xs, ys, same shape) lie inside the polygon (even-odd rule)."""
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    result = np.zeros(xs.shape, dtype=bool)
    count = len(polygon)
    for i in range(count):
        (x1, y1), (x2, y2) = polygon[i], polygon[(i - 1) % count]
        crosses = (y1 > ys) != (y2 > ys)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = (x2 - x1) * (ys - y1) / (y2 - y1) + x1
        result ^= crosses & (xs < at)
    return result


def mask_grid(polygons: Sequence[Polygon], width: int, height: int) -> np.ndarray:
    """(height, width) bool: the cells whose centres lie in any mask."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    xs, ys = (xs + 0.5) / width, (ys + 0.5) / height
    covered = np.zeros((height, width), dtype=bool)
    for polygon in polygons:
        covered |= inside(xs, ys, polygon)
    return covered


def masked_share(polygons: Sequence[Polygon]) -> float:
    """The share (0..1) of every frame that the masks cover."""
    if not polygons:
        return 0.0
    return float(mask_grid(polygons, SHARE_GRID, SHARE_GRID).mean())


def in_masks(x: float | None, y: float | None, polygons: Sequence[Polygon]) -> bool:
    if x is None or y is None:
        return False
    return any(bool(inside(np.array([x]), np.array([y]), polygon)[0]) for polygon in polygons)


def drop_masked(events, polygons: Sequence[Polygon]) -> tuple:
    """The events whose peak lies in no mask. An event without a peak position (MIL: no map) is kept: nothing
    says where in the frame it is."""
    return tuple(e for e in events if not in_masks(e.peak_x, e.peak_y, polygons))


def apply_masks(scores: VideoScores, polygons: Sequence[Polygon]) -> tuple[VideoScores, int]:
    """(the scores without the events peaking in a mask, how many were dropped). Heatmaps stay as they were:
    events re-derived later from the stored scores (a new threshold) find their true peaks in them, and are
    masked again (`drop_masked`)."""
    if not polygons:
        return scores, 0
    kept = drop_masked(scores.events, polygons)
    return dataclasses.replace(scores, events=kept), len(scores.events) - len(kept)
