"""The ingest pipeline: a Video row's original -> frames, timestamps, proxy, thumbnails, metadata; then scoring.

Everything is made in `videos/<id>/.ingest-<run>/` and moved into `videos/<id>/` only when complete, so a
killed run leaves no half file where readers look, and a re-run overwrites the same names (idempotent). Videos
longer than SPLIT_SECONDS are done in parallel pieces (see workers/ingest_pieces.py). When the video is ready
and its area has active detectors, a scoring job is started. A telemetry sidecar stored with the video is
read into `poses.npz` (webapp.catalog.telemetry); a malformed one is reported on the video, which ingests anyway.
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

from celery import group
from django.conf import settings
from django.db import IntegrityError, transaction

from webapp.catalog.models import Video
from webapp.catalog.telemetry import read_stored_sidecar
from webapp.celery import app
from webapp.jobs.kinds import HELPER_TASKS
from webapp.jobs.models import Job
from webapp.jobs.services import start_scoring
from workers.claim import describe_error
from workers.ingest_pieces import MEDIA_UNIT, PiecePlan, finish_all, prepare, work_through
from workers.leftovers import remove_leftovers
from workers.progress import JobError, JobLost, JobReporter, JobStopped

SPLIT_SECONDS = 20 * 60  # longer videos are ingested in parallel pieces
PIECE_SECONDS = 10 * 60
MAX_PIECES = 16


def _video_of(job: Job) -> Video:
    video = Video.objects.select_related("mission__area").filter(pk=job.video_id).first()
    if video is None:
        raise JobError("the video of this ingest job was deleted")
    if not video.file:
        raise JobError(f"video {video.pk} ({video.original_name}) has no original file yet; upload it again")
    return video


def sample_settings(job: Job) -> tuple[float, tuple[int, int]]:
    fps = float(job.params.get("fps", settings.SAMPLE_FPS))
    side = job.params.get("size", settings.SAMPLE_SIZE)
    size = tuple(side) if isinstance(side, list | tuple) else (int(side), int(side))
    return fps, size


def piece_count(job: Job, duration: float) -> int:
    if "pieces" in job.params:
        return max(1, int(job.params["pieces"]))
    if duration <= SPLIT_SECONDS:
        return 1
    return min(MAX_PIECES, math.ceil(duration / PIECE_SECONDS))


def run_ingest(job: Job, reporter: JobReporter) -> dict:
    from detection.video.probe import probe

    video = _video_of(job)
    Video.objects.filter(pk=video.pk).update(status=Video.Status.INGESTING, error="")
    media = Path(settings.MEDIA_ROOT)
    source, target = media / video.file, media / video.media_dir
    staging = target / f".ingest-{job.runs}"
    remove_leftovers(target, ".ingest-*")  # a killed earlier run's staging
    try:
        reporter.stage("Probing the video")
        info = probe(source)
        fps, size = sample_settings(job)
        pieces = piece_count(job, info.duration)
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        if pieces == 1:
            facts = _ingest_whole(source, staging, fps, size, reporter.span(0.02, 0.95))
        else:
            facts = _ingest_in_pieces(job, source, staging, info.duration, pieces, fps, size, reporter)
        reporter.stage("Moving the results into place")
        _publish(staging, target)
        _fill_video(video, info, facts, fps)
        reporter.stage("Reading the telemetry")
        telemetry = read_stored_sidecar(video)
    except JobLost:
        raise
    except JobStopped:
        Video.objects.filter(pk=video.pk).update(status=Video.Status.UPLOADED, error="Ingest was cancelled.")
        raise
    except Exception as exc:
        Video.objects.filter(pk=video.pk).update(status=Video.Status.FAILED, error=describe_error(exc))
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    scoring = start_scoring(video, exclude=job.params.get("skip_detectors", ()))
    return {"frames": facts["frames"], "duration": info.duration, "pieces": pieces, "warning": facts["warning"],
            "proxy": facts["proxy_method"], "scoring_job": scoring.pk if scoring else None, "telemetry": telemetry}


def _ingest_whole(source: Path, staging: Path, fps: float, size, progress) -> dict:
    from detection.video.ingest import ingest_video

    result = ingest_video(source, staging, fps=fps, size=size, progress=progress)
    return {"sha256": result.sha256, "frames": result.frame_count, "warning": result.warning,
            "has_proxy": result.proxy_path is not None, "proxy_method": result.proxy_method}


def _ingest_in_pieces(job, source, staging, duration, pieces, fps, size, reporter: JobReporter) -> dict:
    from detection.video.ranges import join_sample_dirs, split_ranges

    plan = PiecePlan(source=source, staging=staging, ranges=tuple(split_ranges(duration, pieces)), fps=fps,
                     size=size)
    prepare(plan)
    helpers = min(len(plan.units) - 1, int(job.params.get("helpers", len(plan.units) - 1)))
    if helpers > 0:
        helper = app.signature(HELPER_TASKS["ingest_piece"].task, args=(job.pk, job.runs), immutable=True)
        group(helper.clone() for _ in range(helpers)).apply_async()
    facts = finish_all(plan, reporter, 0.02, 0.9)
    reporter.stage("Joining the pieces")
    piece_units = [unit for unit in plan.units if unit != MEDIA_UNIT]
    joined = join_sample_dirs([plan.piece_dir(unit) for unit in piece_units], staging)
    media = plan.piece_dir(MEDIA_UNIT)
    for item in media.iterdir():
        os.replace(item, staging / item.name)
    shutil.rmtree(staging / "pieces")
    warning = "; ".join(facts[unit]["warning"] for unit in piece_units if facts[unit]["warning"])
    return {"sha256": facts[MEDIA_UNIT]["sha256"], "frames": len(joined.times), "warning": warning,
            "has_proxy": (staging / "proxy.mp4").exists(), "proxy_method": facts[MEDIA_UNIT].get("proxy_method", "")}


def run_ingest_piece(job_id: int, run: int) -> str:
    """A helper's part of a parallel ingest: take free units while that run of the job is still going."""
    job = Job.objects.filter(pk=job_id, state=Job.State.RUNNING, runs=run).first()
    if job is None:
        return "run over"
    video = _video_of(job)
    fps, size = sample_settings(job)
    from detection.video.probe import probe
    from detection.video.ranges import split_ranges

    media = Path(settings.MEDIA_ROOT)
    source = media / video.file
    staging = media / video.media_dir / f".ingest-{run}"
    duration = probe(source).duration
    plan = PiecePlan(source=source, staging=staging,
                     ranges=tuple(split_ranges(duration, piece_count(job, duration))), fps=fps, size=size)
    reporter = JobReporter(job_id, run)
    try:
        did = work_through(plan, reporter.check_cancelled)
    except JobStopped:
        return "run over"
    return f"did {did} unit(s)"


def _publish(staging: Path, target: Path) -> None:
    """Move every finished file into the video's folder (each move atomic; names overwrite earlier runs)."""
    for item in sorted(staging.iterdir()):
        if item.is_file():
            os.replace(item, target / item.name)


def _fill_video(video: Video, info, facts: dict, fps: float) -> None:
    fields = {
        "container": info.container[:40], "codec": info.codec[:40], "duration": info.duration, "fps": info.fps,
        "width": info.width, "height": info.height, "rotation": info.rotation, "frame_count": facts["frames"],
        "sample_fps": fps, "has_proxy": facts["has_proxy"], "proxy_method": facts["proxy_method"][:200],
        "warning": facts["warning"],
        "status": Video.Status.READY, "error": "", "sha256": facts["sha256"],
    }
    if info.size_bytes:
        fields["size_bytes"] = info.size_bytes
    try:
        with transaction.atomic():
            Video.objects.filter(pk=video.pk).update(**fields)
    except IntegrityError:
        twin = Video.objects.filter(mission=video.mission_id, sha256=facts["sha256"]).exclude(pk=video.pk).first()
        raise JobError(f"this file is the same as “{twin.original_name if twin else 'another video'}” already "
                       "in this mission; delete one of them") from None

