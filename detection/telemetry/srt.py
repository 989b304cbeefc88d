"""DJI `.SRT` flight-record sidecars: one subtitle block per video frame, with the pose in `[key: value]` pairs.

    1
    00:00:00,000 --> 00:00:00,033
    <font size="28">FrameCnt: 1, DiffTime: 33ms
    2026-06-01 10:00:00.000
    [iso: 100] [shutter: 1/500.0] [fnum: 2.8] [ev: 0] [focal_len: 24.00] [latitude: 59.334567] [longitude: 18.912345] [rel_alt: 60.000 abs_alt: 62.300] [gb_yaw: 91.2 gb_pitch: -90.0 gb_roll: 0.0] </font>

DJI models differ in which pairs they write and how they group them (`[rel_alt: x abs_alt: y]` in one bracket,
`longtitude` misspelt, `altitude` alone), so the reader takes every `key: value` inside brackets and picks the
ones it knows; the block's time is the subtitle start time.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from detection.errors import TelemetryError
from detection.telemetry.poses import PoseTable
from detection.telemetry.validate import check_poses, read_text

_TIME_LINE = re.compile(r"^\s*(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})\s*-->\s*\d+:\d{1,2}:\d{1,2}[,.]\d{1,3}\s*$")
_BRACKET = re.compile(r"\[([^\[\]]*)\]")
_PAIR = re.compile(r"([A-Za-z_]+)\s*:\s*([^\s\]]+)")
# Which bracket keys fill which column, in order of preference.
_KEYS = {
    "latitude": ("latitude", "lat"),
    "longitude": ("longitude", "longtitude", "lon"),
    "rel_alt": ("rel_alt", "altitude"),
    "abs_alt": ("abs_alt",),
    "yaw": ("gb_yaw", "yaw"),
    "pitch": ("gb_pitch", "pitch"),
}


def read_srt(path: Path | str) -> PoseTable:
    """The poses of a DJI `.SRT` sidecar; TelemetryError naming the first bad line if it is malformed."""
    path = Path(path)
    rows, lines = [], []
    for block in _blocks(read_text(path).splitlines()):
        time, line = _block_time(path, block)
        values = _block_values(path, block)
        for needed in ("latitude", "longitude"):
            if needed not in values:
                raise TelemetryError(path, line, f"no [{needed}: ...] in this frame's block")
        rows.append([time] + [values.get(name, np.nan) for name in _KEYS])
        lines.append(line)
    table = np.array(rows, dtype=np.float64).reshape(-1, 1 + len(_KEYS))
    check_poses(path, table[:, 0], table[:, 1], table[:, 2], lines)
    return PoseTable(*table.T)


def _blocks(text_lines: list[str]) -> list[list[tuple[int, str]]]:
    """Runs of non-blank lines, each line with its 1-based number."""
    blocks, current = [], []
    for number, text in enumerate(text_lines, start=1):
        if text.strip():
            current.append((number, text))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _block_time(path: Path, block: list[tuple[int, str]]) -> tuple[float, int]:
    """The block's start time in seconds and the number of its time line."""
    for number, text in block[:3]:
        match = _TIME_LINE.match(text)
        if match:
            hours, minutes, seconds, fraction = match.groups()
            return int(hours) * 3600 + int(minutes) * 60 + int(seconds) + int(fraction.ljust(3, "0")) / 1000, number
    raise TelemetryError(path, block[0][0], "expected a subtitle time line 'HH:MM:SS,mmm --> HH:MM:SS,mmm'")


def _block_values(path: Path, block: list[tuple[int, str]]) -> dict[str, float]:
    """The known `[key: value]` pairs of a block as numbers; a known key with a non-number is an error."""
    found: dict[str, tuple[str, int]] = {}
    for number, text in block:
        for bracket in _BRACKET.findall(text):
            for key, value in _PAIR.findall(bracket):
                found.setdefault(key.lower(), (value, number))
    values = {}
    for column, keys in _KEYS.items():
        key = next((k for k in keys if k in found), None)
        if key is None:
            continue
        text, number = found[key]
        try:
            values[column] = float(text)
        except ValueError:
            raise TelemetryError(path, number, f"[{key}: {text}] is not a number") from None
    return values


def write_srt(path: Path | str, poses: PoseTable, start_datetime: datetime) -> Path:
    """Write `poses` as a DJI `.SRT`, one block per pose, the wall clock `start_datetime` plus each pose's time.

    Each block lasts until the next pose (the last as long as the one before it); NaN values are left out.
    """
    if len(poses) == 0:
        raise ValueError("no poses to write")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ends = np.append(poses.time[1:], poses.time[-1] + (np.diff(poses.time)[-1] if len(poses) > 1 else 1 / 30))
    blocks = [_block(i, poses, float(end), start_datetime) for i, end in enumerate(ends)]
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def _block(index: int, poses: PoseTable, end: float, start_datetime: datetime) -> str:
    start = float(poses.time[index])
    clock = (start_datetime + timedelta(seconds=start)).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    pairs = ["[iso: 100] [shutter: 1/500.0] [fnum: 2.8] [ev: 0] [focal_len: 24.00]",
             f"[latitude: {poses.latitude[index]:.6f}] [longitude: {poses.longitude[index]:.6f}]"]
    altitudes = [f"{name}: {value:.3f}" for name, value in
                 (("rel_alt", poses.rel_alt[index]), ("abs_alt", poses.abs_alt[index])) if np.isfinite(value)]
    gimbal = [f"{name}: {value:.1f}" for name, value in
              (("gb_yaw", poses.yaw[index]), ("gb_pitch", poses.pitch[index])) if np.isfinite(value)]
    pairs += [f"[{' '.join(group)}]" for group in (altitudes, gimbal + (["gb_roll: 0.0"] if gimbal else [])) if group]
    return (f"{index + 1}\n{_clock(start)} --> {_clock(end)}\n"
            f'<font size="28">FrameCnt: {index + 1}, DiffTime: {round((end - start) * 1000)}ms\n'
            f"{clock}\n{' '.join(pairs)} </font>\n")


def _clock(seconds: float) -> str:
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d},{rest % 1000:03d}"
