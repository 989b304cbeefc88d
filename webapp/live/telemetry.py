"""Telemetry a ground station sends while the drone flies: checked, stored, read by the live worker, and at the
end written as the recording's sidecar.

A batch is `{"poses": [{"time" or "timestamp", "latitude", "longitude", "rel_alt", "abs_alt", "yaw",
"pitch"}, ...]}`. `time` is video seconds (since the recording's first frame: the time base of sidecars and of
live frame times); `timestamp` is Unix seconds, for a station that knows only its own clock. A stream keeps the
base its first batch used. Unix rows are stored as sent and turned into video seconds when read, with the
stream's `clock` (the worker's record of when frames were decoded), so rows may arrive before the first frame.

Rows are `LivePose` rows, not a file beside the segments: a batch is checked against the rows before it and
stored whole or not at all under a lock on the stream's row, which any web process and the worker share
without file locking, and the worker reads only the rows newer than the last one it read.
"""

from __future__ import annotations

import math
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from django.db import transaction

from detection.telemetry import PoseTable, write_srt
from webapp.live.models import LivePose, LiveStream, PoseClock

VALUES = ("latitude", "longitude", "rel_alt", "abs_alt", "yaw", "pitch")  # LivePose's columns after `at`
REQUIRED = ("latitude", "longitude")
HEIGHTS = (-1000.0, 20000.0)
RANGES = {"latitude": (-90.0, 90.0), "longitude": (-180.0, 180.0), "rel_alt": HEIGHTS, "abs_alt": HEIGHTS,
          "yaw": (-360.0, 360.0), "pitch": (-90.0, 90.0)}
MAX_VIDEO_SECONDS = 86400.0  # a `time` beyond a day of video is a Unix time in the wrong key
UNIX_FROM = 946684800.0  # 2000-01-01: a smaller `timestamp` is video seconds in the wrong key
BATCH_MAX = 5000
STREAM_MAX = 100_000  # about 2.8 hours at 10 Hz; the sidecar written at the end stays under TELEMETRY_MAX_BYTES
EARLIEST = -1.0  # video seconds: rows from before the first frame are kept this far back (to interpolate at 0)
KEYS_HINT = "time or timestamp, latitude, longitude, and optionally rel_alt, abs_alt, yaw, pitch"


class PoseRowError(ValueError):
    """A batch refused: `row` (1-based, None for the batch as a whole) and what is wrong with it."""

    def __init__(self, row: int | None, message: str):
        super().__init__(message if row is None else f"row {row}: {message}")
        self.row = row


class StreamClosed(Exception):
    """The stream no longer takes telemetry (finishing, ended or failed)."""


# --- receiving ---------------------------------------------------------------------------------------------


def receive_poses(stream_id: int, body) -> dict:
    """Check a batch and store it whole, or store nothing: PoseRowError (the first bad row), StreamClosed."""
    rows = body.get("poses") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not rows:
        raise PoseRowError(None, f'send {{"poses": [...]}} with at least one row ({KEYS_HINT})')
    if len(rows) > BATCH_MAX:
        raise PoseRowError(None, f"{len(rows)} rows in one request; send at most {BATCH_MAX} at a time")
    base, values = parse_rows(rows)
    with transaction.atomic():
        stream = LiveStream.objects.select_for_update().get(pk=stream_id)
        check_open(stream)
        check_continues(stream, base, values[:, 0])
        LivePose.objects.bulk_create(
            [LivePose(stream=stream, at=row[0], **{name: _stored(v) for name, v in zip(VALUES, row[1:])})
             for row in values.tolist()])
        stream.pose_clock = base
        stream.pose_count += len(values)
        stream.pose_first = stream.pose_first if stream.pose_first is not None else float(values[0, 0])
        stream.pose_last = float(values[-1, 0])
        stream.save(update_fields=["pose_clock", "pose_count", "pose_first", "pose_last"])
    return {"received": len(values), **telemetry_summary(stream)}


def parse_rows(rows: list) -> tuple[str, np.ndarray]:
    """The batch's time base (`time` or `timestamp`) and an (N, 7) array [at, latitude, ..., pitch], NaN where
    an optional value is absent; PoseRowError at the first bad row."""
    base, values = None, []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise PoseRowError(number, f"expected an object with {KEYS_HINT}")
        key = _row_base(number, row)
        if base is not None and key != base:
            raise PoseRowError(number, f"gives {key}, the rows before it {base}: one time base per stream")
        base = key
        at = _number(number, row, key)
        _check_time(number, key, at)
        if values and at <= values[-1][0]:
            raise PoseRowError(number, f"{key} {at:g} does not come after {values[-1][0]:g} (row {number - 1}); "
                                       "times must increase")
        values.append([at, *(_value(number, row, name) for name in VALUES)])
    return base, np.array(values, dtype=np.float64)


