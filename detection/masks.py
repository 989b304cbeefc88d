"""Masks: polygons where changes are never of interest (a marina, a road, a waterfall), in the frame or on the ground.

A frame polygon is a list of (x, y) points in fractions of the frame's width and height (0..1), the coordinates events'
peaks use (`DetectedEvent.peak_x/peak_y`), so one mask fits every frame size a detector samples at. Applied to a
video's scores (`apply_masks`) and to events re-derived at a new threshold (`drop_masked`): an event whose
heatmap peak lies in a mask is dropped, so a masked region never produces an event. Frame scores and heatmaps
are left as the detector computed them: how a frame score follows from its map is the detector's own business
(a CAE's top-k mean, CHANGE's smoothed peak, MIL has no map), and a zeroed map would move a masked event's peak
out of the mask when events are re-derived from the stored scores.

A ground polygon is a list of (latitude, longitude) points: drawn once, it stays on the same place of the ground
whatever the heading, height or offset of a later flight. For a flight with telemetry (`GroundMasks`) it is
projected into each frame through that frame's pose (`detection.mapping.camera`) and then tested like a frame
polygon; a flight without telemetry has no pose to project with, so only the frame polygons apply to it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from detection.types import VideoScores

MAX_POINTS = 200
SHARE_GRID = 200  # the share of the frame a mask covers is measured on a grid this many cells wide and high
FRAME_SHARE_GRID = 48  # the same, per frame of a flight (ground masks cover each frame differently)
MAX_POSE_GAP = 2.0  # seconds: a frame this far outside the telemetry's time span has no pose to project with

Polygon = list[tuple[float, float]]
GroundPolygon = list[tuple[float, float]]  # (latitude, longitude) degrees


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


def check_ground_polygon(points) -> GroundPolygon:
    """The points as [(latitude, longitude), ...] floats; a MaskError naming the problem otherwise."""
    if not isinstance(points, (list, tuple)):
        raise MaskError("a ground mask is a list of [latitude, longitude] points")
    if not 3 <= len(points) <= MAX_POINTS:
        raise MaskError(f"a mask needs 3 to {MAX_POINTS} points, not {len(points)}")
    polygon = []
    for number, point in enumerate(points, start=1):
        if not isinstance(point, (list, tuple)) or len(point) != 2:
            raise MaskError(f"point {number} is not a [latitude, longitude] pair")
        try:
            latitude, longitude = float(point[0]), float(point[1])
        except (TypeError, ValueError):
            raise MaskError(f"point {number} is not a pair of numbers") from None
        if not (np.isfinite(latitude) and np.isfinite(longitude) and abs(latitude) <= 90 and abs(longitude) <= 180):
            raise MaskError(f"point {number} is not a place on Earth: latitude -90 to 90, longitude -180 to 180")
        polygon.append((latitude, longitude))
    if polygon_area(ground_metres(polygon)) < 1.0:
        raise MaskError("the mask's points enclose no area on the ground (less than a square metre)")
    return polygon


def ground_metres(polygon: GroundPolygon) -> Polygon:
    """The polygon in metres east and north of its first point (flat Earth: exact enough over an area)."""
    from detection.telemetry import GeoOrigin

    latitude, longitude = np.asarray(polygon, dtype=np.float64).T
    east, north = GeoOrigin(float(latitude[0]), float(longitude[0])).to_metres(latitude, longitude)
    return list(zip(np.asarray(east).tolist(), np.asarray(north).tolist()))


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


@dataclass(frozen=True)
class GroundMasks:
    """Ground polygons and one flight's telemetry (a PoseTable) and camera (`detection.mapping.camera`): what
    projects the polygons into each of the flight's frames."""

    polygons: tuple[GroundPolygon, ...]
    poses: object  # detection.telemetry.PoseTable
    camera: object  # detection.mapping.camera.CameraModel

    def in_frame(self, time: float) -> list[Polygon]:
        """The polygons as the frame at `time` (seconds) sees them, in fractions of its width and height (they
        may reach beyond 0..1); none when the frame has no pose, and without a polygon that has a corner
        behind the camera (an oblique view: see `covers`)."""
        from detection.mapping.camera import frame_points

        if not self.polygons or not self.has_pose(time):
            return []
        pose = self.poses.at([time])
        seen = []
        for polygon in self.polygons:
            latitude, longitude = np.asarray(polygon, dtype=np.float64).T
            xs, ys = frame_points(pose, latitude, longitude, self.camera)
            if np.all(np.isfinite(xs)) and np.all(np.isfinite(ys)):
                seen.append(list(zip(xs.tolist(), ys.tolist())))
        return seen

    def has_pose(self, time: float) -> bool:
        times = self.poses.time
        return len(times) > 0 and times[0] - MAX_POSE_GAP <= time <= times[-1] + MAX_POSE_GAP

    def covers(self, x: float | None, y: float | None, time: float) -> bool:
        """Whether frame point (`x`, `y`) at `time` lies in a polygon: projected into the frame; a polygon that
        does not project (a corner behind the camera) is tested on the ground, where the point is seen."""
        if x is None or y is None or not self.polygons or not self.has_pose(time):
            return False
        seen = self.in_frame(time)
        if in_masks(x, y, seen):
            return True
        if len(seen) == len(self.polygons):
            return False
        from detection.mapping.camera import ground_latlon

        latitude, longitude = ground_latlon(self.poses.at([time]), x, y, self.camera)
        return any(bool(inside(longitude, latitude, [(lon, lat) for lat, lon in polygon])[0])
                   for polygon in self.polygons)


def drop_masked(events, polygons: Sequence[Polygon], ground: GroundMasks | None = None) -> tuple:
    """The events whose peak lies in no mask: no frame polygon, and no ground polygon as the peak's frame sees
    it. An event without a peak position (MIL: no map) is kept: nothing says where in the frame it is."""
    return tuple(e for e in events if not in_masks(e.peak_x, e.peak_y, polygons)
                 and not (ground is not None and ground.covers(e.peak_x, e.peak_y, e.peak_time)))


def apply_masks(scores: VideoScores, polygons: Sequence[Polygon],
                ground: GroundMasks | None = None) -> tuple[VideoScores, int]:
    """(the scores without the events peaking in a mask, how many were dropped). Heatmaps stay as they were:
    events re-derived later from the stored scores (a new threshold) find their true peaks in them, and are
    masked again (`drop_masked`)."""
    if not polygons and (ground is None or not ground.polygons):
        return scores, 0
    kept = drop_masked(scores.events, polygons, ground)
    return dataclasses.replace(scores, events=kept), len(scores.events) - len(kept)


def frame_shares(times, polygons: Sequence[Polygon], ground: GroundMasks | None = None) -> np.ndarray:
    """(N,) the share (0..1) of each frame at `times` that the masks cover: the frame polygons, plus the ground
    polygons as each frame sees them."""
    times = np.asarray(times, dtype=np.float64)
    fixed = mask_grid(polygons, FRAME_SHARE_GRID, FRAME_SHARE_GRID) if polygons else None
    shares = np.zeros(len(times))
    for i, time in enumerate(times):
        seen = [] if ground is None else ground.in_frame(float(time))
        covered = mask_grid(seen, FRAME_SHARE_GRID, FRAME_SHARE_GRID) if seen else None
        if fixed is not None:
            covered = fixed if covered is None else covered | fixed
        shares[i] = 0.0 if covered is None else float(covered.mean())
    return shares
