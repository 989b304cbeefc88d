"""A real FFmpeg publisher for live-stream tests: `ffmpeg -re` sends a file as a live feed."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
from pathlib import Path

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def publish(source: Path, url: str, *, fmt: str = "mpegts", listen: bool = False, loops: int = 0) -> subprocess.Popen:
    """Start FFmpeg sending `source` in real time (`-re`, packets copied) to `url` in `fmt`; with `listen`, FFmpeg
    waits for the reader to connect (tcp `?listen`, rtmp `-listen 1`). `loops` repeats the file."""
    command = [FFMPEG, "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", str(loops), "-i", str(source),
               "-c", "copy", "-f", fmt]
    if listen and url.startswith("rtmp"):
        command += ["-listen", "1"]
    elif listen:
        url += "?listen=1"
    return subprocess.Popen([*command, url], stdin=subprocess.DEVNULL)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
