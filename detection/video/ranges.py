"""Cut a long video into time ranges decoded in parallel, and join the pieces in order.

Each piece is `sample_frames(path, start=a, end=b, ...)` in its own process (a Celery group of `cpu` tasks);
because sampling keeps a frame by its own timestamp and its predecessor's (the decoder seeks to a keyframe
before `a`), the joined pieces hold exactly the frames of one pass. `join_samples` joins in memory;
`join_sample_dirs` streams piece directories into one `frames.npy`/`timestamps.npy` with bounded memory.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from detection.types import SampledFrames
from detection.video.frame_store import FrameArrayWriter, load_frames, save_array_atomically
from detection.video.sampling import FRAMES_FILE, TIMES_FILE

_ROWS_PER_COPY = 256  # frames copied at a time when joining files


def split_ranges(duration: float, pieces: int) -> list[tuple[float, float | None]]:
    """`pieces` consecutive [start, end) ranges covering 0..duration; the last one's end is None (to the end),
    so frames whose timestamps run past the nominal duration are not lost."""
    if pieces < 1:
        raise ValueError(f"pieces must be at least 1, got {pieces}")
    if not duration > 0:
        raise ValueError(f"duration must be positive, got {duration}")
    bounds = [duration * index / pieces for index in range(pieces + 1)]
    ranges: list[tuple[float, float | None]] = list(zip(bounds[:-1], bounds[1:]))
    ranges[-1] = (ranges[-1][0], None)
    return ranges


def _check_order(times: list[np.ndarray]) -> None:
    previous = -np.inf
    for index, piece in enumerate(times):
        if len(piece) and piece[0] <= previous:
            raise ValueError(
                f"piece {index} starts at {piece[0]:.3f} s, not after the previous piece's last frame"
            )
        if len(piece):
            previous = piece[-1]


def _join_warning(pieces: list[SampledFrames]) -> str:
    return "; ".join(piece.warning for piece in pieces if piece.warning)


def join_samples(pieces: list[SampledFrames]) -> SampledFrames:
    """Concatenate pieces sampled from consecutive ranges (in order) into one in-memory SampledFrames."""
    if not pieces:
        raise ValueError("nothing to join")
    _check_order([np.asarray(piece.times) for piece in pieces])
    shaped = [piece.frames for piece in pieces if len(piece.frames)] or [pieces[0].frames]
    return SampledFrames(
        frames=np.concatenate(shaped),
        times=np.concatenate([np.asarray(piece.times) for piece in pieces]),
        source_fps=pieces[0].source_fps,
        warning=_join_warning(pieces),
    )


def join_sample_dirs(piece_dirs: list[Path], out_dir: Path) -> SampledFrames:
    """Join pieces written by `sample_frames(..., out_dir=piece_dir)` into `out_dir`, streaming block by block.

    Returns the joined frames memory-mapped. Warnings are not stored in piece directories; callers join those.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = [load_frames(Path(piece) / FRAMES_FILE) for piece in piece_dirs]
    times = [np.load(Path(piece) / TIMES_FILE) for piece in piece_dirs]
    _check_order(times)
    shapes = {piece.shape[1:] for piece in frames if len(piece)}
    if len(shapes) > 1:
        raise ValueError(f"pieces have different frame shapes: {sorted(shapes)}")
    frame_shape = shapes.pop() if shapes else frames[0].shape[1:]
    writer = FrameArrayWriter(out_dir / FRAMES_FILE, frame_shape)
    try:
        for piece in frames:
            for first in range(0, len(piece), _ROWS_PER_COPY):
                for frame in np.asarray(piece[first : first + _ROWS_PER_COPY]):
                    writer.append(frame)
    except BaseException:
        writer.abort()
        raise
    frames_path = writer.close()
    times_path = save_array_atomically(out_dir / TIMES_FILE, np.concatenate(times).astype(np.float64))
    return SampledFrames(frames=load_frames(frames_path), times=np.load(times_path))
