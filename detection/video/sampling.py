"""Sample frames at a target rate, chosen by timestamp, resized by libswscale, streamed to disk.

The rule, which makes one pass and any split into time ranges agree: frame k of the output is the first
decoded frame whose timestamp is at or after k / fps seconds (times counted from the stream's first
timestamp). A frame is kept when the grid point it reaches is newer than its predecessor's, so each kept
frame depends only on its own time and the previous frame's. Only kept frames are converted
(`VideoFrame.reformat` to RGB at the asked size), and rotation metadata is applied to them.
"""

from __future__ import annotations

import math
from pathlib import Path

import av
import numpy as np

from detection.errors import VideoError
from detection.types import ProgressFn, SampledFrames, no_progress
from detection.video.decode import FrameReader
from detection.video.frame_store import FrameArrayWriter, load_frames, save_array_atomically
from detection.video.probe import keyframe_times, normalise_rotation, open_video, stream_duration, stream_fps

FRAMES_FILE = "frames.npy"
TIMES_FILE = "timestamps.npy"
_GRID_TOLERANCE = 1e-4  # seconds: a frame this close before a grid point counts as on it (float rounding)


class TimestampSelector:
    """Decide, frame by frame, which frames a `fps` sampling keeps (see the module docstring)."""

    def __init__(self, fps: float):
        if not fps > 0:
            raise ValueError(f"sampling rate must be positive, got {fps}")
        self.fps = fps
        self.previous_slot = -1

    def keep(self, time: float) -> bool:
        """Whether the frame at `time` (seconds, frames in order) is kept."""
        slot = math.floor((time + _GRID_TOLERANCE) * self.fps)
        kept = slot > self.previous_slot
        self.previous_slot = max(self.previous_slot, slot)
        return kept


def frame_to_rgb(
    frame: av.VideoFrame, size: tuple[int, int] | None, *, interpolation: str = "AREA", pix_fmt: str = "rgb24"
) -> np.ndarray:
    """One decoded frame as an (H, W, 3) uint8 array as displayed: rotated per its metadata, resized to
    `size` = (width, height) of the displayed picture (None: native size)."""
    turns = normalise_rotation(frame.rotation) // 90
    if size is None:
        width, height = frame.width, frame.height
    else:
        width, height = (size[1], size[0]) if turns % 2 else size
    image = frame.reformat(
        width=width, height=height, format=pix_fmt, interpolation=interpolation
    ).to_ndarray()
    return np.ascontiguousarray(np.rot90(image, k=turns)) if turns else image


class FrameSampler:
    """Collects the frames a sampling keeps: into `out_dir` as `.npy` files, or in memory when out_dir is None."""

    def __init__(
        self,
        *,
        fps: float,
        size: tuple[int, int] | None,
        out_dir: Path | None = None,
        start: float | None = None,
        interpolation: str = "AREA",
        pix_fmt: str = "rgb24",
    ):
        self.selector = TimestampSelector(fps)
        self.size, self.start = size, start
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.interpolation, self.pix_fmt = interpolation, pix_fmt
        self.times: list[float] = []
        self._in_memory: list[np.ndarray] = []
        self._writer: FrameArrayWriter | None = None

    def offer(self, time: float, frame: av.VideoFrame) -> bool:
        """Look at the next decoded frame; convert and store it if the sampling keeps it."""
        if not self.selector.keep(time) or (self.start is not None and time < self.start):
            return False
        image = frame_to_rgb(frame, self.size, interpolation=self.interpolation, pix_fmt=self.pix_fmt)
        if self.out_dir is None:
            self._in_memory.append(image)
        else:
            if self._writer is None:
                self.out_dir.mkdir(parents=True, exist_ok=True)
                self._writer = FrameArrayWriter(self.out_dir / FRAMES_FILE, image.shape)
            self._writer.append(image)
        self.times.append(time)
        return True

    def _empty_shape(self) -> tuple[int, int, int, int]:
        width, height = self.size or (0, 0)
        return (0, height, width, 3)

    def finish(self, *, source_fps: float, warning: str = "") -> SampledFrames:
        """Close the output and return the frames (memory maps when written to disk)."""
        times = np.asarray(self.times, dtype=np.float64)
        if self.out_dir is None:
            frames = np.stack(self._in_memory) if self._in_memory else np.zeros(self._empty_shape(), np.uint8)
            return SampledFrames(frames=frames, times=times, source_fps=source_fps, warning=warning)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if self._writer is None:
            self._writer = FrameArrayWriter(self.out_dir / FRAMES_FILE, self._empty_shape()[1:])
        frames_path = self._writer.close()
        times_path = save_array_atomically(self.out_dir / TIMES_FILE, times)
        return SampledFrames(
            frames=load_frames(frames_path),
            times=np.load(times_path, mmap_mode="r") if len(times) else times,
            source_fps=source_fps,
            warning=warning,
        )

    def abort(self) -> None:
        """Drop the unfinished frames file."""
        if self._writer is not None:
            self._writer.abort()


