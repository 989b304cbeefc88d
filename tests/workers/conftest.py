from __future__ import annotations

import pytest

from tests.support.jobs import ingest_job, uploaded_video
from tests.support.videos import make_video
from webapp.catalog.models import LabelInterval, Video
from workers.claim import run_job
from workers.ingest import run_ingest


@pytest.fixture
def area_videos(tmp_path):
    """Two normal videos and one with a white box from 2 s on (labelled with that interval), ingested."""
    made = []
    for name, fps, box_from, label in (("n1.mp4", 8, None, "normal"), ("n2.mp4", 10, None, "normal"),
                                       ("a1.mp4", 8, 2.0, "anomalous")):
        source = make_video(tmp_path / name, seconds=4.0, fps=fps, box_from=box_from)
        video = uploaded_video(source, name)
        assert run_job(ingest_job(video).pk, run_ingest, worker="test") == "succeeded"
        Video.objects.filter(pk=video.pk).update(label=label)
        if box_from is not None:
            LabelInterval.objects.create(video=video, start=box_from, end=4.0)
        made.append(Video.objects.get(pk=video.pk))
    return made
