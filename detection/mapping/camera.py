"""Where a frame point lies on the ground: a ray from the drone's camera through the point, met with flat ground.

The camera is a pinhole with horizontal field of view `hfov_degrees`, square pixels and the principal point at
the frame centre. Its pose comes from telemetry (`detection.telemetry.PoseTable`): the position, `rel_alt`
metres above the take-off point (the ground is taken to be level with it: water and low islands), `yaw` the
compass direction of the camera (for a nadir camera: of the frame's up) and gimbal `pitch` (-90 straight down;
NaN is taken as -90, the patrol default). Points are fractions of the frame width and height (0..1, as the
events' `peak_x`/`peak_y`), so the frame's pixel size does not matter, only its aspect ratio.

Ground offsets are metres east and north of the point under the drone; `ground_latlon` adds them to the
drone's latitude and longitude (the flat-earth map of `GeoOrigin` around it: centimetres over a footprint).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detection.telemetry import PoseTable
from detection.telemetry.geo import EARTH_RADIUS_M

DEFAULT_HFOV_DEGREES = 82.1  # a DJI 24 mm-equivalent lens, the generator's patrol camera
MAX_REACH = 20.0  # a ray meeting the ground further than this many heights away (near the horizon): no position
MAX_POSE_GAP = 2.0  # seconds: a peak this far outside the telemetry's time span has no pose to be seen from


@dataclass(frozen=True)
class CameraModel:
    """The camera's optics: horizontal field of view (degrees) and the frame's height / width."""

    hfov_degrees: float = DEFAULT_HFOV_DEGREES
    aspect: float = 9 / 16

    def __post_init__(self):
        if not 1.0 <= self.hfov_degrees < 179.0:
            raise ValueError(f"the horizontal field of view must be between 1 and 179 degrees, got {self.hfov_degrees}")
        if not 0 < self.aspect <= 10:
            raise ValueError(f"the frame aspect (height / width) must be positive, got {self.aspect}")

    @classmethod
    def for_frame(cls, width: int, height: int, hfov_degrees: float = DEFAULT_HFOV_DEGREES) -> CameraModel:
        if width <= 0 or height <= 0:
            raise ValueError(f"a frame size must be positive, got {width}x{height}")
        return cls(hfov_degrees=float(hfov_degrees), aspect=height / width)

    @property
    def half_width_tan(self) -> float:
        return float(np.tan(np.radians(self.hfov_degrees) / 2))


def ground_offsets(poses: PoseTable, x, y, camera: CameraModel) -> tuple[np.ndarray, np.ndarray]:
    """East and north metres from the point under the drone to where frame point (`x`, `y`) (fractions of the
    width and height, broadcast against the N poses) meets the ground; NaN where the pose lacks a height or a
    yaw, or the ray does not come down to the ground."""
    return _offsets(poses.yaw, poses.pitch, poses.rel_alt, x, y, camera)


def _axes(yaw, pitch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The camera's optical axis, the frame's right and the frame's up, each (3, N) east-north-up unit vectors."""
    yaw = np.radians(np.asarray(yaw, np.float64))
    pitch = np.radians(np.where(np.isnan(pitch), -90.0, pitch))
    ahead = np.stack([np.sin(yaw), np.cos(yaw), np.zeros_like(yaw)])  # (3, N) horizontal, towards the yaw
    right = np.stack([np.cos(yaw), -np.sin(yaw), np.zeros_like(yaw)])
    up = np.array([0.0, 0.0, 1.0]).reshape((3,) + (1,) * yaw.ndim)
    forward = np.cos(pitch) * ahead + np.sin(pitch) * up  # the optical axis
    frame_up = -np.sin(pitch) * ahead + np.cos(pitch) * up  # the frame's up direction in the world
    return forward, right, frame_up


def _offsets(yaw, pitch, rel_alt, x, y, camera: CameraModel) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(y, np.float64))
    forward, right, frame_up = _axes(yaw, pitch)
    right_component = (x - 0.5) * 2 * camera.half_width_tan
    down_component = (y - 0.5) * 2 * camera.half_width_tan * camera.aspect
    ray = forward + right_component * right - down_component * frame_up  # (3, N), east-north-up
    descent = -ray[2]
    usable = (descent > 0) & (np.hypot(ray[0], ray[1]) <= MAX_REACH * descent)
    reach = np.where(usable, rel_alt / np.where(usable, descent, 1.0), np.nan)
    return reach * ray[0], reach * ray[1]


