"""A tiny known flight for the web app and pipeline tests: five poses over 2 s, written as a DJI .SRT."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np

from detection.telemetry import PoseTable, write_srt

# Line 5 is the first frame's pose line: its latitude is not a number.
MALFORMED_SRT = ("1\n00:00:00,000 --> 00:00:00,500\n<font size=\"28\">FrameCnt: 1, DiffTime: 500ms\n"
                 "2026-06-01 10:00:00.000\n[latitude: 59.3x] [longitude: 18.9] [rel_alt: 60.0 abs_alt: 62.5] </font>\n")


def flight_poses() -> PoseTable:
    """Every 0.5 s from 0 to 2 s: 0.001° north and 0.002° east per step, 1 m higher, heading -10° to 10°."""
    step = np.arange(5)
    return PoseTable(step * 0.5, 59.3 + 0.001 * step, 18.9 + 0.002 * step, 60.0 + step, 62.5 + step,
                     np.array([-10.0, -5.0, 0.0, 5.0, 10.0]), np.full(5, -90.0))


def write_flight_srt(path: Path) -> Path:
    return write_srt(path, flight_poses(), datetime(2026, 6, 1, 10, 0, 0))
