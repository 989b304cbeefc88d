"""Plain CSV flight logs: a header `time,lat,lon,alt` and optionally `yaw`, `pitch`, `abs_alt` columns.

`time` is seconds from the video start, `alt` metres above take-off (`rel_alt`), `yaw` degrees clockwise from
north. Columns may come in any order; other columns are ignored.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from detection.errors import TelemetryError
from detection.telemetry.poses import PoseTable
from detection.telemetry.validate import check_poses, read_text

REQUIRED = ("time", "lat", "lon", "alt")
OPTIONAL = ("yaw", "pitch", "abs_alt")


def read_csv(path: Path | str) -> PoseTable:
    """The poses of a CSV log; TelemetryError naming the first bad line."""
    path = Path(path)
    rows = list(csv.reader(read_text(path).splitlines()))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise TelemetryError(path, 1, f"empty file; expected the header {','.join(REQUIRED)}[,yaw]")
    header = [cell.strip().lower() for cell in rows[0]]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise TelemetryError(path, 1, f"missing column(s) {', '.join(missing)}; the header must start "
                                      f"{','.join(REQUIRED)}")
    columns = {name: header.index(name) for name in REQUIRED + OPTIONAL if name in header}
    values, lines = [], []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise TelemetryError(path, line, f"{len(row)} values for {len(header)} columns")
        values.append([_cell(path, line, name, row[i]) for name, i in columns.items()])
        lines.append(line)
    table = dict(zip(columns, np.array(values, dtype=np.float64).reshape(-1, len(columns)).T))
    check_poses(path, table["time"], table["lat"], table["lon"], lines)
    return PoseTable.from_columns(table["time"], table["lat"], table["lon"], rel_alt=table["alt"],
                                  abs_alt=table.get("abs_alt"), yaw=table.get("yaw"), pitch=table.get("pitch"))


def _cell(path: Path, line: int, name: str, text: str) -> float:
    text = text.strip()
    if not text and name in OPTIONAL:
        return np.nan
    try:
        return float(text)
    except ValueError:
        raise TelemetryError(path, line, f"{name} {text!r} is not a number") from None