def ground_latlon(poses: PoseTable, x, y, camera: CameraModel) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude (degrees) of frame points (`x`, `y`) seen from `poses` (see `ground_offsets`)."""
    east, north = ground_offsets(poses, x, y, camera)
    return _add_metres(poses.latitude, poses.longitude, east, north)


def locate(poses: PoseTable, times, x, y, camera: CameraModel) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude of frame point (`x[i]`, `y[i]`) seen at `times[i]` (seconds, any order, repeats
    allowed), the pose interpolated in the flight's telemetry (`PoseTable.at`)."""
    times = np.asarray(times, np.float64)
    if len(times) == 0:
        return np.zeros(0), np.zeros(0)
    unique, back = np.unique(times, return_inverse=True)
    at = poses.at(unique)
    east, north = _offsets(at.yaw[back], at.pitch[back], at.rel_alt[back], x, y, camera)
    return _add_metres(at.latitude[back], at.longitude[back], east, north)


def locate_peaks(poses: PoseTable, times, peak_x, peak_y, camera: CameraModel, *,
                 max_pose_gap: float = MAX_POSE_GAP) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude of events' markers: each event's heatmap peak (`peak_x[i]`, `peak_y[i]`, fractions
    of the frame; None for a detector that gives no peak, as MIL: the centre of the view, within half a
    footprint of where it is) seen from the pose at its peak time `times[i]`. NaN where the time lies more than
    `max_pose_gap` seconds outside the telemetry (no pose to see it from). The web app places events with this,
    and `bench/map.py` measures it."""
    times = np.asarray(times, np.float64)
    x = np.array([0.5 if v is None else v for v in peak_x], np.float64)
    y = np.array([0.5 if v is None else v for v in peak_y], np.float64)
    if len(times) == 0 or len(poses) == 0:
        return np.full(len(times), np.nan), np.full(len(times), np.nan)
    latitude, longitude = locate(poses, times, x, y, camera)
    covered = (times >= poses.time[0] - max_pose_gap) & (times <= poses.time[-1] + max_pose_gap)
    return np.where(covered, latitude, np.nan), np.where(covered, longitude, np.nan)


def frame_points(poses: PoseTable, latitude, longitude, camera: CameraModel) -> tuple[np.ndarray, np.ndarray]:
    """Where ground points (`latitude`, `longitude`, broadcast against the N poses) are seen in the frame from
    `poses`: (x, y) fractions of the width and height (outside 0..1 when out of view), the inverse of
    `ground_latlon`; NaN where the pose lacks a height or a yaw, or the point lies behind the camera."""
    latitude, longitude = np.broadcast_arrays(np.asarray(latitude, np.float64), np.asarray(longitude, np.float64))
    north = np.radians(latitude - poses.latitude) * EARTH_RADIUS_M
    east = np.radians(longitude - poses.longitude) * EARTH_RADIUS_M * np.cos(np.radians(poses.latitude))
    forward, right, frame_up = _axes(poses.yaw, poses.pitch)
    towards = np.stack(np.broadcast_arrays(east, north, -np.asarray(poses.rel_alt, np.float64)))  # (3, N)
    depth = (towards * forward).sum(axis=0)
    ahead = depth > 0
    depth = np.where(ahead, depth, np.nan)
    x = 0.5 + (towards * right).sum(axis=0) / depth / (2 * camera.half_width_tan)
    y = 0.5 - (towards * frame_up).sum(axis=0) / depth / (2 * camera.half_width_tan * camera.aspect)
    return x, y


def _add_metres(latitude, longitude, east, north) -> tuple[np.ndarray, np.ndarray]:
    # Each pose is its own origin (GeoOrigin's map, vectorised over the poses): exact around the drone.
    moved_latitude = latitude + np.degrees(north / EARTH_RADIUS_M)
    moved_longitude = longitude + np.degrees(east / (EARTH_RADIUS_M * np.cos(np.radians(latitude))))
    return moved_latitude, moved_longitude
