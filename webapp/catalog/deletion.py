"""Deleting videos and missions: the rows first, their files once that deletion has committed.

The pages and the API both delete through `delete_video` and `delete_mission`, so both remove the same files:
a video's folder (videos/<id>/), its score runs' folders (scores/<id>/) and the native-resolution frames decoded
from its original for CHANGE (frame-cache/<key>/); for a mission, those of each of its videos, its export zips
(exports/<job>/) and the part files of its unfinished uploads (uploads/<uuid>.part).
The files go in `transaction.on_commit`: a delete that rolls back keeps them, so no row is left pointing at
files that are gone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction

from webapp.catalog.models import Mission, Video
from webapp.catalog.video_files import FRAME_CACHE
from webapp.jobs.models import Job


def delete_video(video: Video) -> None:
    """Delete the video (its intervals, jobs and score runs cascade), then its files after commit."""
    with transaction.atomic():
        paths = video_paths(video) + frame_cache_paths([video])
        video.delete()
        transaction.on_commit(lambda: remove_paths(paths))


def delete_mission(mission: Mission) -> None:
    """Delete the mission with its videos and uploads, then all their files after commit."""
    with transaction.atomic():
        videos = list(mission.videos.all())
        paths = [path for video in videos for path in video_paths(video)] + frame_cache_paths(videos)
        paths += [media_path(session.part_path) for session in mission.uploads.all()]
        exports = Job.objects.filter(mission=mission, kind=Job.Kind.EXPORT).values_list("pk", flat=True)
        paths += [media_path(f"exports/{pk}") for pk in exports]
        mission.delete()
        transaction.on_commit(lambda: remove_paths(paths))


def video_paths(video: Video) -> list[Path]:
    return [media_path(video.media_dir), *(media_path(run.media_dir) for run in video.score_runs.all())]


def frame_cache_paths(videos) -> list[Path]:
    """The frame-cache entries decoded from these videos' originals (read before the originals go)."""
    from detection.video.cache import entries_of

    originals = [media_path(video.file) for video in videos if video.file]
    return entries_of(media_path(FRAME_CACHE), originals) if originals else []


def media_path(relative: str) -> Path:
    return Path(settings.MEDIA_ROOT) / relative


def remove_paths(paths: list[Path]) -> None:
    """Remove folders and files; one already gone (or never made) is not an error."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
