"""The per-frame pose table every telemetry reader returns: where the drone was, how high, and where it looked.

Times are seconds from the start of the video, so a pose lines up with a sampled frame by its time alone.
Angles are degrees: `yaw` clockwise from north (-180..180, as DJI writes it), `pitch` of the gimbal (-90 looks
straight down). Heights are metres: `rel_alt` above the take-off point, `abs_alt` above sea level. A value a
source does not record is NaN.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

FORMAT = "skerry-poses"
FORMAT_VERSION = 1
COLUMNS = ("time", "latitude", "longitude", "rel_alt", "abs_alt", "yaw", "pitch")


@dataclass(frozen=True, eq=False)
class PoseTable:
    """N poses, each column an (N,) float64 array; `time` strictly increasing seconds from the video start."""

    time: np.ndarray
    latitude: np.ndarray
    longitude: np.ndarray
    rel_alt: np.ndarray
    abs_alt: np.ndarray
    yaw: np.ndarray
    pitch: np.ndarray

    def __post_init__(self):
        for column in fields(self):
            object.__setattr__(self, column.name, np.asarray(getattr(self, column.name), dtype=np.float64))
        lengths = {getattr(self, name).shape for name in COLUMNS}
        if len(lengths) != 1 or len(next(iter(lengths))) != 1:
            raise ValueError(f"every pose column must be 1-D and of one length, got shapes {sorted(lengths)}")
        if len(self.time) and not (np.all(np.isfinite(self.time)) and np.all(np.diff(self.time) > 0)):
            raise ValueError("pose times must be finite and strictly increasing")

    @classmethod
    def from_columns(cls, time, latitude, longitude, *, rel_alt=None, abs_alt=None, yaw=None,
                     pitch=None) -> PoseTable:
        """A table from the columns a source has; the ones left out are NaN."""
        count = len(time)
        missing = np.full(count, np.nan)
        return cls(time, latitude, longitude, *(missing if c is None else c for c in (rel_alt, abs_alt, yaw, pitch)))

    def __len__(self) -> int:
        return len(self.time)

    def at(self, times) -> PoseTable:
        """The poses at `times` (a number or an increasing array), linearly interpolated; clamped to the first
        and last pose.

        Yaw is interpolated on the circle (through its sine and cosine), so 179 and -179 average to 180, not 0.
        """
        if len(self) == 0:
            raise ValueError("an empty pose table has no pose at any time")
        times = np.atleast_1d(np.asarray(times, dtype=np.float64))
        inside = np.clip(times, self.time[0], self.time[-1])

        def interpolate(values):
            return np.interp(inside, self.time, values)

        radians = np.radians(self.yaw)
        yaw = np.degrees(np.arctan2(interpolate(np.sin(radians)), interpolate(np.cos(radians))))
        return PoseTable(times, interpolate(self.latitude), interpolate(self.longitude), interpolate(self.rel_alt),
                         interpolate(self.abs_alt), yaw, interpolate(self.pitch))

    def save(self, path: Path | str) -> Path:
        """Write to `.npz` (arrays) or `.json` (one list per column, null for NaN), chosen by the extension."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        columns = {name: getattr(self, name) for name in COLUMNS}
        if path.suffix.lower() == ".npz":
            with path.open("wb") as handle:  # a file handle: np.savez would add a second .npz to the name
                np.savez_compressed(handle, format=FORMAT, version=FORMAT_VERSION, **columns)
        elif path.suffix.lower() == ".json":
            lists = {name: [None if np.isnan(v) else float(v) for v in values] for name, values in columns.items()}
            path.write_text(json.dumps({"format": FORMAT, "version": FORMAT_VERSION, "columns": lists}) + "\n")
        else:
            raise ValueError(f"cannot save poses as {path.suffix!r}: use .npz or .json")
        return path

    @classmethod
    def load(cls, path: Path | str) -> PoseTable:
        """Read a table written by `save`."""
        from detection.errors import TelemetryError

        path = Path(path)
        try:
            if path.suffix.lower() == ".npz":
                with np.load(path, allow_pickle=False) as data:
                    _check_format(str(data["format"]), int(data["version"]))
                    return cls(*(data[name] for name in COLUMNS))
            document = json.loads(path.read_text(encoding="utf-8"))
            _check_format(document.get("format"), document.get("version"))
            columns = document["columns"]
            return cls(*(np.array([np.nan if v is None else v for v in columns[name]], dtype=np.float64)
                         for name in COLUMNS))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise TelemetryError(path, None, f"not a saved pose table: {exc}") from exc


def _check_format(name, version) -> None:
    if name != FORMAT or version != FORMAT_VERSION:
        raise ValueError(f"format {name!r} version {version!r}, expected {FORMAT!r} version {FORMAT_VERSION}")
