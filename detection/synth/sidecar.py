"""World pixels to the globe, and a flight's camera path to the telemetry a drone would record with it.

The world's centre sits at the area's origin (latitude, longitude); world x runs east and y south, at
`metres_per_px`. The camera's footprint gives its height: a nadir camera with horizontal field of view
`hfov` at `rel_alt` metres sees `2 * rel_alt * tan(hfov / 2)` metres across the frame. Yaw is the compass
direction of the frame's up (DJI's gimbal yaw), pitch -90 (straight down).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detection.synth.presets import AreaSettings
from detection.telemetry import GeoOrigin, PoseTable


@dataclass(frozen=True)
class AreaMap:
    """An area's placement on the globe: `settings` and the world's side in world pixels."""

    settings: AreaSettings
    world_size: int

    @property
    def origin(self) -> GeoOrigin:
        return GeoOrigin(*self.settings.origin)

    def latlon(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Latitude and longitude (degrees) of world points."""
        centre, scale = self.world_size / 2, self.settings.metres_per_px
        return self.origin.to_latlon((np.asarray(x) - centre) * scale, (centre - np.asarray(y)) * scale)

    def world(self, latitude, longitude) -> tuple[np.ndarray, np.ndarray]:
        """World (x, y) of points given in degrees: the inverse of `latlon`."""
        east, north = self.origin.to_metres(latitude, longitude)
        centre, scale = self.world_size / 2, self.settings.metres_per_px
        return centre + east / scale, centre - north / scale

    def altitude(self, gsd, frame_width: int) -> np.ndarray:
        """Height above take-off (m) of a camera seeing `gsd` world px per frame px across `frame_width` px."""
        across = np.asarray(gsd) * frame_width * self.settings.metres_per_px
        return across / (2 * np.tan(np.radians(self.settings.hfov_degrees) / 2))

    def gsd(self, rel_alt, frame_width: int) -> np.ndarray:
        """World px per frame px at `rel_alt` metres: the inverse of `altitude`."""
        across = 2 * np.asarray(rel_alt) * np.tan(np.radians(self.settings.hfov_degrees) / 2)
        return across / (frame_width * self.settings.metres_per_px)

    def poses(self, camera: np.ndarray, times: np.ndarray, frame_width: int) -> PoseTable:
        """The telemetry of camera poses (N, 4) of (x, y, heading, gsd) (detection.synth.camera) at `times`."""
        latitude, longitude = self.latlon(camera[:, 0], camera[:, 1])
        rel_alt = self.altitude(camera[:, 3], frame_width)
        # heading is the frame-up direction in world (x east, y south); compass yaw is clockwise from north.
        yaw = np.degrees(np.arctan2(np.cos(camera[:, 2]), -np.sin(camera[:, 2])))
        return PoseTable(times, latitude, longitude, rel_alt, rel_alt + self.settings.takeoff_abs_alt, yaw,
                         np.full(len(times), -90.0))

    def camera(self, poses: PoseTable, frame_width: int) -> np.ndarray:
        """Camera poses (N, 4) of (x, y, heading, gsd) from telemetry: the inverse of `poses`."""
        x, y = self.world(poses.latitude, poses.longitude)
        yaw = np.radians(poses.yaw)
        heading = np.arctan2(-np.cos(yaw), np.sin(yaw))
        return np.stack([x, y, heading, self.gsd(poses.rel_alt, frame_width)], axis=1)
