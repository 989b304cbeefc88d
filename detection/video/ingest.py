"""Ingest one video in one call: probe, sha256, sampled frames, browser proxy and thumbnails.

The file is decoded once: every decoded frame is offered to the frame sampler, the proxy encoder and the
thumbnail sheets, and the checksum is computed in a thread meanwhile (hashlib releases the GIL), so ingest
costs about one decode plus one 720p encode. A video browsers already play is not re-encoded: its packets are
copied into the proxy first (`remux_proxy`, a read of the file), and the decode then only samples and makes
thumbnails; `proxy_method` says which was done and why. Memory is bounded: frames stream to disk, the proxy
encoder and the thumbnail sheet have fixed sizes. A truncated file keeps what could be decoded and reports a warning.
"""

from __future__ import annotations

import hashlib
import time as clock
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from detection.errors import VideoError
from detection.types import ProgressFn, no_progress
from detection.video.decode import FrameReader, ThrottledProgress
from detection.video.probe import VideoInfo, open_video, probe
from detection.video.proxy import REMUXED, ProxyEncoder, RemuxRefused, re_encoded, remux_proxy, remux_refusal
from detection.video.sampling import FRAMES_FILE, TIMES_FILE, FrameSampler, stop_warning
from detection.video.thumbnails import ThumbnailSet, ThumbnailSheets

PROXY_FILE = "proxy.mp4"
_HASH_BLOCK = 4 * 1024 * 1024
REMUX_SHARE = 0.05  # of the progress bar: copying packets is quick next to decoding


@dataclass(frozen=True)
class IngestResult:
    """What `ingest_video` made: the probed facts, the checksum, the paths it wrote, and any warning."""

    info: VideoInfo
    sha256: str
    frames_path: Path
    times_path: Path
    frame_count: int
    proxy_path: Path | None
    proxy_method: str  # REMUXED or `re_encoded(why)`; "" without a proxy
    thumbnails: ThumbnailSet | None
    warning: str
    seconds: float  # wall-clock time of the ingest

    @property
    def realtime_factor(self) -> float:
        """Video seconds ingested per wall-clock second."""
        return self.info.duration / self.seconds if self.seconds > 0 else 0.0


def sha256_file(path: str | Path, block: int = _HASH_BLOCK) -> str:
    """Hex sha256 of a file, read in blocks (memory stays at one block)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def ingest_video(
    path: str | Path,
    out_dir: str | Path,
    *,
    fps: float = 2.0,
    size: tuple[int, int] | None = (124, 124),
    proxy: bool = True,
    thumbnails: bool = True,
    proxy_max_height: int = 720,
    proxy_preset: str = "veryfast",
    remux: bool = True,
    threads: int = 0,
    progress: ProgressFn = no_progress,
) -> IngestResult:
    """Ingest `path` into `out_dir`: `frames.npy`, `timestamps.npy`, `proxy.mp4`, `poster.jpg`, sprite sheets
    and `thumbnails.vtt`. Raises VideoError for a file that cannot be used; a truncated one is ingested as far
    as it decodes, with `warning` saying where it stopped. `progress` gets (fraction, stage). With `remux`, a
    browser-playable H.264 video's proxy is its packets copied (see the module docstring)."""
    started = clock.perf_counter()
    path, out_dir = Path(path), Path(out_dir)
    report = ThrottledProgress(progress)
    report(0.0, "probing")
    info = probe(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    proxy_path, proxy_method = None, ""
    if proxy:
        proxy_path, proxy_method = _remuxed_proxy(path, info, out_dir / PROXY_FILE, remux, report)
    encode = proxy and proxy_path is None
    low = REMUX_SHARE if proxy_path is not None else 0.0  # of the progress bar, before decoding starts
    stage = "decoding, sampling and making the proxy" if encode else "decoding and sampling"
    with ThreadPoolExecutor(max_workers=1) as pool:
        checksum = pool.submit(sha256_file, path)
        with open_video(path) as (container, stream):
            reader = FrameReader(container, stream, threads=threads)
            sampler = FrameSampler(fps=fps, size=size, out_dir=out_dir)
            encoder = ProxyEncoder(
                stream, out_dir / PROXY_FILE, max_height=proxy_max_height, preset=proxy_preset
            )
            sheets = ThumbnailSheets(out_dir, duration=info.duration) if thumbnails else None
            last_frame = None
            try:
                for time, frame in reader:
                    sampler.offer(time, frame)
                    if encode:
                        encoder.offer(time, frame)
                    if sheets is not None:
                        sheets.offer(time, frame)
                    last_frame = frame
                    report(low + (0.99 - low) * min(1.0, time / info.duration), stage)
            except BaseException:
                sampler.abort()
                encoder.abort()
                _discard(proxy_path)
                raise
            warning = stop_warning(reader, duration=info.duration, end=None)
            if not sampler.times:
                sampler.abort()
                encoder.abort()
                _discard(proxy_path)
                raise VideoError(
                    f"{path.name} is corrupt: no video frame could be decoded. {warning}".strip()
                )
            sampled = sampler.finish(source_fps=info.fps, warning=warning)
            if encode:
                proxy_path = encoder.close()
            thumbs = sheets.close(last_frame) if sheets is not None else None
        digest = checksum.result()
    report(1.0, "done")
    return IngestResult(
        info=info,
        sha256=digest,
        frames_path=out_dir / FRAMES_FILE,
        times_path=out_dir / TIMES_FILE,
        frame_count=len(sampled.times),
        proxy_path=proxy_path,
        proxy_method=proxy_method,
        thumbnails=thumbs,
        warning=warning,
        seconds=clock.perf_counter() - started,
    )


def _remuxed_proxy(path: Path, info, out_path: Path, remux: bool, report) -> tuple[Path | None, str]:
    """(the remuxed proxy, REMUXED) when the video allows it, else (None, `re_encoded(why not)`)."""
    reason = remux_refusal(info) if remux else "remuxing was turned off"
    if not reason:
        try:
            remux_proxy(path, out_path, progress=lambda fraction, stage: report(REMUX_SHARE * fraction, stage))
            return out_path, REMUXED
        except RemuxRefused as exc:
            reason = str(exc)
    return None, re_encoded(reason)


def _discard(proxy_path: Path | None) -> None:
    """Delete a remuxed proxy when the ingest it was made for fails."""
    if proxy_path is not None:
        proxy_path.unlink(missing_ok=True)
