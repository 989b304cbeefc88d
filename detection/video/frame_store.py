"""Stream frames into a `.npy` file without holding them, and publish files atomically.

`FrameArrayWriter` appends frames with plain writes (no memory map while writing: pages of a written map would
count in the process's resident memory and grow with the video) and writes the final shape into a fixed-size
header at the end, so the file is a standard `.npy` that `np.load(..., mmap_mode="r")` maps.
Everything is written under a temporary name and moved into place with `os.replace`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from detection.atomic_files import replacing, temporary_name

_HEADER_BYTES = 128  # fixed, so the real frame count can be written over the placeholder at the end


def _npy_header(shape: tuple[int, ...]) -> bytes:
    text = f"{{'descr': '|u1', 'fortran_order': False, 'shape': {shape!r}, }}"
    magic = b"\x93NUMPY\x01\x00"
    room = _HEADER_BYTES - len(magic) - 2
    body = text.ljust(room - 1).encode("latin1") + b"\n"
    if len(body) != room:
        raise ValueError(f"frame shape {shape} does not fit a {_HEADER_BYTES}-byte .npy header")
    return magic + len(body).to_bytes(2, "little") + body


class FrameArrayWriter:
    """Write (N, H, W, C) uint8 frames one at a time to `path` (a `.npy`), appearing there only on `close()`."""

    def __init__(self, path: Path, frame_shape: tuple[int, ...]):
        self.path = Path(path)
        self.frame_shape = tuple(int(side) for side in frame_shape)
        self.count = 0
        self._temporary = temporary_name(self.path)
        self._file = self._temporary.open("wb")
        self._file.write(_npy_header((0, *self.frame_shape)))

    def append(self, frame: np.ndarray) -> None:
        """Write one (H, W, C) uint8 frame after the previous ones."""
        if frame.shape != self.frame_shape or frame.dtype != np.uint8:
            raise ValueError(f"frame of shape {frame.shape} {frame.dtype}, expected {self.frame_shape} uint8")
        self._file.write(np.ascontiguousarray(frame).data)
        self.count += 1

    def close(self) -> Path:
        """Write the final header and move the file into place; returns its path."""
        self._file.seek(0)
        self._file.write(_npy_header((self.count, *self.frame_shape)))
        self._file.close()
        os.replace(self._temporary, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the partial file."""
        self._file.close()
        self._temporary.unlink(missing_ok=True)


def save_array_atomically(path: Path, array: np.ndarray) -> Path:
    """`np.save` under a temporary name, then moved onto `path` (`detection.atomic_files`)."""
    path = Path(path)
    with replacing(path) as staging, staging.open("wb") as handle:
        np.save(handle, array)
    return path


def load_frames(path: Path) -> np.ndarray:
    """Map a frames `.npy` read-only (an empty one is loaded plainly: an empty file cannot be mapped)."""
    try:
        return np.load(path, mmap_mode="r")
    except ValueError:
        return np.load(path)
