"""What every telemetry reader checks the same way: a readable text file, at least one pose, times that go
forward, coordinates on the globe. Each problem names the line it was found on."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from detection.errors import TelemetryError


def read_text(path: Path) -> str:
    """The file's text (UTF-8, a byte-order mark allowed); TelemetryError if it is missing or not text."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TelemetryError(path, None, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TelemetryError(path, None, f"cannot read the file as text: {exc}") from exc


def check_poses(path: Path, time: np.ndarray, latitude: np.ndarray, longitude: np.ndarray, lines: list[int]) -> None:
    """Raise TelemetryError at the first pose out of order or off the globe; `lines[i]` is pose i's line."""
    if len(time) == 0:
        raise TelemetryError(path, 1, "no poses in the file (empty, or no frame blocks or points)")
    for name, values in (("time", time), ("latitude", latitude), ("longitude", longitude)):
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            raise TelemetryError(path, lines[bad[0]], f"{name} is not a finite number")
    backwards = np.flatnonzero(np.diff(time) <= 0)
    if len(backwards):
        i = backwards[0] + 1
        raise TelemetryError(path, lines[i], f"time {time[i]:.3f} s does not come after the previous "
                                             f"{time[i - 1]:.3f} s (times must increase)")
    off = np.flatnonzero((np.abs(latitude) > 90) | (np.abs(longitude) > 180))
    if len(off):
        i = off[0]
        raise TelemetryError(path, lines[i], f"latitude {latitude[i]} / longitude {longitude[i]} is off the globe")
