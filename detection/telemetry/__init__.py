"""Drone telemetry: the per-frame pose of a video (position, heights, heading, gimbal pitch) from its sidecar.

`read_telemetry(path)` reads a DJI `.SRT`, a GPX track, a CSV log (`time,lat,lon,alt[,yaw]`) or a saved pose
table (`.npz`, `.json`) into one `PoseTable`, times in seconds from the video start; `write_srt` writes the
DJI format (the generator's `patrol` preset uses it). A malformed sidecar raises `TelemetryError` naming the
file and the first bad line. `GeoOrigin` maps latitude and longitude to local metres and back.
"""

from __future__ import annotations

from pathlib import Path

from detection.errors import TelemetryError
from detection.telemetry.csv_log import read_csv
from detection.telemetry.geo import GeoOrigin
from detection.telemetry.gpx import read_gpx
from detection.telemetry.poses import PoseTable
from detection.telemetry.srt import read_srt, write_srt

READERS = {".srt": read_srt, ".gpx": read_gpx, ".csv": read_csv, ".npz": PoseTable.load, ".json": PoseTable.load}

__all__ = ["GeoOrigin", "PoseTable", "TelemetryError", "read_csv", "read_gpx", "read_srt", "read_telemetry",
           "write_srt"]


def read_telemetry(path: Path | str) -> PoseTable:
    """The poses in a telemetry sidecar, the reader chosen by its extension (.srt, .gpx, .csv, .npz, .json)."""
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise TelemetryError(path, None, f"unknown telemetry format {path.suffix or '(no extension)'!r}; "
                                         f"expected one of {', '.join(sorted(READERS))}")
    if not path.is_file():
        raise TelemetryError(path, None, "file not found")
    return reader(path)
