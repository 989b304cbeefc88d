"""The mosaic pipeline: one reference flight -> its area's mosaic (detection.mapping), stored as a tiled pyramid
under media/areas/<area>/mosaics/<job>/, then the area's events that have no ground position yet are placed.

The original is decoded again, sparsely and small (detection.mapping.flight), into a hidden folder beside the
tiles (frames of a long flight do not fit in memory; it is removed afterwards). The job's result says
what the mosaic reached: ground resolution, drift against telemetry, and build time per flight minute.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
from django.conf import settings

from webapp.catalog import telemetry
from webapp.catalog.models import Video
from webapp.jobs.models import Job
from webapp.maps.locate import locate_unplaced
from webapp.maps.mosaics import mosaic_folder
from workers.leftovers import remove_leftovers
from workers.progress import JobError, JobReporter


def run_mosaic(job: Job, reporter: JobReporter) -> dict:
    from detection.errors import VideoError
    from detection.mapping.camera import CameraModel
    from detection.mapping.flight import FlightSampling, sample_flight
    from detection.mapping.mosaic import build_mosaic
    from detection.mapping.pyramid import save_pyramid

    video = Video.objects.select_related("mission__area").filter(pk=job.video_id).first()
    if video is None:
        raise JobError("the reference flight of this mosaic job was deleted")
    original = Path(settings.MEDIA_ROOT) / video.file
    if not video.is_ready or not original.is_file():
        raise JobError(f"“{video.original_name}” (video {video.pk}) is not a ready video with its original stored")
    area = video.mission.area
    poses = telemetry.load_poses(video) if video.has_telemetry else None
    sampling = FlightSampling(fps=float(job.params.get("fps", FlightSampling.fps)))
    folder = mosaic_folder(job)
    target = Path(settings.MEDIA_ROOT) / folder
    target.mkdir(parents=True, exist_ok=True)
    for leftover in (".*", "tiles"):  # a killed earlier run's frames and half-written tiles
        remove_leftovers(target, leftover)
    work = Path(tempfile.mkdtemp(prefix=".frames-", dir=target))
    try:
        reporter.progress(0.01, "Decoding the flight", force=True)
        try:
            sampled = sample_flight(original, work, sampling=sampling, progress=reporter.span(0.01, 0.2))
        except VideoError as exc:
            raise JobError(f"could not decode “{video.original_name}”: {exc}") from exc
        frames = np.asarray(sampled.frames)
        if len(frames) < 2:
            raise JobError(f"“{video.original_name}” gave {len(frames)} frame(s): a mosaic needs at least 2")
        camera = CameraModel.for_frame(frames.shape[2], frames.shape[1], area.camera_hfov_degrees)
        mosaic = build_mosaic(frames, sampled.times, poses, camera=camera, progress=reporter.span(0.2, 0.9))
        del frames, sampled
    finally:
        shutil.rmtree(work, ignore_errors=True)
    reporter.progress(0.92, "Writing the mosaic tiles", force=True)
    info = save_pyramid(mosaic, target)
    reporter.progress(0.97, "Placing the area's events", force=True)
    located = locate_unplaced(area)
    stats = mosaic.stats
    minutes = max(stats["flight_seconds"], 1e-9) / 60
    return {"folder": folder, "levels": len(info.levels), "width": info.levels[0].width,
            "height": info.levels[0].height, "resolution_m": stats["resolution"] if info.georeferenced else None,
            "georeferenced": info.georeferenced, "frames": stats["frames"], "placed_frames": stats["placed"],
            "failed_pairs": stats["failed_pairs"], "drift_m": stats["drift_m"],
            "residual_median_m": stats["residual_median_m"],
            "seconds_per_flight_minute": stats["build_seconds"] / minutes, "events_located": located}
