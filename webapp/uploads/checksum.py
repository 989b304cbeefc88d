"""The sha256 of an upload, computed as its chunks arrive, so that the last PATCH need not reread the file.

hashlib objects cannot be saved between requests, so each process keeps the running hash of the uploads it
is receiving in memory, keyed by session and offset. When the next chunk lands in another process (several
web workers), or after a restart, the chain breaks and the digest is computed from the file at the end.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

MAX_RUNNING = 256  # uploads followed at once per process; the oldest is dropped beyond that

_running: OrderedDict[str, tuple[int, object]] = OrderedDict()
_lock = threading.Lock()


def resume(session_id, offset: int):
    """The running hash of the bytes before `offset`, or None when this process does not have it."""
    with _lock:
        entry = _running.pop(str(session_id), None)
    if entry is not None and entry[0] == offset:
        return entry[1]
    return hashlib.sha256() if offset == 0 else None


def keep(session_id, offset: int, running) -> None:
    if running is None:
        return
    with _lock:
        _running[str(session_id)] = (offset, running)
        while len(_running) > MAX_RUNNING:
            _running.popitem(last=False)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(4 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def final_digest(session_id, length: int, path: Path) -> str:
    """The whole upload's sha256: from the running hash if it covers all `length` bytes, else from the file."""
    with _lock:
        entry = _running.pop(str(session_id), None)
    if entry is not None and entry[0] == length:
        return entry[1].hexdigest()
    return file_sha256(path)


class HashingWriter:
    """A file wrapper that feeds what is written to a running hash (if any)."""

    def __init__(self, out, running):
        self.out, self.running = out, running

    def write(self, block: bytes) -> None:
        self.out.write(block)
        if self.running is not None:
            self.running.update(block)
