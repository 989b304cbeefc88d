"""Probe a video file: what it holds, and whether it can be decoded at all.

`open_video` is the one place where PyAV opens an input; it turns every way a file can be unusable into a
`VideoError` whose message names the problem (empty, not a video, truncated, no video stream, unsupported codec).
`probe` adds the stream's facts and decodes one frame, so a file that passes can be ingested.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av

from detection.errors import VideoError

# Leading bytes of container formats we recognise, so a broken one reads "truncated", not "not a video".
_CONTAINER_MAGIC = (
    (4, b"ftyp", "MP4/MOV"),
    (4, b"moov", "MP4/MOV"),
    (4, b"mdat", "MP4/MOV"),
    (0, b"\x1a\x45\xdf\xa3", "Matroska/WebM"),
    (0, b"RIFF", "AVI"),
)
_ANALYSED_ENTRIES = 2000  # index entries looked at for variable frame rate


@dataclass(frozen=True)
class VideoInfo:
    """What `probe` found. width/height are as displayed (after rotation); rotation is counter-clockwise degrees
    (0, 90, 180 or 270, as `VideoFrame.rotation`). keyframe_interval is the longest gap between keyframes in
    seconds from the container index, or None when the container has no index."""

    container: str
    codec: str
    duration: float
    fps: float
    width: int
    height: int
    rotation: int
    frame_count: int
    has_audio: bool
    variable_frame_rate: bool
    coded_width: int = 0
    coded_height: int = 0
    pix_fmt: str = ""
    bit_rate: int = 0
    size_bytes: int = 0
    keyframe_interval: float | None = None
    profile: str = ""  # the codec profile as FFmpeg names it ("High", "Main 10"), "" when it has none


def _sniff_container(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(400)
    for offset, magic, name in _CONTAINER_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return name
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return "MPEG-TS"
    return ""


def _reason(exc: Exception | str) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _open_error(path: Path, exc: Exception | str) -> VideoError:
    exc = _reason(exc)
    known = _sniff_container(path)
    if known:
        return VideoError(
            f"{path.name} looks like an {known} file but is truncated or corrupt, so it cannot be opened "
            f"(the upload or copy may be incomplete): {exc}"
        )
    return VideoError(f"{path.name} is not a video file: no known container format was recognised ({exc})")


def video_stream(container: av.container.InputContainer, path: Path) -> av.video.stream.VideoStream:
    """The first real video stream (cover art in audio files does not count), else a VideoError."""
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    kinds = sorted({stream.type for stream in container.streams})
    if not kinds:
        raise _open_error(path, "no stream could be read from it")
    raise VideoError(f"{path.name} has no video stream (it holds only: {', '.join(kinds)})")


@contextlib.contextmanager
def open_video(path: str | Path) -> Iterator[tuple[av.container.InputContainer, av.video.stream.VideoStream]]:
    """Open `path` for decoding and yield (container, video stream); bad files raise VideoError."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"no such video file: {path}")
    if path.stat().st_size == 0:
        raise VideoError(f"{path.name} is an empty file (0 bytes)")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise _open_error(path, exc) from None
    with container:
        if container.format.name.endswith("_pipe") or container.format.name == "image2":
            raise VideoError(
                f"{path.name} is a still image ({container.format.name.removesuffix('_pipe')}), not a video"
            )
        stream = video_stream(container, path)
        try:
            codec_name = stream.codec_context.name
        except (av.FFmpegError, ValueError, AttributeError) as exc:
            raise VideoError(f"{path.name} uses a video codec this build cannot decode ({exc})") from None
        if not stream.codec_context.is_decoder:
            raise VideoError(
                f"{path.name} uses the video codec '{codec_name}', which this build cannot decode"
            )
        yield container, stream


def stream_origin(stream: av.video.stream.VideoStream) -> int:
    """The stream's first timestamp in its time base; sample times are counted from it (first frame ~ 0 s)."""
    return stream.start_time if stream.start_time is not None else 0


