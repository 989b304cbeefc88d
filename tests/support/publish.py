"""A real FFmpeg publisher for live-stream tests: `ffmpeg -re` sends a file as a live feed; and a small HTTP
server for the HLS playlists FFmpeg writes into a folder (`serve_folder`)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def publish(source: Path, url: str, *, fmt: str = "mpegts", listen: bool = False, loops: int = 0,
            options: tuple[str, ...] = ()) -> subprocess.Popen:
    """Start FFmpeg sending `source` in real time (`-re`, packets copied) to `url` in `fmt` with the muxer's
    `options`; with `listen`, FFmpeg waits for the reader to connect (tcp `?listen`, rtmp `-listen 1`). `loops`
    repeats the file."""
    command = [FFMPEG, "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", str(loops), "-i", str(source),
               "-c", "copy", "-f", fmt, *options]
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


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@contextlib.contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve `folder` over HTTP on 127.0.0.1 from a thread while the block runs; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
