"""Catalog rows with real media for the pipeline tests: an uploaded video, its ingest job, a tiny CAE config."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from django.conf import settings

from webapp.catalog.models import Area, Mission, Video
from webapp.jobs.models import Job

TINY_CAE = {"input_size": 16, "widths": [8, 16], "stem_stride": 2, "latent_channels": 4, "epochs": 2,
            "batch_size": 8, "patience": 2, "temporal_window": 1, "normalise_scores": False}



def uploaded_video(source: Path, name: str = "dawn.mp4") -> Video:
    area, _ = Area.objects.get_or_create(name="Harbour")
    mission, _ = Mission.objects.get_or_create(area=area, name="Dawn", date=dt.date(2026, 5, 1))
    video = Video.objects.create(mission=mission, original_name=name)
    relative = f"{video.media_dir}/original{source.suffix}"
    (Path(settings.MEDIA_ROOT) / relative).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, Path(settings.MEDIA_ROOT) / relative)
    Video.objects.filter(pk=video.pk).update(file=relative)
    video.refresh_from_db()
    return video


def ingest_job(video: Video, **params) -> Job:
    return Job.objects.create(kind=Job.Kind.INGEST, video=video, params={"size": 32, **params})
