"""GPX tracks: every `<trkpt lat lon>` with its `<ele>` (metres above sea level, as `abs_alt`) and `<time>`.

Times are made relative to the first point, which is taken to be the start of the video; GPX has no height
above take-off, heading or gimbal pitch, so those columns are NaN. Parsed with expat, which knows each
element's line, so that a bad point is reported where it is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from xml.parsers import expat

import numpy as np

from detection.errors import TelemetryError
from detection.telemetry.poses import PoseTable
from detection.telemetry.validate import check_poses, read_text


class _TrackReader:
    """expat handlers collecting (line, latitude, longitude, elevation, datetime) per track point."""

    def __init__(self, path: Path, parser):
        self.path, self.parser = path, parser
        self.points: list[tuple[int, float, float, float, datetime]] = []
        self.point: dict | None = None
        self.text: list[str] | None = None

    def start(self, name: str, attributes: dict) -> None:
        local = name.rsplit(":", 1)[-1]
        line = self.parser.CurrentLineNumber
        if local == "trkpt":
            try:
                latitude, longitude = float(attributes["lat"]), float(attributes["lon"])
            except (KeyError, ValueError):
                raise TelemetryError(self.path, line, "a <trkpt> needs numeric lat and lon attributes") from None
            self.point = {"line": line, "lat": latitude, "lon": longitude, "ele": np.nan, "time": None}
        elif local in ("ele", "time") and self.point is not None:
            self.text = []

    def characters(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def end(self, name: str) -> None:
        local = name.rsplit(":", 1)[-1]
        line = self.parser.CurrentLineNumber
        if local in ("ele", "time") and self.point is not None and self.text is not None:
            value, self.text = "".join(self.text).strip(), None
            self.point[local] = _number(self.path, line, value) if local == "ele" else _moment(self.path, line, value)
        elif local == "trkpt" and self.point is not None:
            point, self.point = self.point, None
            if point["time"] is None:
                raise TelemetryError(self.path, point["line"], "a <trkpt> without a <time>")
            self.points.append((point["line"], point["lat"], point["lon"], point["ele"], point["time"]))


def _number(path: Path, line: int, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise TelemetryError(path, line, f"<ele> {text!r} is not a number") from None


def _moment(path: Path, line: int, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise TelemetryError(path, line, f"<time> {text!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_gpx(path: Path | str) -> PoseTable:
    """The track points of a GPX file as poses, times in seconds from the first point."""
    path = Path(path)
    parser = expat.ParserCreate()
    reader = _TrackReader(path, parser)
    parser.StartElementHandler, parser.EndElementHandler = reader.start, reader.end
    parser.CharacterDataHandler = reader.characters
    try:
        parser.Parse(read_text(path), True)
    except expat.ExpatError as exc:
        raise TelemetryError(path, exc.lineno, f"not well-formed XML: {expat.ErrorString(exc.code)}") from None
    points = reader.points
    lines = [p[0] for p in points]
    first = points[0][4] if points else None
    time = np.array([(p[4] - first).total_seconds() for p in points], dtype=np.float64)
    latitude, longitude = np.array([p[1] for p in points]), np.array([p[2] for p in points])
    check_poses(path, time, latitude, longitude, lines)
    return PoseTable.from_columns(time, latitude, longitude, abs_alt=np.array([p[3] for p in points]))
