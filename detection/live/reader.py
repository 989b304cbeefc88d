"""The live reader: a thread that demuxes and decodes a stream as it arrives and keeps only the newest frames.

PyAV reads as fast as it is asked: a consumer slower than the stream (a detector on a small CPU) would make the
socket's backlog, and so the lag, grow without end. Here the thread reads and decodes at the stream's pace and
the consumer takes whatever is newest: sampled frames wait in a queue of `keep` and the oldest are dropped
(counted in `dropped`). When decoding itself falls behind the stream by more than `max_lag` seconds, the
decoder skips non-key frames until it has caught up (`skipped`), so the lag stays bounded either way.

Each connection's timestamps continue where the previous connection's recording ended (recording seconds,
which is how the recorder writes them). Frame times are video times: recording seconds since the first frame,
the times ingest gives the joined recording's frames, and the sampling grid is the same as ingest's, so a live
score's time is its time in the recorded video.
A connection that ends (publisher gone, network down) starts a gap: the reader reconnects with exponential
backoff, and the gap (where in the recording, how long in wall-clock time) is kept in `gaps`. The stream ends
when nothing has come back for `end_after` seconds, or on `stop()`, or when an HLS playlist reaches its end
(`#EXT-X-ENDLIST`: reopening it would replay its segments as new video). It fails clearly, in `error`, when the
first connection does not open within `connect_timeout` seconds, and when the picture's resolution changes
(a mission's recording and scores keep one resolution; a new resolution needs a new mission).
A URL whose protocol PyAV's FFmpeg lacks (SRT) is read through a relay by the system's FFmpeg, one relay process
per connection (detection.live.relay); the same timeouts, gaps and reconnection apply.
"""

from __future__ import annotations

import collections
import math
import re
import threading
import time
from dataclasses import dataclass, field

import av
import numpy as np

from detection.live.recorder import SegmentRecorder
from detection.live.relay import MissingProtocol, Relay, relay_protocol
from detection.video.decode import configure_decoder
from detection.video.sampling import TimestampSelector, frame_to_rgb


@dataclass(frozen=True)
class LiveFrame:
    """One sampled frame: `image` (H, W, 3) uint8 RGB at the analysis size, `display` at the display width, `full`
    at `full_width` (for the CHANGE detector, which compares frames at its own, larger, analysis size)."""

    time: float  # video seconds: since the recording's first frame
    image: np.ndarray
    display: np.ndarray | None
    decoded_at: float  # time.time() when it was decoded (alert latency is measured from the stream to here)
    full: np.ndarray | None = None


@dataclass
class Gap:
    """A stretch without stream: at `at` video seconds, from wall-clock `began` to `ended` (None: open)."""

    at: float
    began: float
    ended: float | None = None
    reason: str = ""

    @property
    def seconds(self) -> float:
        return (self.ended if self.ended is not None else time.time()) - self.began


@dataclass(frozen=True)
class LiveSettings:
    fps: float = 2.0  # analysis rate: sampled frames per second of stream time
    size: tuple[int, int] | None = (124, 124)  # (width, height) of sampled frames; None = native
    display_width: int | None = 640  # width of the display copy of each sampled frame; None = none
    full_width: int | None = None  # width of a larger copy (at most the stream's own); None = none
    keep: int = 2  # sampled frames waiting for the consumer; older ones are dropped
    connect_timeout: float = 15.0  # seconds for the first connection to open
    read_timeout: float = 5.0  # seconds without data before a connection counts as dropped
    backoff: tuple[float, float] = (0.5, 8.0)  # first and longest wait between reconnection attempts
    end_after: float = 30.0  # seconds without a connection after which the stream counts as ended
    max_lag: float = 1.0  # decoding this far behind the stream skips non-key frames until caught up
    listen: bool = False  # wait for a publisher on the URL (tcp, rtmp, srt) instead of connecting to it
    options: dict = field(default_factory=dict)  # extra FFmpeg options for the input


CREDENTIALS = re.compile(r"(?<=://)[^/@\s'\"]+@")


def redact(url: str) -> str:
    """The URL without user and password, for messages and logs."""
    return CREDENTIALS.sub("", url)


