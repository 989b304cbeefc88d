"""A relay through the system's FFmpeg, for stream protocols that PyAV's own FFmpeg was built without.

PyAV's wheels bundle an FFmpeg without SRT (`av.open("srt://...")` raises ProtocolNotFoundError), while Debian's
`ffmpeg` has it. For such a URL the live reader runs `ffmpeg -i <url> -map 0:v:0 -c copy -f nut pipe:1` (packets
copied, never re-encoded) and PyAV demuxes the relay's output from the pipe. One relay process is one connection:
when the publisher goes, the relay's FFmpeg ends, PyAV sees the end of its input, and the reader reconnects with
a new relay. Reading the pipe through `Relay.read` (not a file descriptor FFmpeg reads by itself) keeps the
reader's clocks: the first byte must come within the open timeout (nothing connected: a clear error), later
bytes within the read timeout (a publisher gone silent: a gap), and `stop()` ends a read at once.

The relay dies with the thread that started it (Linux's parent-death signal, set by util-linux's `setpriv` before
it runs FFmpeg), so a worker that is killed leaves no FFmpeg listening on its port; the reader kills it on stop and
at the end of each connection. The signal is not set by Python code in the forked child (`preexec_fn`): that
child of a many-threaded process runs Python's after-fork cleanup, which can wait forever on a lock some other
thread held at the fork (seen: PyAV's thread-local frame converter freed there), and the relay never started.
"""

from __future__ import annotations

import collections
import functools
import os
import select
import shutil
import subprocess
import sys
import threading
import time

import av

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
# NUT, not MPEG-TS, between the relay and PyAV: MPEG-TS carries a video frame in a PES of no stated length, so
# its demuxer holds each frame until the next one starts, and a second MPEG-TS hop would add a frame interval
# (measured: about 0.1 s more latency than NUT at 25 fps). The packets are copied either way.
RELAY_FORMAT = "nut"
RELAYED_OPTIONS = {"analyzeduration", "probesize"}  # what PyAV's demuxer of the relay's output also takes


class MissingProtocol(Exception):
    """Neither PyAV's FFmpeg nor the system's has the URL's protocol."""


def scheme_of(url: str) -> str:
    return url.split(":", 1)[0].lower()


