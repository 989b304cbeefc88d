"""Latitude and longitude to local metres and back, around an origin: the flat-earth map a patrol needs.

An equirectangular projection about the origin: over the few kilometres of one area its error is centimetres,
far below a drone GPS's metres, and unlike a full geodesy library it needs nothing installed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)


@dataclass(frozen=True)
class GeoOrigin:
    """The point (degrees) where local east and north metres are zero."""

    latitude: float
    longitude: float

    def to_latlon(self, east, north) -> tuple[np.ndarray, np.ndarray]:
        """Latitude and longitude (degrees) of points `east`, `north` metres from the origin."""
        latitude = self.latitude + np.degrees(np.asarray(north, dtype=np.float64) / EARTH_RADIUS_M)
        scale = EARTH_RADIUS_M * np.cos(np.radians(self.latitude))
        longitude = self.longitude + np.degrees(np.asarray(east, dtype=np.float64) / scale)
        return latitude, longitude

    def to_metres(self, latitude, longitude) -> tuple[np.ndarray, np.ndarray]:
        """East and north metres from the origin of points given in degrees: the inverse of `to_latlon`."""
        north = np.radians(np.asarray(latitude, dtype=np.float64) - self.latitude) * EARTH_RADIUS_M
        scale = EARTH_RADIUS_M * np.cos(np.radians(self.latitude))
        east = np.radians(np.asarray(longitude, dtype=np.float64) - self.longitude) * scale
        return east, north
