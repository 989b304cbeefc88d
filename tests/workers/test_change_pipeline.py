"""The CHANGE detector through the training and scoring pipelines: real ingest, native frames decoded from the
stored originals, the reference flights recorded, events that name their reference, comparisons kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from tests.support.jobs import ingest_job, uploaded_video
from tests.support.videos import make_video, route_scene
from webapp.catalog.models import LabelInterval, Video
from webapp.detectors.models import Detector, Event, ScoreRun
from webapp.jobs.models import Job
from workers.claim import run_job
from workers.ingest import run_ingest
from workers.scoring import flight_poses, run_scoring
from workers.training import run_training

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def flights(tmp_path):
    """Two calm flights of the route (normal) and one where a white box appears at 2 s (anomalous), ingested;
    each day starts a few ground pixels apart."""
    made = {}
    for name, seconds, start, box_from, label in (("calm-1.mp4", 4.0, -3, None, "normal"),
                                                  ("calm-2.mp4", 4.2, 4, None, "normal"),
                                                  ("boat.mp4", 4.0, 0, 2.0, "anomalous")):
        source = make_video(tmp_path / name, seconds=seconds, fps=10, width=160, height=120, box_from=box_from,
                            box=(60, 40, 24), scene=route_scene(160, 120, start=start))
        video = uploaded_video(source, name)
        assert run_job(ingest_job(video).pk, run_ingest, worker="test") == "succeeded"
        Video.objects.filter(pk=video.pk).update(label=label)
        if box_from is not None:
            LabelInterval.objects.create(video=video, start=box_from, end=4.0)
        made[name] = Video.objects.get(pk=video.pk)
    return made


def test_change_trains_on_the_reference_flights_and_names_them_in_its_events(flights):
    area = flights["boat.mp4"].mission.area
    detector = Detector.objects.create(area=area, kind="change", name="change", config={"references": 1},
                                       is_active=True)
    train = Job.objects.create(kind=Job.Kind.TRAIN, detector=detector)
    assert run_job(train.pk, run_training, worker="test") == "succeeded", Job.objects.get(pk=train.pk).error
    detector.refresh_from_db()
    assert detector.status == Detector.Status.READY and detector.threshold is not None
    assert list(detector.reference_videos.all()) == [flights["calm-2.mp4"]], "the most recent normal flight"
    assert set(detector.training_videos.all()) == set(flights.values())
    result = Job.objects.get(pk=train.pk).result
    assert result["train_videos"] == [flights["calm-2.mp4"].pk]
    assert any((Path(settings.MEDIA_ROOT) / "frame-cache").iterdir()), "native frames are decoded once, cached"

    score = Job.objects.create(kind=Job.Kind.SCORE, mission=flights["boat.mp4"].mission,
                               params={"detectors": [detector.pk]})
    assert run_job(score.pk, run_scoring, worker="test") == "succeeded", Job.objects.get(pk=score.pk).error
    run = ScoreRun.objects.get(detector=detector, video=flights["boat.mp4"])
    assert run.status == ScoreRun.Status.READY and run.has_heatmaps
    events = list(Event.objects.filter(score_run=run).order_by("-peak_score"))
    assert events and events[0].end >= 2.0
    assert events[0].change == Event.Change.NEW
    assert events[0].reference_video == flights["calm-2.mp4"] and events[0].reference_time is not None
    with np.load(Path(settings.MEDIA_ROOT) / run.media_dir / "comparisons.npz") as kept:
        assert len(kept["indices"]) >= 1 and kept["today"].shape == kept["reference"].shape
        assert kept["today"].shape[2] == 160, "today's frame at native resolution"


def test_training_change_without_a_reference_flight_says_what_to_do(flights):
    Video.objects.update(label=Video.Label.UNLABELLED)
    detector = Detector.objects.create(area=flights["boat.mp4"].mission.area, kind="change", name="x")
    train = Job.objects.create(kind=Job.Kind.TRAIN, detector=detector)
    assert run_job(train.pk, run_training, worker="test") == "failed"
    assert "no reference flight" in Job.objects.get(pk=train.pk).error


def test_poses_go_only_to_detectors_that_use_telemetry(flights):
    class Plain:
        pass

    class Uses:
        uses_telemetry = True

    video = flights["boat.mp4"]
    assert flight_poses(Plain(), video) == {} and flight_poses(Uses(), video) == {}, "no sidecar, no poses"
