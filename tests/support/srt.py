"""SRT in tests: whether the reader relays it (PyAV's own FFmpeg has no SRT) and which relays are running."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from detection.live.relay import system_protocols
from tests.support.publish import free_port


def pyav_has(scheme: str) -> bool:
    """Whether PyAV's own FFmpeg has the protocol (it fails at once on a port nothing listens on otherwise)."""
    try:
        av.open(f"{scheme}://127.0.0.1:{free_port()}", timeout=0.5).close()
    except av.error.ProtocolNotFoundError:
        return False
    except (av.FFmpegError, OSError):
        pass
    return True


RELAYED = not pyav_has("srt")
needs_srt = pytest.mark.skipif(RELAYED and "srt" not in system_protocols(),
                               reason="neither PyAV's FFmpeg nor the system's has SRT (Debian's ffmpeg has)")
needs_relay = pytest.mark.skipif(not RELAYED, reason="PyAV's FFmpeg reads SRT itself: no relay runs")


def relays(port: int) -> list[int]:
    """The running relays (FFmpeg reading srt://...:port into its pipe) by process id, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0") if entry.name.isdigit() else []
        except OSError:
            continue
        if b"pipe:1" in command and any(arg.startswith(b"srt://") and f":{port}".encode() in arg for arg in command):
            found.append(int(entry.name))
    return found
