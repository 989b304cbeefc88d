"""The mosaic job: a generated patrol flight -> its area's mosaic on disk, and the area's events placed."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from detection.mapping.pyramid import load_info
from detection.telemetry import read_telemetry
from tests.support.jobs import uploaded_video
from tests.support.maps import attach_poses
from webapp.catalog.models import Video
from webapp.detectors.models import Detector, Event, ScoreRun
from webapp.jobs.models import Job
from webapp.maps.mosaics import current_mosaic
from workers.claim import run_job
from workers.mosaic import run_mosaic

pytestmark = pytest.mark.django_db


@pytest.fixture
def reference_flight(patrol_tiny_set):
    video = uploaded_video(patrol_tiny_set / "day01" / "patrol.mp4", "DJI_0001.MP4")
    Video.objects.filter(pk=video.pk).update(status=Video.Status.READY, duration=4.0, fps=4.0, label="normal")
    return attach_poses(video, read_telemetry(patrol_tiny_set / "day01" / "patrol.SRT"), width=320, height=180)


def test_it_builds_a_georeferenced_mosaic_and_places_the_areas_events(reference_flight):
    detector = Detector.objects.create(area=reference_flight.mission.area, kind="cae", name="CAE",
                                       status=Detector.Status.READY, threshold=0.5)
    run = ScoreRun.objects.create(detector=detector, video=reference_flight, status=ScoreRun.Status.READY)
    event = Event.objects.create(score_run=run, start=1.0, end=2.0, peak_time=1.5, peak_score=0.9,
                                 peak_x=0.5, peak_y=0.5)
    job = Job.objects.create(kind=Job.Kind.MOSAIC, video=reference_flight, params={"fps": 4})

    assert run_job(job.pk, run_mosaic, worker="test") == "succeeded"

    job.refresh_from_db()
    result = job.result
    assert result["georeferenced"] and result["frames"] == result["placed_frames"] == 16
    assert 0.1 < result["resolution_m"] < 0.3 and result["residual_median_m"] < 0.5
    assert result["seconds_per_flight_minute"] > 0 and result["events_located"] == 1
    folder = Path(settings.MEDIA_ROOT) / result["folder"]
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == [], "no leftover frames"
    info = load_info(folder)
    assert len(info.levels) == result["levels"] >= 2 and info.levels[0].width == result["width"]
    assert current_mosaic(reference_flight.mission.area).job.pk == job.pk
    event.refresh_from_db()
    assert event.latitude is not None and event.longitude is not None


def test_a_video_that_is_not_ready_fails_with_the_reason(reference_flight):
    Video.objects.filter(pk=reference_flight.pk).update(status=Video.Status.INGESTING)
    job = Job.objects.create(kind=Job.Kind.MOSAIC, video=reference_flight)
    assert run_job(job.pk, run_mosaic, worker="test") == "failed"
    job.refresh_from_db()
    assert "is not a ready video" in job.error
    assert current_mosaic(reference_flight.mission.area) is None
