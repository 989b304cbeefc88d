"""Small real media files the video tests need beyond `make_video`: audio-only, with audio, VFR, no frames."""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from tests.support.videos import scene_frame


def _write_tone(container: av.container.OutputContainer, stream, seconds: float, rate: int = 16000) -> None:
    samples = (np.sin(np.arange(int(seconds * rate)) / 10.0) * 0.3).astype(np.float32)[None, :]
    for start in range(0, samples.shape[1], 1024):
        frame = av.AudioFrame.from_ndarray(samples[:, start : start + 1024], format="fltp", layout="mono")
        frame.sample_rate, frame.pts = rate, start
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def write_audio_only(path: Path, seconds: float = 1.0) -> Path:
    """An AAC-only MP4 (a voice memo named like a video)."""
    with av.open(str(path), "w") as container:
        _write_tone(container, container.add_stream("aac", rate=16000), seconds)
    return path


def write_video_with_audio(path: Path, *, seconds: float = 1.0, fps: int = 10) -> Path:
    """H.264 video plus an AAC track."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = container.add_stream("aac", rate=16000)
        for index in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(scene_frame(index, 64, 48), format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        _write_tone(container, audio, seconds)
    return path


def write_vfr_video(path: Path, times_ms: list[int]) -> Path:
    """H.264 with frames at exactly these times (milliseconds): a variable frame rate."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for index, pts in enumerate(times_ms):
            frame = av.VideoFrame.from_ndarray(scene_frame(index, 64, 48), format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def write_video_without_frames(path: Path) -> Path:
    """A Matroska file declaring a video stream with not one frame in it (its audio track has the time)."""
    with av.open(str(path), "w", format="matroska") as container:
        video = container.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        _write_tone(container, container.add_stream("aac", rate=16000), 1.0)
        container.mux(video.encode(None))
    return path


def cut(path: Path, out: Path, fraction: float) -> Path:
    """Keep only the first `fraction` of the bytes of `path`, as an interrupted upload would."""
    data = path.read_bytes()
    out.write_bytes(data[: int(len(data) * fraction)])
    return out


def top_level_boxes(path: Path) -> list[str]:
    """The order of an MP4's top-level boxes (ftyp, moov, mdat, ...)."""
    data, boxes, offset = path.read_bytes(), [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        boxes.append(data[offset + 4 : offset + 8].decode("latin1"))
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        if size < 8:
            break
        offset += size
    return boxes


def run_video_cli(argv: list[str]) -> int:
    """Run the video subcommands as `python -m detection` does, without importing the other (torch) commands."""
    from detection.video.cli import register

    parser = argparse.ArgumentParser(prog="python -m detection")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)
