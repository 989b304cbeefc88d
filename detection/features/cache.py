"""On-disk cache of clip features, so retraining a MIL head never runs a backbone (or decodes) again.

An entry is one .npy file of (C, D) float32 clip features, under
`<root>/<extractor name>/<key[:2]>/<key>.npy`, where the key is a sha256 over
- the video: a blake2b digest of all its sampled frames' bytes, their shape and their times (so a changed
  video, or other sampling settings such as fps or size, gives another key; hashing bytes costs far less
  than any extractor), and
- the extractor: its `describe()` (name, version, clip length, input size, weights' hash).
A changed video or extractor therefore misses and is computed afresh; stale entries are never read.
Files are written to a temporary name and renamed, so a crash leaves no half entry; an unreadable entry
counts as a miss and is rewritten.

The root is `SKERRY_FEATURE_CACHE` if set, else `~/.cache/skerry/features`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from detection.atomic_files import replacing
from detection.features.clips import FeatureExtractor, clip_windows
from detection.types import ProgressFn, no_progress


def default_cache_dir() -> Path:
    """The cache root: $SKERRY_FEATURE_CACHE, else ~/.cache/skerry/features."""
    return Path(os.environ.get("SKERRY_FEATURE_CACHE") or Path.home() / ".cache" / "skerry" / "features")


def frames_digest(frames: np.ndarray, times: np.ndarray, *, chunk: int = 64) -> str:
    """A digest of sampled frames (N, H, W, 3) and their times (N,), read in chunks (memmaps stay on disk)."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(json.dumps([list(frames.shape), str(frames.dtype)]).encode())
    digest.update(np.ascontiguousarray(times, dtype=np.float64).tobytes())
    for start in range(0, len(frames), chunk):
        digest.update(np.ascontiguousarray(frames[start : start + chunk]).tobytes())
    return digest.hexdigest()


class FeatureCache:
    """Clip features on disk, keyed by (video frames, extractor)."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root else default_cache_dir()
        self.hits = 0
        self.misses = 0

    def key(self, video_digest: str, extractor: dict) -> str:
        text = json.dumps({"video": video_digest, "extractor": extractor}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def path(self, extractor_name: str, key: str) -> Path:
        return self.root / extractor_name / key[:2] / f"{key}.npy"

    def load(self, path: Path, num_clips: int) -> np.ndarray | None:
        """The stored features, or None if absent, unreadable or of the wrong number of clips."""
        try:
            features = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None
        if features.ndim != 2 or len(features) != num_clips:
            return None
        return features

    def store(self, path: Path, features: np.ndarray) -> None:
        with replacing(path) as staging, staging.open("wb") as stream:
            np.save(stream, np.asarray(features, dtype=np.float32), allow_pickle=False)

    def clip_features(
        self,
        extractor: FeatureExtractor,
        frames: np.ndarray,
        times: np.ndarray,
        progress: ProgressFn = no_progress,
    ) -> np.ndarray:
        """(C, D) clip features of these frames: from the cache, or computed by `extractor` and stored."""
        description = extractor.describe()
        path = self.path(description["name"], self.key(frames_digest(frames, times), description))
        num_clips = len(clip_windows(len(frames), extractor.clip_len))
        cached = self.load(path, num_clips)
        if cached is not None:
            self.hits += 1
            progress(1.0, f"{description['name']} features (cached)")
            return cached
        self.misses += 1
        features = extractor.clip_features(frames, progress)
        self.store(path, features)
        return features