def open_options(url: str, settings: LiveSettings, *, first: bool = True) -> dict:
    """FFmpeg input options for `url` (its `first` connection or a reconnection): TCP for RTSP, listening mode
    when asked, a short probe (no `nobuffer`: it drops the probed packets); for an HLS playlist, a first
    connection starts at the oldest segment it lists (the recording keeps what the playlist still holds, not
    only the live edge), and a playlist that stops growing ends the connection after about `end_after`."""
    # fpsprobesize 0: the probe ends once the codec's parameters are known, not after up to a second of frames
    # spent estimating the frame rate (the reader times frames by their packets' timestamps; a packet without a
    # duration takes the stream's rate when known, else 30 fps); the first frame comes about 0.5 s sooner on a
    # 1280x720 feed (BENCHMARKS.md, "Live streams", seventeenth session)
    options = {"analyzeduration": "1000000", "probesize": "1000000", "fpsprobesize": "0"}
    scheme = url.split(":", 1)[0].lower()
    if scheme == "rtsp":
        options["rtsp_transport"] = "tcp"
    if url.split("?", 1)[0].lower().endswith(".m3u8"):
        # FFmpeg reloads a playlist that stopped growing every half target duration (0.5 s or more), this many
        # times before giving up (its default, 1000, would hold the reader for many minutes).
        options["m3u8_hold_counters"] = str(max(3, math.ceil(settings.end_after / 0.5)))
        if first:
            options["live_start_index"] = "0"
    if settings.listen:
        options["listen"] = "1"
    options.update(settings.options)
    return options


