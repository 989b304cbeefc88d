"""A browser proxy of a video: H.264 High, yuv420p, at most 720 lines, even sides, `+faststart`, no audio.

Drones often record HEVC (and 10-bit), which most browsers cannot play; the proxy is what the review pages
play and seek. Rotation metadata is applied to the pixels, so every player shows it upright. Audio is
dropped: patrol audio is rotor noise and the review pages never play it. The file is written under a
temporary name and moved into place, so a half-written proxy is never served.

A video that browsers already play (H.264 in a profile they decode, 8-bit 4:2:0, upright, even sides, at
most `REMUX_MAX_HEIGHT` lines, a keyframe at least every `REMUX_MAX_KEYFRAME_SECONDS` so that seeking stays
quick) is not re-encoded: `remux_proxy` copies its video packets into a `+faststart` MP4, which costs a read
of the file instead of a 720p encode (a live recording of a drone's H.264 feed is such a video).
`remux_refusal` says why a video cannot be remuxed; `make_browser_proxy` remuxes when it can and re-encodes
otherwise, and says which it did.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av

from detection.atomic_files import temporary_name
from detection.errors import VideoError
from detection.types import ProgressFn, no_progress
from detection.video.decode import FrameReader
from detection.video.probe import (
    VideoInfo,
    normalise_rotation,
    open_video,
    probe,
    stream_duration,
    stream_origin,
)

# The filters that turn a frame stored with rotation metadata upright (rotation is counter-clockwise degrees).
_UPRIGHT_FILTERS = {
    0: (),
    90: (("transpose", "cclock"),),
    180: (("hflip", ""), ("vflip", "")),
    270: (("transpose", "clock"),),
}
BROWSER_H264_PROFILES = frozenset({"Constrained Baseline", "Baseline", "Main", "High"})  # 8-bit 4:2:0 ones
REMUX_MAX_HEIGHT = 1080  # lines: H.264 up to level 4.2, which every browser with H.264 decodes
REMUX_MAX_KEYFRAME_SECONDS = 4.0  # a seek decodes from the keyframe before it: at most this much video
REMUXED = "remuxed: the video is browser-playable H.264, its packets were copied"  # how a proxy was made


def proxy_size(width: int, height: int, max_height: int) -> tuple[int, int]:
    """The proxy's (width, height) for a displayed width x height: scaled down to max_height, both even."""
    scale = min(1.0, max_height / height)
    even = lambda side: max(2, int(round(side * scale)) // 2 * 2)  # noqa: E731
    return even(width), even(height)


class ProxyEncoder:
    """Encode the frames it is offered (from a FrameReader over `source`) into an MP4 proxy at `out_path`."""

    def __init__(
        self,
        source: av.video.stream.VideoStream,
        out_path: Path,
        *,
        max_height: int = 720,
        preset: str = "veryfast",
        crf: int = 23,
        keyframe_seconds: float = 2.0,
    ):
        self.source, self.out_path = source, Path(out_path)
        self.max_height, self.preset, self.crf = max_height, preset, crf
        self.keyframe_seconds = keyframe_seconds
        self.origin = stream_origin(source)
        self.size: tuple[int, int] | None = None
        self._temporary = temporary_name(self.out_path, ".mp4")  # PyAV picks the container by the extension
        self._output = None
        self._stream = None
        self._graph = None
        self._last_pts = None

    def _start(self, frame: av.VideoFrame) -> None:
        rotation = normalise_rotation(frame.rotation)
        display = (frame.height, frame.width) if rotation in (90, 270) else (frame.width, frame.height)
        width, height = self.size = proxy_size(*display, self.max_height)
        coded = (height, width) if rotation in (90, 270) else (width, height)
        graph = av.filter.Graph()
        nodes = [graph.add_buffer(template=self.source)]
        nodes.append(graph.add("scale", f"{coded[0]}:{coded[1]}"))
        nodes += [graph.add(name, args) for name, args in _UPRIGHT_FILTERS[rotation]]
        nodes += [graph.add("format", "yuv420p"), graph.add("buffersink")]
        graph.link_nodes(*nodes).configure()
        self._graph = graph
        self.out_path.parent.mkdir(parents=True, exist_ok=True)
        self._output = av.open(str(self._temporary), "w", format="mp4", options={"movflags": "+faststart"})
        rate = self.source.average_rate or self.source.guessed_rate or Fraction(30)
        stream = self._output.add_stream("libx264", rate=Fraction(rate).limit_denominator(100000))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = self.source.time_base
        stream.codec_context.gop_size = max(1, int(round(float(rate) * self.keyframe_seconds)))
        stream.options = {"preset": self.preset, "crf": str(self.crf), "profile": "high"}
        self._stream = stream

    def offer(self, time: float, frame: av.VideoFrame) -> None:
        """Encode one decoded frame (frames must come in presentation order)."""
        if self._graph is None:
            self._start(frame)
        self._graph.push(frame)
        self._drain()

    def _drain(self) -> None:
        while True:
            try:
                scaled = self._graph.pull()
            except (BlockingIOError, EOFError, av.error.EOFError):
                return
            pts = (scaled.pts if scaled.pts is not None else 0) - self.origin
            if self._last_pts is not None and pts <= self._last_pts:
                continue
            self._last_pts = pts
            scaled.pts, scaled.time_base = pts, self.source.time_base
            scaled.pict_type = av.video.frame.PictureType.NONE  # else libx264 copies every source keyframe
            self._output.mux(self._stream.encode(scaled))

    def close(self) -> Path | None:
        """Flush the encoder, finish the file and move it into place; None if no frame was offered."""
        if self._output is None:
            return None
        self._output.mux(self._stream.encode(None))
        self._output.close()
        os.replace(self._temporary, self.out_path)
        return self.out_path

    def abort(self) -> None:
        """Close and delete the unfinished proxy."""
        if self._output is not None:
            self._output.close()
        self._temporary.unlink(missing_ok=True)


def make_proxy(
    path: str | Path,
    out_path: str | Path,
    *,
    max_height: int = 720,
    preset: str = "veryfast",
    crf: int = 23,
    threads: int = 0,
    progress: ProgressFn = no_progress,
) -> Path:
    """Write a browser-playable H.264 proxy of `path` to `out_path` (see the module docstring); returns out_path.

    A truncated source gives a proxy of the part that could be decoded.
    """
    path = Path(path)
    with open_video(path) as (container, stream):
        duration = max(stream_duration(container, stream), 1e-9)
        encoder = ProxyEncoder(stream, Path(out_path), max_height=max_height, preset=preset, crf=crf)
        try:
            for time, frame in FrameReader(container, stream, threads=threads):
                encoder.offer(time, frame)
                progress(min(1.0, time / duration), "making the browser proxy")
        except BaseException:
            encoder.abort()
            raise
        written = encoder.close()
    if written is None:
        raise VideoError(f"{path.name} is corrupt: no video frame could be decoded for the proxy")
    progress(1.0, "making the browser proxy")
    return written


def re_encoded(reason: str) -> str:
    """How a re-encoded proxy is described, with why the video could not be remuxed."""
    return f"re-encoded: {reason}"


class RemuxRefused(VideoError):
    """The video's packets cannot be copied into a browser proxy as they are (the message says why)."""


def remux_refusal(info: VideoInfo, *, max_height: int = REMUX_MAX_HEIGHT) -> str:
    """Why a video with the probed `info` needs a re-encoded proxy, or "" when its packets can be copied
    (the keyframe spacing is checked by `remux_proxy` as it copies: containers without an index hide it)."""
    if info.codec != "h264":
        return f"its codec is {info.codec}, not H.264"
    if info.profile not in BROWSER_H264_PROFILES:
        return f"its H.264 profile {info.profile or '(unknown)'} is not one browsers decode"
    if info.pix_fmt != "yuv420p":
        return f"its pixel format is {info.pix_fmt}, not yuv420p"
    if info.rotation:
        return f"it is stored rotated by {info.rotation} degrees"
    if info.height > max_height:
        return f"it has {info.height} lines, more than {max_height}"
    if info.width % 2 or info.height % 2:
        return f"its size {info.width}x{info.height} has an odd side"
    return ""


def remux_proxy(
    path: str | Path,
    out_path: str | Path,
    *,
    max_keyframe_seconds: float = REMUX_MAX_KEYFRAME_SECONDS,
    progress: ProgressFn = no_progress,
) -> Path:
    """Copy the video packets of `path` (which `remux_refusal` accepts) into a `+faststart` MP4 at `out_path`;
    returns out_path. Times start at 0 as the re-encoded proxy's do (the sampled frames' times). Raises
    RemuxRefused, writing nothing, when keyframes are further apart than `max_keyframe_seconds` (or the stream
    ends in the middle of such a stretch), or when a packet is damaged or cannot be read."""
    path, out_path = Path(path), Path(out_path)
    temporary = temporary_name(out_path, ".mp4")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open_video(path) as (container, stream):
            duration = max(stream_duration(container, stream), 1e-9)
            origin, base = stream_origin(stream), stream.time_base
            with av.open(str(temporary), "w", format="mp4", options={"movflags": "+faststart"}) as output:
                copied = output.add_stream_from_template(stream)
                last_key = end = None
                for packet in container.demux(stream):
                    if packet.dts is None or packet.pts is None:
                        continue  # the demuxer's flush packet
                    seconds = float((packet.pts - origin) * base)
                    if packet.is_corrupt:  # a browser would show it broken; the re-encode keeps what decodes
                        raise RemuxRefused(f"its packet at {seconds:.2f} s is damaged (truncated or corrupt)")
                    if packet.is_keyframe:
                        _check_keyframe_gap(last_key, seconds, max_keyframe_seconds)
                        last_key = seconds
                    elif last_key is None:
                        continue  # a leading non-key packet: nothing can decode it
                    end = max(end or seconds, seconds + float((packet.duration or 0) * base))
                    packet.pts, packet.dts = packet.pts - origin, packet.dts - origin
                    packet.stream = copied
                    output.mux(packet)
                    progress(min(1.0, seconds / duration), "copying the video into the browser proxy")
                if last_key is None:
                    raise RemuxRefused(f"{path.name} has no keyframe to start the proxy with")
                _check_keyframe_gap(last_key, end, max_keyframe_seconds)
        os.replace(temporary, out_path)
    except av.FFmpegError as exc:
        temporary.unlink(missing_ok=True)
        raise RemuxRefused(f"its packets could not be copied ({exc})") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    progress(1.0, "copying the video into the browser proxy")
    return out_path


def _check_keyframe_gap(previous: float | None, seconds: float, limit: float) -> None:
    if previous is not None and seconds - previous > limit + 1e-6:
        raise RemuxRefused(
            f"its keyframes are {seconds - previous:.1f} s apart at {previous:.1f} s, more than {limit:g} s "
            "(seeking would be slow)")


def make_browser_proxy(
    path: str | Path,
    out_path: str | Path,
    *,
    max_height: int = 720,
    remux_max_height: int = REMUX_MAX_HEIGHT,
    progress: ProgressFn = no_progress,
) -> tuple[Path, str]:
    """A browser proxy of `path` at `out_path`, remuxed when the video allows it and re-encoded (`make_proxy`)
    otherwise; returns (out_path, how: "remuxed" or "re-encoded: <why not remuxed>")."""
    reason = remux_refusal(probe(path), max_height=remux_max_height)
    if not reason:
        try:
            return remux_proxy(path, out_path, progress=progress), REMUXED
        except RemuxRefused as exc:
            reason = str(exc)
    return make_proxy(path, out_path, max_height=max_height, progress=progress), re_encoded(reason)