def use_keyframes(stream: av.video.stream.VideoStream, fps: float, keyframes: str | bool) -> bool:
    """Keyframe-only decoding when forced, or with "auto" when the index shows a keyframe at least every 1/fps s."""
    if keyframes is True or keyframes is False:
        return keyframes
    if keyframes != "auto":
        raise ValueError(f"keyframes must be True, False or 'auto', got {keyframes!r}")
    points = sorted(keyframe_times(stream))
    if len(points) < 2:
        return False
    longest_gap = max(later - earlier for earlier, later in zip(points, points[1:]))
    return longest_gap <= 1.0 / fps + 1e-3


def stop_warning(reader: FrameReader, *, duration: float, end: float | None) -> str:
    """A warning saying where decoding stopped (truncated data) or what was skipped (damage); "" if clean."""
    expected_end = duration if end is None else min(end, duration)
    frame_period = 1.0 / float(reader.stream.average_rate or 30)
    detail = f" ({reader.error})" if reader.error else ""
    if expected_end - reader.demuxed_until > max(0.5, 3 * frame_period):
        stopped = reader.last_time if reader.last_time is not None else 0.0
        return (
            f"decoding stopped at {stopped:.2f} s of {duration:.2f} s: the file is truncated or corrupt after "
            f"that point, so only the frames before it were kept{detail}"
        )
    if reader.damaged_packets:
        return (
            f"the video data is damaged: {reader.damaged_packets} packet(s) could not be decoded, the first "
            f"near {reader.first_damage:.2f} s; frames there may be missing or smeared{detail}"
        )
    if reader.error:
        return f"decoding ended with an error at {reader.last_time or 0.0:.2f} s{detail}"
    return ""


def sample_frames(
    path: str | Path,
    *,
    fps: float = 2.0,
    size: tuple[int, int] | None = (124, 124),
    out_dir: str | Path | None = None,
    start: float | None = None,
    end: float | None = None,
    keyframes: str | bool = "auto",
    threads: int = 0,
    interpolation: str = "AREA",
    progress: ProgressFn = no_progress,
) -> SampledFrames:
    """Sample `fps` frames per second of video time from `path` as RGB uint8 of `size` = (width, height).

    Frames are chosen by timestamp (see the module docstring) within [start, end) seconds. With `out_dir`,
    frames stream to `out_dir/frames.npy` and times to `out_dir/timestamps.npy` (both moved into place when
    complete) and come back memory-mapped, so memory does not grow with the video's length. `keyframes`:
    True decodes keyframes only (fast; times are the keyframes'), "auto" does so when keyframes are at least
    as frequent as `fps`. `threads`=0 lets the decoder use a thread per core. A truncated or corrupt file keeps
    the frames decoded before the damage and says where it stopped in `warning`.
    """
    path = Path(path)
    with open_video(path) as (container, stream):
        duration = stream_duration(container, stream)
        keyframes_only = use_keyframes(stream, fps, keyframes)
        reader = FrameReader(container, stream, start=start, keyframes_only=keyframes_only, threads=threads)
        sampler = FrameSampler(
            fps=fps,
            size=size,
            out_dir=Path(out_dir) if out_dir else None,
            start=start,
            interpolation=interpolation,
        )
        first, span = start or 0.0, max((end or duration) - (start or 0.0), 1e-9)
        try:
            for time, frame in reader:
                if end is not None and time >= end:
                    break
                if sampler.offer(time, frame):
                    progress(min(1.0, max(0.0, (time - first) / span)), "sampling frames")
        except BaseException:
            sampler.abort()
            raise
        warning = stop_warning(reader, duration=duration, end=end)
        if not sampler.times and start is None and end is None:
            sampler.abort()
            raise VideoError(
                f"{path.name} is corrupt: no video frame could be decoded{warning and ': ' + warning}"
            )
        progress(1.0, "sampling frames")
        return sampler.finish(source_fps=stream_fps(stream), warning=warning)
