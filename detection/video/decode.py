"""One streaming decode loop shared by sampling, the proxy, thumbnails and ingest.

`FrameReader` yields (seconds, frame) pairs in presentation order from an open stream, with frame-threaded
decoding, an optional keyframe-only mode that never hands the other packets to the decoder, a seek for a start
time, and a record of where decoding stopped when the data ends early or turns corrupt: a truncated file keeps
every frame before the damage instead of failing.
"""

from __future__ import annotations

from collections.abc import Iterator

import av

from detection.video.probe import stream_origin


def configure_decoder(
    stream: av.video.stream.VideoStream, *, threads: int = 0, keyframes_only: bool = False
) -> None:
    """Frame+slice threading (`threads`=0: one per core); in keyframe mode the decoder also skips non-key frames."""
    ctx = stream.codec_context
    ctx.thread_type = "AUTO"
    ctx.thread_count = threads
    if keyframes_only:
        ctx.skip_frame = "NONKEY"


class FrameReader:
    """Iterate (time, frame) of one video stream; `time` is seconds since the stream's first timestamp.

    After iteration, `error` holds the first complaint of the demuxer or decoder (else ""), `damaged_packets`
    counts packets the decoder rejected (skipped), `last_time` is the last frame's time and `demuxed_until`
    the end time of the last packet read, which shows where a truncated file stops.
    """

    def __init__(
        self,
        container: av.container.InputContainer,
        stream: av.video.stream.VideoStream,
        *,
        start: float | None = None,
        keyframes_only: bool = False,
        threads: int = 0,
        seek_margin: float = 1.0,
    ):
        self.container, self.stream = container, stream
        self.keyframes_only = keyframes_only
        self.start = start
        self.seek_margin = seek_margin
        self.error = ""
        self.damaged_packets = 0
        self.first_damage = 0.0
        self.last_time: float | None = None
        self.demuxed_until = 0.0
        self.origin = stream_origin(stream)
        self.time_base = stream.time_base
        configure_decoder(stream, threads=threads, keyframes_only=keyframes_only)

    def seconds(self, timestamp: int) -> float:
        """A stream timestamp as seconds since the stream's first timestamp."""
        return float((timestamp - self.origin) * self.time_base)

    def _seek(self) -> None:
        # Land on a keyframe a little before `start`, so the frame just before `start` is decoded too: the
        # timestamp rule in sampling looks at each frame's predecessor, and pieces must agree with one pass.
        target = self.origin + int((self.start - self.seek_margin) / self.time_base)
        if target > self.origin:
            self.container.seek(target, stream=self.stream, backward=True, any_frame=False)

    def _packets(self) -> Iterator[av.Packet]:
        for packet in self.container.demux(self.stream):
            if packet.pts is not None:
                end = packet.pts + (packet.duration or 0)
                self.demuxed_until = max(self.demuxed_until, self.seconds(end))
            if self.keyframes_only and packet.size and not packet.is_keyframe:
                continue
            yield packet

    def _frames(self, packet: av.Packet | None) -> list[av.VideoFrame]:
        # A packet the decoder rejects is skipped, not fatal: the frames after it may still decode.
        try:
            return packet.decode() if packet is not None else self.stream.codec_context.decode(None)
        except (av.FFmpegError, EOFError) as exc:
            self.damaged_packets += 1
            if not self.error:
                self.error = str(exc) or type(exc).__name__
                self.first_damage = self.last_time or 0.0
            return []

    def _decoded(self) -> Iterator[av.VideoFrame]:
        try:
            for packet in self._packets():
                yield from self._frames(packet)
        except (av.FFmpegError, EOFError) as exc:  # the demuxer gave up: flush what the decoder holds
            self.error = self.error or str(exc) or type(exc).__name__
            yield from self._frames(None)

    def __iter__(self) -> Iterator[tuple[float, av.VideoFrame]]:
        if self.start:
            self._seek()
        for frame in self._decoded():
            stamp = frame.pts if frame.pts is not None else frame.dts
            if stamp is None:
                # No timestamp at all: continue one nominal frame after the previous one.
                time = (self.last_time or 0.0) + 1.0 / float(self.stream.average_rate or 30)
            else:
                time = self.seconds(stamp)
            if self.last_time is not None and time <= self.last_time:
                continue  # a repeated or out-of-order frame after damage
            self.last_time = time
            yield time, frame


class ThrottledProgress:
    """Pass progress on only when it moved by `step` (or the stage changed): callers report every frame."""

    def __init__(self, progress, step: float = 0.005):
        self.progress, self.step = progress, step
        self._last = (-1.0, "")

    def __call__(self, fraction: float, stage: str) -> None:
        last_fraction, last_stage = self._last
        if stage != last_stage or fraction - last_fraction >= self.step or fraction >= 1.0 > last_fraction:
            self._last = (fraction, stage)
            self.progress(fraction, stage)
