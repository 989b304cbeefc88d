"""What happens when the last byte of an upload arrives: check it is a video, recognise duplicates, file it.

A rejected file leaves the mission as it was and its partial file is deleted. An accepted one becomes a
Video whose original lives at MEDIA_ROOT/videos/<id>/original<ext>; the uploaded name is kept for display
only and never used to build a path. Ingest is then started as a background job.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from detection.errors import VideoError
from webapp.catalog.models import Video
from webapp.catalog.video_files import probe_video_file, safe_extension
from webapp.jobs import services
from webapp.uploads.checksum import final_digest
from webapp.uploads.models import UploadSession
from webapp.uploads.protocol import UploadRejected, part_file

log = logging.getLogger(__name__)


def reject(session: UploadSession, status: int, message: str) -> UploadRejected:
    part_file(session).unlink(missing_ok=True)
    UploadSession.objects.filter(pk=session.pk).update(state=UploadSession.State.REJECTED, error=message)
    session.state, session.error = UploadSession.State.REJECTED, message
    return UploadRejected(status, message, final=True)


def finish_upload(session: UploadSession) -> Video:
    """Turn a complete upload into a Video and start its ingest, or raise UploadRejected (final)."""
    path = part_file(session)
    try:
        info = probe_video_file(path, session.filename)
    except VideoError as exc:
        raise reject(session, 422, str(exc)) from None
    checksum = final_digest(session.pk, session.length, path)
    existing = Video.objects.filter(mission=session.mission_id, sha256=checksum).first()
    if existing:
        raise reject(session, 409, f"“{session.filename}” is already in this mission as “{existing.original_name}”")
    try:
        with transaction.atomic():
            video = _create_video(session, path, info, checksum)
    except IntegrityError:
        raise reject(session, 409, f"“{session.filename}” is already in this mission") from None
    return video


def _create_video(session: UploadSession, path: Path, info: dict, checksum: str) -> Video:
    video = Video.objects.create(
        mission_id=session.mission_id,
        original_name=session.filename,
        size_bytes=session.length,
        sha256=checksum,
        **info,
    )
    relative = f"{video.media_dir}/original{safe_extension(session.filename, info['container'])}"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    try:
        video.file = relative
        video.save(update_fields=["file"])
        services.start_ingest(video, user=session.created_by)
    except BaseException:
        os.replace(target, path)  # the row is rolled back: put the bytes back where the session expects them
        raise
    UploadSession.objects.filter(pk=session.pk).update(state=UploadSession.State.COMPLETE, video=video)
    session.state, session.video = UploadSession.State.COMPLETE, video
    return video