def stream_duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    """Duration in seconds: the stream's own if known, else the container's."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000
    return 0.0


def stream_fps(stream: av.video.stream.VideoStream) -> float:
    """The average frame rate, falling back to the guessed or base rate."""
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return float(rate)
    return 0.0


def keyframe_times(stream: av.video.stream.VideoStream) -> list[float]:
    """Timestamps (seconds, decode order) of the keyframes listed in the container index; [] without an index."""
    base = stream.time_base
    return [float(entry.timestamp * base) for entry in stream.index_entries if entry.is_keyframe]


def _keyframe_interval(stream: av.video.stream.VideoStream, duration: float) -> float | None:
    times = keyframe_times(stream)
    if not times:
        return None
    points = sorted(times)
    gaps = [later - earlier for earlier, later in zip(points, points[1:])]
    return max(gaps) if gaps else duration


def _is_variable_rate(stream: av.video.stream.VideoStream) -> bool:
    """Irregular gaps between the first frames of a full sample index (MP4/MOV); without one (Matroska cues
    list only keyframes, MPEG-TS has none), a mismatch between the average and the base frame rate."""
    entries = stream.index_entries
    head = [entries[index] for index in range(min(len(entries), _ANALYSED_ENTRIES))]
    if any(not entry.is_keyframe for entry in head):
        stamps = sorted(entry.timestamp for entry in head)
        gaps = [later - earlier for earlier, later in zip(stamps, stamps[1:]) if later > earlier]
        if len(gaps) >= 2:
            return max(gaps) > 1.5 * min(gaps)
    average, base = stream.average_rate, stream.base_rate
    return bool(average and base and abs(float(average) - float(base)) > 0.01 * float(base))


def first_frame(container: av.container.InputContainer, stream: av.video.stream.VideoStream, path: Path):
    """Decode the first frame (None if the stream has no packets at all); failures become a VideoError."""
    packets = 0
    try:
        for packet in container.demux(stream):
            packets += bool(packet.size)
            for frame in packet.decode():
                return frame
    except (av.FFmpegError, EOFError) as exc:
        raise VideoError(
            f"{path.name} is corrupt: its first video frame cannot be decoded ({_reason(exc)})"
        ) from None
    if packets:
        raise VideoError(f"{path.name} is corrupt: none of its {packets} video packets could be decoded")
    return None


def normalise_rotation(degrees: float) -> int:
    """Round a display-matrix angle to 0, 90, 180 or 270 (counter-clockwise)."""
    return int(round(degrees / 90.0)) % 4 * 90


def probe(path: str | Path) -> VideoInfo:
    """Describe the video at `path`, decoding its first frame; raise VideoError if it cannot be ingested."""
    path = Path(path)
    with open_video(path) as (container, stream):
        duration = stream_duration(container, stream)
        fps = stream_fps(stream)
        frame = first_frame(container, stream, path)
        if frame is None:
            raise VideoError(f"{path.name} has zero duration: its video stream holds no frames")
        if duration <= 0:
            raise VideoError(f"{path.name} has zero duration")
        rotation = normalise_rotation(frame.rotation)
        coded_width, coded_height = frame.width, frame.height
        swap = rotation in (90, 270)
        frame_count = stream.frames or int(math.floor(duration * fps + 0.5))
        ctx = stream.codec_context
        return VideoInfo(
            container=container.format.name,
            codec=ctx.name,
            duration=duration,
            fps=fps,
            width=coded_height if swap else coded_width,
            height=coded_width if swap else coded_height,
            rotation=rotation,
            frame_count=int(frame_count),
            has_audio=bool(container.streams.audio),
            variable_frame_rate=_is_variable_rate(stream),
            coded_width=coded_width,
            coded_height=coded_height,
            pix_fmt=frame.format.name,
            bit_rate=int(container.bit_rate or 0),
            size_bytes=path.stat().st_size,
            keyframe_interval=_keyframe_interval(stream, duration),
            profile=ctx.profile or "",
        )