def check_open(stream: LiveStream) -> None:
    if stream.state == LiveStream.State.FINISHING:
        raise StreamClosed(f"live stream #{stream.pk} is finishing its recording: it takes no more telemetry")
    if stream.state in (LiveStream.State.ENDED, LiveStream.State.FAILED):
        raise StreamClosed(f"live stream #{stream.pk} has {stream.state}: it takes no more telemetry")


def check_continues(stream: LiveStream, base: str, times: np.ndarray) -> None:
    """The batch uses the stream's time base, starts after its newest row, and fits in what a stream keeps."""
    if stream.pose_clock and base != stream.pose_clock:
        raise PoseRowError(1, f"gives {base}, but this stream's telemetry is in {stream.pose_clock} since its first "
                              "rows: one time base per stream")
    if stream.pose_last is not None and times[0] <= stream.pose_last:
        raise PoseRowError(1, f"{base} {times[0]:g} does not come after {stream.pose_last:g}, the newest row "
                              "already received; times must increase")
    if stream.pose_count + len(times) > STREAM_MAX:
        raise PoseRowError(None, f"live stream #{stream.pk} already has {stream.pose_count} poses; a stream keeps "
                                 f"at most {STREAM_MAX}")


def _row_base(number: int, row: dict) -> str:
    given = [key for key in PoseClock.values if row.get(key) is not None]
    if len(given) != 1:
        raise PoseRowError(number, "give either time (video seconds since the recording's first frame) or "
                                   "timestamp (Unix seconds)" + (", not both" if given else ""))
    return given[0]