@functools.cache
def system_protocols(ffmpeg: str = FFMPEG) -> frozenset[str]:
    """The input protocols of the system's FFmpeg (`ffmpeg -protocols`); empty when there is no such program."""
    try:
        listing = subprocess.run([ffmpeg, "-hide_banner", "-protocols"], capture_output=True, text=True,
                                 timeout=20, stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    inputs = listing.split("Input:", 1)[-1].split("Output:", 1)[0] if "Input:" in listing else ""
    return frozenset(inputs.split())


def relay_protocol(url: str, ffmpeg: str = FFMPEG) -> str:
    """The URL's protocol, which PyAV lacks, if the system's FFmpeg can relay it; MissingProtocol otherwise."""
    scheme = scheme_of(url)
    if scheme not in system_protocols(ffmpeg):
        found = "not found" if not shutil.which(ffmpeg) else "built without it too"
        raise MissingProtocol(f"the protocol {scheme!r} is not in PyAV's FFmpeg, and the system's FFmpeg "
                              f"({ffmpeg}) is {found}: install an FFmpeg with {scheme} (Debian's `ffmpeg` "
                              "package has SRT) or use another protocol")
    return scheme


# runs the relay with the parent-death signal set (util-linux, on every Debian); without it a killed worker's relay
# lives on until its connection ends
SETPRIV = shutil.which("setpriv") if sys.platform.startswith("linux") else None
DIE_WITH_PARENT = [SETPRIV, "--pdeathsig", "KILL", "--"] if SETPRIV else []


class Relay:
    """One connection of `url` through the system's FFmpeg; PyAV reads it as a file (`read`)."""

    def __init__(self, url: str, options: dict, *, listen: bool, safe_url: str, ffmpeg: str = FFMPEG):
        self.url, self.safe_url, self.ffmpeg = url, safe_url, ffmpeg
        self.options = {key: value for key, value in options.items() if key != "listen"}
        if listen:  # FFmpeg's SRT listens with mode=listener; its other protocols with listen=1
            self.options.update({"mode": "listener"} if scheme_of(url) == "srt" else {"listen": "1"})
        self.process: subprocess.Popen | None = None
        self.errors: collections.deque[str] = collections.deque(maxlen=6)  # the relay's last error lines
        self.received = 0  # bytes read from the relay
        self.why = ""  # why the relay's output ended, when it did
        self._deadline = 0.0
        self._open_timeout = self._read_timeout = 0.0
        self._log: threading.Thread | None = None
        self._stopping: threading.Event | None = None

    def command(self) -> list[str]:
        options = [item for key, value in self.options.items() for item in (f"-{key}", str(value))]
        return [self.ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", *options, "-i", self.url,
                "-map", "0:v:0", "-c", "copy", "-flush_packets", "1", "-f", RELAY_FORMAT, "pipe:1"]

    def open(self, *, open_timeout: float, read_timeout: float, stopping: threading.Event):
        """Start the relay and open its output with PyAV (an av container); OSError, the relay killed, when
        nothing arrives within `open_timeout` seconds or the relay fails."""
        self._stopping, self._open_timeout, self._read_timeout = stopping, open_timeout, read_timeout
        self._deadline = time.monotonic() + open_timeout
        self.process = subprocess.Popen([*DIE_WITH_PARENT, *self.command()], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._log = threading.Thread(target=self._keep_errors, name=f"relay-log {self.safe_url}", daemon=True)
        self._log.start()
        probe = {key: value for key, value in self.options.items() if key in RELAYED_OPTIONS}
        try:
            return av.open(self, format=RELAY_FORMAT, options=probe)
        except av.FFmpegError as exc:
            self.release()
            raise OSError(self.why or f"the relay's output did not open: {exc}") from None
        except BaseException:
            self.release()
            raise

    def read(self, size: int) -> bytes:
        """Up to `size` bytes of the relay's output; b"" (the end, `why` says why) when the relay ended, was
        stopped, or sent nothing within its timeout (the relay is killed then)."""
        fd = self.process.stdout.fileno()
        # poll, not select: select() refuses a descriptor numbered 1024 or more, which a long-lived worker
        # process holding many files reaches (the relay then failed with "filedescriptor out of range")
        waiting = select.poll()
        waiting.register(fd, select.POLLIN)
        while True:
            if self._stopping.is_set():
                return self._end("stopped")
            left = self._deadline - time.monotonic()
            if left <= 0:
                waited = "nothing arrived" if not self.received else "no data"
                return self._end(f"{waited} within {self._timeout():g} s")
            if waiting.poll(min(left, 0.1) * 1000):  # readable, or the relay's end of the pipe closed
                data = os.read(fd, size)
                if not data:
                    return self._end(self._exit_message())
                self.received += len(data)
                self._deadline = time.monotonic() + self._read_timeout
                return data

    def close(self) -> None:
        """Kill the relay and wait for it (safe to call twice, and from another thread than the reader's)."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a killed process that does not die
            pass

    def release(self) -> None:
        """Close the relay and its pipes (the reader's thread, after its container is closed)."""
        self.close()
        if self.process is not None:
            self._log.join(2)  # it reads the relay's stderr to its end, then closes it
            self.process.stdout.close()

    def _timeout(self) -> float:
        return self._read_timeout if self.received else self._open_timeout

    def _end(self, why: str) -> bytes:
        self.why = self.why or why
        self.close()
        return b""

    def _exit_message(self) -> str:
        try:
            code = self.process.wait(2)
        except subprocess.TimeoutExpired:
            code = None
        self._log.join(1)  # the relay's last error lines
        said = "; ".join(self.errors).replace(self.url, self.safe_url)
        ended = "ended" if code == 0 else f"failed (exit status {code})"
        return f"the system's FFmpeg relaying it {ended}" + (f": {said}" if said else "")

    def _keep_errors(self) -> None:
        with self.process.stderr as stderr:
            for line in stderr:
                line = line.decode(errors="replace").strip()
                if line:
                    self.errors.append(line)
