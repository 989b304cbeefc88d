"""A ready video's sampled frames, read back from media storage for the pipelines that use them (training,
scoring)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.conf import settings

from webapp.catalog.models import Video
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
