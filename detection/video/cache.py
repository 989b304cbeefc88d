"""A disk cache of sampled frames, so training and evaluation decode each video once.

An entry is keyed by the file's identity (resolved path, size and modification time; or its sha256 content
hash) and the sampling parameters. It is built in a temporary directory and renamed into place whole, with
`meta.json` written last, so a crashed or concurrent build never leaves a half entry that looks complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from detection.types import SampledFrames
from detection.video.frame_store import load_frames
from detection.video.ingest import sha256_file
from detection.video.sampling import FRAMES_FILE, TIMES_FILE, sample_frames

META_FILE = "meta.json"
_CACHE_VERSION = 1  # bump when sampling changes what it produces


def file_identity(path: Path, identity: str = "stat") -> str:
    """ "stat": resolved path, size and mtime (cheap); "sha256": the content (survives copies and renames)."""
    if identity == "sha256":
        return "sha256:" + sha256_file(path)
    if identity != "stat":
        raise ValueError(f"identity must be 'stat' or 'sha256', got {identity!r}")
    stat = path.stat()
    return f"stat:{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def cache_key(
    path: Path, *, fps: float, size: tuple[int, int] | None, keyframes, identity: str = "stat"
) -> str:
    """The entry name for `path` sampled with these parameters."""
    text = json.dumps([_CACHE_VERSION, file_identity(path, identity), float(fps), size, str(keyframes)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def entries_of(cache_dir: str | Path, sources) -> list[Path]:
    """The entries of `cache_dir` sampled from any of the files `sources` (as each entry's meta.json names its
    source), at any rate or size: what to remove with those files. Half-built entries have no meta and are
    not listed."""
    cache_dir = Path(cache_dir)
    wanted = {str(Path(source).resolve()) for source in sources}
    if not wanted or not cache_dir.is_dir():
        return []
    found = []
    for meta in sorted(cache_dir.glob(f"*/{META_FILE}")):
        try:
            source = json.loads(meta.read_text())["source"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if str(Path(source).resolve()) in wanted:
            found.append(meta.parent)
    return found


def _load(entry: Path) -> SampledFrames:
    meta = json.loads((entry / META_FILE).read_text())
    return SampledFrames(
        frames=load_frames(entry / FRAMES_FILE),
        times=np.load(entry / TIMES_FILE),
        source_fps=meta["source_fps"],
        warning=meta["warning"],
    )


def frames_for(
    path: str | Path,
    *,
    fps: float = 2.0,
    size: tuple[int, int] | None = (124, 124),
    cache_dir: str | Path,
    keyframes: str | bool = False,
    identity: str = "stat",
) -> SampledFrames:
    """Sampled frames of `path` (memory-mapped), from `cache_dir` if there, else sampled once and stored.

    `keyframes` defaults to False so cached frames do not depend on the file's keyframe layout.
    """
    path, cache_dir = Path(path), Path(cache_dir)
    entry = cache_dir / cache_key(path, fps=fps, size=size, keyframes=keyframes, identity=identity)
    if (entry / META_FILE).is_file():
        return _load(entry)
    cache_dir.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".building-", dir=cache_dir))
    try:
        sampled = sample_frames(path, fps=fps, size=size, out_dir=building, keyframes=keyframes)
        meta = {
            "source": str(path),
            "fps": fps,
            "size": size,
            "source_fps": sampled.source_fps,
            "warning": sampled.warning,
            "count": int(len(sampled.times)),
        }
        (building / META_FILE).write_text(json.dumps(meta, indent=1))
        del sampled
        try:
            os.replace(building, entry)
        except OSError:
            if not (entry / META_FILE).is_file():  # not another process finishing the same entry first
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return _load(entry)
