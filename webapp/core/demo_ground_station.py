"""The demo's ground station: while FFmpeg replays a demo flight live (demo.start_live_replay), post the flight's
poses to the live telemetry API in real time, as ground-station software would (webapp.live.telemetry says
what a row holds).

Each row's `timestamp` is the wall-clock moment its frame is published: FFmpeg's `-re` start, read from the
progress FFmpeg reports, plus the pose's time, plus one loop period for each time FFmpeg has looped the file
(`-stream_loop -1`), so the rows keep increasing across loops.

A thread beside FFmpeg rather than a subprocess: it needs FFmpeg's progress (its stdout pipe, which something in
this process must drain anyway for FFmpeg to keep going) and the pose table the demo has already loaded, and it
ends when FFmpeg's progress ends, so there is no second process to track, signal and reap.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from detection.telemetry import PoseTable
from webapp.live.telemetry import BATCH_MAX, VALUES

logger = logging.getLogger(__name__)

POST_EVERY = 1.0  # seconds between batches, as a ground station sends them
POST_TIMEOUT = 10.0


def loop_period(path: Path) -> float:
    """Seconds each of FFmpeg's `-stream_loop` loops adds to the timestamps: from the video stream's first packet
    to its last, plus one frame (how FFmpeg 5 measures a looped input's duration)."""
    from detection.video.probe import open_video

    with open_video(path) as (container, stream):
        pts = [packet.pts for packet in container.demux(stream) if packet.pts is not None]
        rate = stream.average_rate or stream.guessed_rate
        if not pts:
            raise ValueError(f"{path.name} has no video packets to replay")
        return float((max(pts) - min(pts)) * stream.time_base) + (float(1 / rate) if rate else 0.0)


@dataclass(frozen=True)
class PoseSchedule:
    """A flight's poses replayed in a loop: pose i of loop k is published at start + k * period + time[i]."""

    poses: PoseTable
    period: float

    @classmethod
    def of(cls, poses: PoseTable, period: float) -> PoseSchedule | None:
        """The schedule of the poses within one loop (0 <= time < period) that have a position; None if none has."""
        if not period > 0:
            raise ValueError(f"a loop period must be positive seconds, got {period!r}")
        keep = (poses.time >= 0) & (poses.time < period) & np.isfinite(poses.latitude) & np.isfinite(poses.longitude)
        if not keep.any():
            return None
        return cls(PoseTable(*(getattr(poses, name)[keep] for name in ("time", *VALUES))), period)

    def rows(self, start: float, *, after: float, until: float, limit: int = BATCH_MAX) -> list[dict]:
        """The API rows (`timestamp` and the pose's values, null ones left out) published in (after, until], oldest
        first, at most `limit` of them; `start` is the Unix time of the first loop's video second 0."""
        times = self.poses.time
        first = 0 if not math.isfinite(after) else max(0, math.floor((after - start - times[-1]) / self.period))
        last = min(math.floor((until - start - times[0]) / self.period), first + limit // len(times) + 1)
        if last < first:
            return []
        at = start + np.arange(first, last + 1)[:, None] * self.period + times[None, :]  # (loops, poses)
        chosen = np.flatnonzero((at > after) & (at <= until))[:limit]  # row-major: loop by loop, in time order
        columns = {name: getattr(self.poses, name)[chosen % len(times)] for name in VALUES}
        return [{"timestamp": float(stamp), **{name: float(columns[name][i]) for name in VALUES
                                                if math.isfinite(columns[name][i])}}
                for i, stamp in enumerate(at.ravel()[chosen])]


class PublishClock:
    """FFmpeg's `-re` start as a Unix time, from the progress it writes (`-progress pipe:1`), read on a thread
    that drains it until FFmpeg ends (`ended`). Each report's `out_time_us` is the media time sent so far, so
    the report's arrival minus it estimates the start; the smallest estimate (the report that waited least) is
    kept. `start` stays None until the first frame has gone out: FFmpeg listening waits for its reader."""

    def __init__(self, lines: Iterable[str], *, now: Callable[[], float] = time.time):
        self.start: float | None = None
        self.ended = threading.Event()
        self._lines, self._now = lines, now
        threading.Thread(target=self._read, name="ffmpeg-progress", daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self._lines:
                key, _, value = line.strip().partition("=")
                if key == "out_time_us":
                    self.take(value)
        except (OSError, ValueError):  # the pipe closed under us: FFmpeg is gone either way
            pass
        finally:
            self.ended.set()

    def take(self, out_time_us: str) -> None:
        try:
            sent = int(out_time_us) / 1e6
        except ValueError:  # N/A before the first packet
            return
        if sent > 0:
            estimate = self._now() - sent
            self.start = estimate if self.start is None else min(self.start, estimate)


class TelemetryPoster:
    """Posts the schedule's rows that have been published, about once a second, to a live stream's telemetry
    endpoint with an API token. It stops when FFmpeg ends, on `stop()`, or at the first failed post (the server
    gone, the stream ended: 409), with a log line and never an exception."""

    def __init__(self, schedule: PoseSchedule, clock: PublishClock, *, url: str, token: str,
                 every: float = POST_EVERY):
        self.schedule, self.clock, self.url, self.every = schedule, clock, url, every
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        self.sent, self.last = 0, -math.inf  # rows posted, and the newest one's timestamp
        self.stopped = threading.Event()
        self.reason = ""
        self.thread = threading.Thread(target=self._run, name="demo-ground-station", daemon=True)

    def start(self) -> TelemetryPoster:
        self.thread.start()
        return self

    def stop(self, timeout: float = POST_TIMEOUT) -> None:
        self.stopped.set()
        self.thread.join(timeout)

    def _run(self) -> None:
        while not self.stopped.wait(self.every):
            if self.clock.ended.is_set():
                self._finish("FFmpeg stopped publishing")
                return
            if self.clock.start is None:
                continue  # FFmpeg waits for the live worker to connect
            rows = self.schedule.rows(self.clock.start, after=self.last, until=time.time())
            if rows and not self._post(rows):
                return
        self._finish("the replay was stopped")

    def _post(self, rows: list[dict]) -> bool:
        request = urllib.request.Request(self.url, data=json.dumps({"poses": rows}).encode(), headers=self.headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=POST_TIMEOUT) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            self._finish(f"{self.url} answered {exc.code}: {_detail(exc)}")
            return False
        except (urllib.error.URLError, OSError) as exc:
            self._finish(f"{self.url} cannot be reached ({getattr(exc, 'reason', exc)})")
            return False
        self.sent += len(rows)
        self.last = rows[-1]["timestamp"]
        return True

    def _finish(self, reason: str) -> None:
        self.reason = reason
        self.stopped.set()
        logger.info("Demo ground station stopped after %d poses: %s", self.sent, reason)


def _detail(error: urllib.error.HTTPError) -> str:
    try:
        return json.loads(error.read())["detail"]
    except (ValueError, KeyError, TypeError, OSError):
        return error.reason


def replay_schedule(source) -> PoseSchedule | None:
    """The schedule of `source`'s poses (a Video's, read from its pose table) over FFmpeg's loops of its file;
    None when it has no telemetry. TelemetryError or VideoError for a file that cannot be read."""
    from django.conf import settings

    from webapp.catalog.telemetry import load_poses

    poses = load_poses(source)
    return None if poses is None else PoseSchedule.of(poses, loop_period(Path(settings.MEDIA_ROOT) / source.file))


def start_ground_station(stream, source, publisher, *, api_url: str, user) -> TelemetryPoster | None:
    """Feed `stream` (a LiveStream) the poses of `source` (the Video FFmpeg replays) over the token API at
    `api_url` as `user`, while `publisher` (FFmpeg started with progress=True) publishes it. Returns the running
    poster, or None, with a log line, when the video has no telemetry or it cannot be read (FFmpeg's progress is
    drained either way)."""
    from rest_framework.authtoken.models import Token

    from detection.errors import TelemetryError, VideoError

    if publisher.stdout is None:
        raise ValueError("the ground station reads FFmpeg's progress: start the replay with progress=True")
    clock = PublishClock(publisher.stdout)
    try:
        schedule = replay_schedule(source)
    except (TelemetryError, VideoError) as exc:
        logger.warning("%s: its telemetry cannot be replayed (%s); the live replay sends no poses",
                       source.original_name, exc)
        return None
    if schedule is None:
        logger.info("%s has no telemetry: the live replay sends no poses", source.original_name)
        return None
    token, _ = Token.objects.get_or_create(user=user)
    url = f"{api_url.rstrip('/')}/api/live/{stream.pk}/telemetry/"
    return TelemetryPoster(schedule, clock, url=url, token=token.key).start()
