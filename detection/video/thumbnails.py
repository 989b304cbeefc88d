"""Poster and timeline thumbnails for scrubbing: JPEG sprite sheets indexed by a WebVTT file.

`thumbnails.vtt` has one cue per thumbnail whose text is `sheet.jpg#xywh=x,y,w,h` (the de-facto format of
video.js, Plyr and JW Player). Thumbnails are taken every `interval` seconds by the same timestamp rule as
sampling; a sheet holds columns x rows thumbnails and is written as soon as it is full, so memory stays at
one sheet however long the video.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image

from detection.atomic_files import replacing, write_text
from detection.errors import VideoError
from detection.types import ProgressFn, no_progress
from detection.video.decode import FrameReader
from detection.video.probe import open_video, stream_duration
from detection.video.proxy import proxy_size
from detection.video.sampling import TimestampSelector, frame_to_rgb, use_keyframes

POSTER_FILE = "poster.jpg"
VTT_FILE = "thumbnails.vtt"


@dataclass(frozen=True)
class ThumbnailSet:
    """What `make_thumbnails` wrote: the poster, the WebVTT index and its sprite sheets."""

    poster: Path
    vtt: Path
    sheets: tuple[Path, ...]
    count: int
    interval: float


def default_poster_time(duration: float) -> float:
    """When the poster is taken (seconds): a tenth into the video, at most 10 s (past a take-off's first seconds);
    a mask drawn on the poster is fixed to the ground through the pose at this time."""
    return min(duration * 0.1, 10.0)


def default_interval(duration: float) -> float:
    """One thumbnail per ~1% of the video, but at least one a second and at most ten seconds apart."""
    return min(10.0, max(1.0, duration / 100.0))


def _vtt_time(seconds: float) -> str:
    millis = int(round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours:02d}:{minutes:02d}:{millis // 1000:02d}.{millis % 1000:03d}"


def _save_jpeg(image: np.ndarray, path: Path, quality: int = 85) -> Path:
    with replacing(path) as staging:
        Image.fromarray(image).save(staging, format="JPEG", quality=quality)
    return path


class ThumbnailSheets:
    """Collect thumbnails (and the poster) from frames offered in order; `close` writes sheets and the VTT."""

    def __init__(
        self,
        out_dir: Path,
        *,
        duration: float,
        interval: float | None = None,
        width: int = 160,
        columns: int = 10,
        rows: int = 10,
        poster_time: float | None = None,
        poster_max_height: int = 720,
    ):
        self.out_dir, self.duration = Path(out_dir), duration
        self.interval = interval or default_interval(duration)
        self.width, self.columns, self.rows = width, columns, rows
        self.poster_time = default_poster_time(duration) if poster_time is None else poster_time
        self.poster_max_height = poster_max_height
        self.selector = TimestampSelector(1.0 / self.interval)
        self.cues: list[tuple[float, str, int, int]] = []
        self.sheets: list[Path] = []
        self.thumb_size: tuple[int, int] | None = None
        self.poster: Path | None = None
        self._sheet: np.ndarray | None = None
        self._in_sheet = 0

    def _thumb_size(self, frame: av.VideoFrame) -> tuple[int, int]:
        turned = round(frame.rotation / 90) % 2
        width, height = (frame.height, frame.width) if turned else (frame.width, frame.height)
        return self.width // 2 * 2, max(2, int(round(self.width * height / width)) // 2 * 2)

    def offer(self, time: float, frame: av.VideoFrame) -> None:
        """Look at the next decoded frame: it may become the poster and/or a thumbnail."""
        if self.poster is None and time + 1e-4 >= self.poster_time:
            self._write_poster(frame)
        if not self.selector.keep(time):
            return
        if self.thumb_size is None:
            self.thumb_size = self._thumb_size(frame)
        width, height = self.thumb_size
        if self._sheet is None:
            self._sheet = np.zeros((self.rows * height, self.columns * width, 3), np.uint8)
        row, column = divmod(self._in_sheet, self.columns)
        x, y = column * width, row * height
        self._sheet[y : y + height, x : x + width] = frame_to_rgb(frame, self.thumb_size)
        self.cues.append((time, f"thumbnails_{len(self.sheets):03d}.jpg", x, y))
        self._in_sheet += 1
        if self._in_sheet == self.columns * self.rows:
            self._flush_sheet()

    def _write_poster(self, frame: av.VideoFrame) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        turned = round(frame.rotation / 90) % 2
        display = (frame.height, frame.width) if turned else (frame.width, frame.height)
        image = frame_to_rgb(frame, proxy_size(*display, self.poster_max_height))
        self.poster = _save_jpeg(image, self.out_dir / POSTER_FILE)

    def _flush_sheet(self) -> None:
        if self._sheet is None or not self._in_sheet:
            return
        width, height = self.thumb_size
        used_rows = (self._in_sheet + self.columns - 1) // self.columns
        used_columns = self.columns if used_rows > 1 else self._in_sheet
        image = self._sheet[: used_rows * height, : used_columns * width]
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.sheets.append(_save_jpeg(image, self.out_dir / f"thumbnails_{len(self.sheets):03d}.jpg"))
        self._sheet, self._in_sheet = None, 0

    def close(self, last_frame: av.VideoFrame | None = None) -> ThumbnailSet:
        """Write the last sheet and `thumbnails.vtt`; a video shorter than poster_time gets `last_frame` as poster."""
        if self.poster is None and last_frame is not None:
            self._write_poster(last_frame)
        if self.poster is None or not self.cues:
            raise VideoError("no video frame could be decoded for the thumbnails")
        self._flush_sheet()
        width, height = self.thumb_size
        lines = ["WEBVTT", ""]
        ends = [time for time, *_ in self.cues[1:]] + [max(self.duration, self.cues[-1][0] + self.interval)]
        for (time, sheet, x, y), end in zip(self.cues, ends):
            lines += [f"{_vtt_time(time)} --> {_vtt_time(end)}", f"{sheet}#xywh={x},{y},{width},{height}", ""]
        vtt = self.out_dir / VTT_FILE
        write_text(vtt, "\n".join(lines))
        return ThumbnailSet(self.poster, vtt, tuple(self.sheets), len(self.cues), self.interval)


def make_thumbnails(
    path: str | Path,
    out_dir: str | Path,
    *,
    interval: float | None = None,
    width: int = 160,
    columns: int = 10,
    rows: int = 10,
    threads: int = 0,
    progress: ProgressFn = no_progress,
) -> ThumbnailSet:
    """Write `poster.jpg`, sprite sheets `thumbnails_NNN.jpg` and `thumbnails.vtt` for `path` into `out_dir`.

    One thumbnail every `interval` seconds (default: `default_interval(duration)`), `width` pixels wide.
    Decodes keyframes only when they are at least as frequent as the thumbnails.
    """
    path = Path(path)
    with open_video(path) as (container, stream):
        duration = stream_duration(container, stream)
        sheets = ThumbnailSheets(
            Path(out_dir), duration=duration, interval=interval, width=width, columns=columns, rows=rows
        )
        keyframes_only = use_keyframes(stream, 1.0 / sheets.interval, "auto")
        last = None
        for time, frame in FrameReader(container, stream, keyframes_only=keyframes_only, threads=threads):
            sheets.offer(time, frame)
            last = frame
            progress(min(1.0, time / max(duration, 1e-9)), "making thumbnails")
        result = sheets.close(last)
    progress(1.0, "making thumbnails")
    return result
