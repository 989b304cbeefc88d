"""A ready video's sampled frames, read back from media storage for the pipelines that use them (training,
scoring)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.conf import settings

from webapp.catalog.models import Video
from webapp.catalog.video_files import FRAME_CACHE
from workers.progress import JobError


def sampled_frames(video: Video):
    """The video's frames.npy (memory-mapped) and timestamps.npy as SampledFrames; a clear error if missing."""
    from detection.types import SampledFrames

    media = Path(settings.MEDIA_ROOT)
    frames_file, times_file = media / video.frames_path, media / video.timestamps_path
    if not frames_file.exists() or not times_file.exists():
        raise JobError(f"the sampled frames of “{video.original_name}” (video {video.pk}) are missing; "
                       "ingest it again")
    return SampledFrames(frames=np.load(frames_file, mmap_mode="r"), times=np.load(times_file),
                         source_fps=video.fps or 0.0, warning=video.warning)


def detector_frames(video: Video, kind: str):
    """The frames a detector of `kind` analyses: the ingest's sampled frames for kinds that work at their
    size, or the original decoded at native resolution (and cached) for kinds whose frame size is None."""
    from detection.registry import frame_size

    if frame_size(kind) is not None:
        return sampled_frames(video)
    return native_frames(video)


def native_frames(video: Video):
    """The stored original's frames at native resolution, at the video's sampling rate (so their times are
    those of frames.npy and its heatmaps), decoded once into MEDIA_ROOT/frame-cache."""
    from detection.errors import VideoError
    from detection.video.cache import frames_for

    media = Path(settings.MEDIA_ROOT)
    original = media / video.file
    if not video.file or not original.is_file():
        raise JobError(f"the original of “{video.original_name}” (video {video.pk}) is missing; upload it again")
    try:
        return frames_for(original, fps=video.sample_fps or 2.0, size=None, cache_dir=media / FRAME_CACHE)
    except VideoError as exc:
        raise JobError(f"could not decode “{video.original_name}” (video {video.pk}): {exc}") from exc