class LiveReader(threading.Thread):
    """Read `url` until it ends or `stop()`; consumers call `next_frame()`. See the module docstring."""

    def __init__(self, url: str, settings: LiveSettings = LiveSettings(), *, recorder: SegmentRecorder | None = None,
                 start_at: float = 0.0, origin: float | None = None, last_sample: float | None = None):
        super().__init__(name=f"live-reader {redact(url)}", daemon=True)
        self.url, self.settings, self.recorder = url, settings, recorder
        self.recorded_until = start_at  # recording seconds where the next connection continues
        self.origin = origin  # recording seconds of the first frame (known when a recording is resumed)
        self.error = ""
        self.gaps: list[Gap] = []
        self.dropped = 0  # sampled frames the consumer never took
        self.skipped = 0  # frames not decoded to catch up with the stream
        self.connections = 0
        self.resolution: tuple[int, int] | None = None
        self.lag = 0.0  # seconds the decoder is behind the stream, at the last packet
        self.newest_time = start_at
        self._selector = TimestampSelector(settings.fps)
        if last_sample is not None:  # a resumed recording continues the sampling grid, not restarts it
            self._selector.keep(last_sample)
        self._queue: collections.deque[LiveFrame] = collections.deque()
        self._ready = threading.Condition()
        self._stopping = threading.Event()
        self.finished = threading.Event()
        self.relayed = False  # PyAV's FFmpeg lacks the protocol: the system's FFmpeg relays it (detection.live.relay)
        self._relay: Relay | None = None

    # --- consumer side ---------------------------------------------------------------------------------------

    def next_frame(self, timeout: float = 1.0) -> LiveFrame | None:
        """The oldest waiting sampled frame (at most `keep` wait), or None after `timeout` seconds."""
        with self._ready:
            if not self._queue:
                self._ready.wait(timeout)
            return self._queue.popleft() if self._queue else None

    def stop(self) -> None:
        self._stopping.set()
        relay = self._relay
        if relay is not None:
            relay.close()  # a read waiting on the relay ends now, and no FFmpeg is left behind

    @property
    def done(self) -> bool:
        """The stream ended (or failed) and every sampled frame was taken."""
        return self.finished.is_set() and not self._queue

    # --- the thread ------------------------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._read_until_ended()
        except Exception as exc:  # noqa: BLE001 - a thread's failure must reach the consumer, not vanish
            self.error = self.error or f"the live reader failed: {type(exc).__name__}: {exc}"
        finally:
            self._end_relay()
            if self.recorder is not None:
                self.recorder.end()
            if self.gaps and self.gaps[-1].ended is None:
                self.gaps.pop()  # the stream's end, not a gap inside it
            self.finished.set()
            with self._ready:
                self._ready.notify_all()

    def _read_until_ended(self) -> None:
        first_try = time.monotonic()
        delay = self.settings.backoff[0]
        while not self._stopping.is_set():
            try:
                container = self._open()
            except MissingProtocol as exc:
                self.error = f"the stream {redact(self.url)} cannot be read: {exc}"
                return
            except (av.FFmpegError, OSError) as exc:
                if self._stopping.is_set():
                    return
                if not self.connections and time.monotonic() - first_try > self.settings.connect_timeout:
                    self.error = (f"the stream {redact(self.url)} did not open within "
                                  f"{self.settings.connect_timeout:g} s: {redact(str(exc))}")
                    return
                if self.gaps and self.gaps[-1].seconds > self.settings.end_after:
                    return  # gone for good: the flight is over
                self._stopping.wait(delay)
                delay = min(delay * 2, self.settings.backoff[1])
                continue
            delay = self.settings.backoff[0]
            try:
                with container:
                    reason = self._read_connection(container)
                    playlist_ended = reason == "stream ended" and container.format.name == "hls"
            finally:
                relayed = self._end_relay()
            if relayed:
                reason = f"{reason}: {relayed}"
            if self.error:
                return
            if playlist_ended:
                return  # the publisher wrote #EXT-X-ENDLIST: reopening the playlist would replay its segments
            if self.resolution is None and time.monotonic() - first_try > self.settings.connect_timeout:
                self.error = (f"the stream {redact(self.url)} opened but sent no picture within "
                              f"{self.settings.connect_timeout:g} s ({redact(reason)})")
                return
            if self.gaps and self.gaps[-1].ended is None and self.gaps[-1].seconds > self.settings.end_after:
                return  # connections open but bring nothing: the flight is over
            if not self._stopping.is_set() and not (self.gaps and self.gaps[-1].ended is None):
                # A connection that opened but brought no picture leaves the gap it was in open: one gap.
                self.gaps.append(Gap(at=self.recorded_until - (self.origin or 0.0), began=time.time(), reason=reason))

    def _open(self):
        # Before the first connection, wait up to connect_timeout; after a drop, no longer than the stream has
        # left before it counts as ended (a listening endpoint would otherwise wait a whole connect_timeout).
        limit = self.settings.connect_timeout
        if self.gaps:
            limit = max(0.5, self.settings.end_after - self.gaps[-1].seconds)
        open_timeout = limit if self.settings.listen else min(limit, self.settings.read_timeout)
        first = not self.connections and not self.recorded_until
        options = open_options(self.url, self.settings, first=first)
        if not self.relayed:
            try:
                return av.open(self.url, options=options, timeout=(open_timeout, self.settings.read_timeout))
            except av.error.ProtocolNotFoundError:
                relay_protocol(self.url)  # MissingProtocol when the system's FFmpeg lacks it too
                self.relayed = True
        self._relay = Relay(self.url, options, listen=self.settings.listen, safe_url=redact(self.url))
        return self._relay.open(open_timeout=open_timeout, read_timeout=self.settings.read_timeout,
                                stopping=self._stopping)

    def _end_relay(self) -> str:
        """Kill this connection's relay, if there is one; why its output ended ("" without a relay)."""
        relay, self._relay = self._relay, None
        if relay is None:
            return ""
        relay.release()
        return relay.why

    def _read_connection(self, container) -> str:
        """Demux, record and decode one connection until it ends; returns why it ended."""
        if not container.streams.video:
            self.error = f"the stream {redact(self.url)} carries no video"
            return "no video"
        stream = container.streams.video[0]
        configure_decoder(stream)
        if self.recorder is not None:
            self.recorder.begin(stream)
        self.connections += 1
        origin = None
        offset = self.recorded_until
        wall_origin = None
        try:
            for packet in container.demux(stream):
                if self._stopping.is_set():
                    return "stopped"
                if packet.dts is None and packet.pts is None:
                    continue
                stamp = packet.dts if packet.dts is not None else packet.pts
                if origin is None:
                    origin, wall_origin = stamp, time.monotonic()
                    self._close_gap()
                seconds = offset + float(((packet.pts if packet.pts is not None else stamp) - origin) * packet.time_base)
                step = float((packet.duration or 0) * packet.time_base)
                self._keep_up(stream, seconds - offset, wall_origin, packet.is_keyframe)
                frames = packet.decode()  # before recording: muxing moves the packet to the output stream
                for frame in frames:
                    if not self._offer(frame, offset + float((frame.pts - origin) * frame.time_base)
                                       if frame.pts is not None else seconds):
                        return "resolution changed"
                if self.recorder is not None:
                    self.recorder.write(packet, seconds, offset + float((stamp - origin) * packet.time_base), step)
                self.recorded_until = max(self.recorded_until, seconds + (step or 1.0 / float(stream.average_rate or 30)))
        except (av.FFmpegError, OSError, EOFError) as exc:
            return f"connection lost ({exc})" if self._flush(stream, origin, offset) else "resolution changed"
        return "stream ended" if self._flush(stream, origin, offset) else "resolution changed"

    def _flush(self, stream, origin: int | None, offset: float) -> bool:
        """Offer the frames the decoder still holds when a connection ends (its threads keep a few back);
        False when the resolution changed."""
        if origin is None:
            return True
        try:
            frames = stream.codec_context.decode(None)
        except av.FFmpegError:
            return True
        return all(self._offer(frame, offset + float((frame.pts - origin) * (frame.time_base or stream.time_base)))
                   for frame in frames if frame.pts is not None)

    def _close_gap(self) -> None:
        if self.gaps and self.gaps[-1].ended is None:
            self.gaps[-1].ended = time.time()

    def _keep_up(self, stream, stream_seconds: float, wall_origin: float, keyframe: bool) -> None:
        """Skip non-key frames while decoding runs more than max_lag behind the stream's own clock."""
        self.lag = max(0.0, (time.monotonic() - wall_origin) - stream_seconds)
        ctx = stream.codec_context
        if self.lag > self.settings.max_lag and ctx.skip_frame != "NONKEY":
            ctx.skip_frame = "NONKEY"
        elif self.lag < self.settings.max_lag / 4 and keyframe and ctx.skip_frame == "NONKEY":
            ctx.skip_frame = "DEFAULT"
        if ctx.skip_frame == "NONKEY" and not keyframe:
            self.skipped += 1

    def _offer(self, frame: av.VideoFrame, seconds: float) -> bool:
        """Queue the frame if the sampling keeps it; False (and `error`) when the resolution changed."""
        size = (frame.width, frame.height)
        if self.resolution is None:
            self.resolution = size
        elif size != self.resolution:
            self.error = (f"the stream's resolution changed from {self.resolution[0]}x{self.resolution[1]} to "
                          f"{size[0]}x{size[1]} at {seconds:.1f} s; a live mission keeps one resolution, so the "
                          "recording stops here: start a new live mission for the new resolution")
            return False
        if self.origin is None:
            self.origin = seconds
        seconds -= self.origin
        self.newest_time = seconds
        if not self._selector.keep(seconds):
            return True
        image = frame_to_rgb(frame, self.settings.size)
        display, full = _scaled(frame, self.settings.display_width), _scaled(frame, self.settings.full_width)
        with self._ready:
            if len(self._queue) >= self.settings.keep:
                self._queue.popleft()
                self.dropped += 1
            self._queue.append(LiveFrame(time=seconds, image=image, display=display, decoded_at=time.time(),
                                         full=full))
            self._ready.notify_all()
        return True


def _scaled(frame: av.VideoFrame, width: int | None) -> np.ndarray | None:
    """The frame as RGB at most `width` wide, its aspect kept (even height); None without a width."""
    if not width:
        return None
    width = min(width, frame.width)
    return frame_to_rgb(frame, (width, max(2, round(frame.height * width / frame.width / 2) * 2)))