def _number(number: int, row: dict, name: str) -> float:
    value = row[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PoseRowError(number, f"{name} {value!r} is not a number")
    return float(value)


def _check_time(number: int, key: str, at: float) -> None:
    if key == PoseClock.VIDEO and not 0 <= at <= MAX_VIDEO_SECONDS:
        raise PoseRowError(number, f"time {at:g} is not video seconds (0 to {MAX_VIDEO_SECONDS:g})" +
                           ("; Unix seconds go in timestamp" if at > MAX_VIDEO_SECONDS else ""))
    if key == PoseClock.UNIX and at < UNIX_FROM:
        raise PoseRowError(number, f"timestamp {at:g} is not Unix seconds (it is before 2000); video seconds go "
                                   "in time")
    if key == PoseClock.UNIX and at > time.time() + 86400:
        raise PoseRowError(number, f"timestamp {at:g} is more than a day in the future")


def _value(number: int, row: dict, name: str) -> float:
    if row.get(name) is None:
        if name in REQUIRED:
            raise PoseRowError(number, f"{name} is missing")
        return math.nan
    value = _number(number, row, name)
    low, high = RANGES[name]
    if not low <= value <= high:
        raise PoseRowError(number, f"{name} {value:g} is out of range ({low:g} to {high:g})")
    return value


def _stored(value: float) -> float | None:
    return None if math.isnan(value) else value


# --- reading -----------------------------------------------------------------------------------------------


def video_times(base: str, at: np.ndarray, clock: list) -> np.ndarray | None:
    """Video seconds of row times `at` in `base`; NaN for a Unix time in a gap, where the wall clock ran on
    without video. None for Unix times before the clock is known (no frame yet)."""
    at = np.asarray(at, dtype=np.float64)
    if base != PoseClock.UNIX:
        return at
    if not clock:
        return None
    anchors = np.asarray(clock, dtype=np.float64).reshape(-1, 2)  # (K, 2) [video_from, offset]
    starts = anchors[:, 0] + anchors[:, 1]  # the Unix time each stretch of video starts
    part = np.clip(np.searchsorted(starts, at, side="right") - 1, 0, None)
    video = at - anchors[part, 1]
    ends = np.append(anchors[1:, 0], np.inf)  # where the next stretch's video starts
    return np.where(video < ends[part], video, np.nan)


def pose_table(base: str, values: np.ndarray, clock: list) -> PoseTable | None:
    """The rows (an (N, 7) array as `parse_rows` makes) as a PoseTable in video seconds, or None when none has a
    video time yet. Rows in a gap, or more than a second before the first frame, are left out."""
    times = video_times(base, values[:, 0], clock) if len(values) else None
    if times is None:
        return None
    keep = np.isfinite(times) & (times >= EARLIEST)
    before = np.maximum.accumulate(np.where(keep, times, -np.inf))
    keep[1:] &= times[1:] > before[:-1]  # increasing by construction; a clock out of order must not break that
    if not keep.any():
        return None
    rows = values[keep]
    return PoseTable(times[keep], *rows[:, 1:].T)


def stored_rows(stream_id: int, after: int = 0) -> tuple[list[int], np.ndarray]:
    """The ids and (N, 7) values of the stream's rows with an id above `after`, oldest first."""
    rows = list(LivePose.objects.filter(stream=stream_id, pk__gt=after).order_by("pk")
                .values_list("pk", "at", *VALUES))
    values = np.array([row[1:] for row in rows], dtype=np.float64).reshape(-1, 1 + len(VALUES))  # None -> NaN
    return [row[0] for row in rows], values


CLOCK_JUMP = 2.0  # seconds the frames' decode times must jump (a gap, a resumed run) to start a new clock entry


def advance_clock(clock: list, time: float, decoded_at: float) -> bool:
    """Take a decoded frame (video `time`, Unix `decoded_at`) into `clock` ([[video_from, offset], ...], changed
    in place); whether it changed. Within a stretch of video the smallest offset is kept (the frame that waited
    least between the camera and the decoder); a jump of more than CLOCK_JUMP starts a new entry."""
    offset = decoded_at - time
    if not clock or offset - clock[-1][1] > CLOCK_JUMP:
        clock.append([round(time, 3), offset])
        return True
    if offset < clock[-1][1]:
        clock[-1][1] = offset
        return True
    return False


class PoseFeed:
    """The live worker's view of a stream's rows: `poll()` reads only the rows newer than the last read (cheap
    enough every second), `table(clock)` is what has arrived so far in video seconds."""

    def __init__(self, stream_id: int):
        self.stream_id, self.after, self.base = stream_id, 0, ""
        self.values = np.zeros((0, 1 + len(VALUES)))

    def poll(self) -> int:
        """Read the rows received since the last call; how many there were."""
        ids, values = stored_rows(self.stream_id, self.after)
        if ids:
            self.after = ids[-1]
            self.values = np.concatenate([self.values, values])
            self.base = self.base or LiveStream.objects.filter(pk=self.stream_id).values_list(
                "pose_clock", flat=True).first() or ""
        return len(ids)

    def table(self, clock: list) -> PoseTable | None:
        return pose_table(self.base, self.values, clock)


def telemetry_summary(stream: LiveStream) -> dict:
    """What the API and the page say about a stream's telemetry: rows received, their first and last time
    (as sent, and in video seconds once known), and how CHANGE matched the frames it compared."""
    times = [t for t in (stream.pose_first, stream.pose_last) if t is not None]
    video = video_times(stream.pose_clock, np.array(times), stream.clock) if times else None
    first_video, last_video = ([None if not np.isfinite(v) else round(float(v), 3) for v in video]
                               if video is not None else [None, None])
    return {"stream": stream.pk, "state": stream.state, "time_base": stream.pose_clock or None,
            "count": stream.pose_count, "first": stream.pose_first, "last": stream.pose_last,
            "first_video_time": first_video, "last_video_time": last_video,
            "change_compared": stream.change_compared, "change_by_telemetry": stream.change_by_telemetry}


# --- the recording's sidecar -------------------------------------------------------------------------------


def recording_poses(poses: PoseTable) -> PoseTable:
    """The poses for the recording's sidecar: from video second 0 (interpolated there from a row before it),
    one per millisecond at most (the .SRT's resolution)."""
    times = poses.time
    if times[0] < 0 < times[-1]:
        start = poses.at([0.0])
        later = times > 0
        poses = PoseTable(*(np.concatenate([getattr(start, name), getattr(poses, name)[later]])
                            for name in ("time", *VALUES)))
    millis = np.round(poses.time * 1000)
    keep = (poses.time >= 0) & np.concatenate([[True], np.diff(millis) > 0])
    return PoseTable(*(getattr(poses, name)[keep] for name in ("time", *VALUES)))


def write_recording_sidecar(stream: LiveStream, folder: Path) -> Path | None:
    """The stream's received poses as a DJI .SRT in `folder` (its date lines on the wall clock of the first
    frame), or None when no row has a video time."""
    _, values = stored_rows(stream.pk)
    poses = pose_table(stream.pose_clock, values, stream.clock)
    if poses is None or len(poses := recording_poses(poses)) == 0:
        return None
    zero = stream.clock[0][1] if stream.clock else stream.started.timestamp()  # Unix time of video second 0
    path = folder / f"live-{stream.pk}-telemetry.srt"
    partial = path.with_name(f".{path.name}.part")
    write_srt(partial, poses, datetime.fromtimestamp(zero, UTC).replace(tzinfo=None))
    os.replace(partial, path)
    return path
