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


def ingested(tmp_path, name: str, *, start: int, box_from: float | None) -> Video:
    source = make_video(tmp_path / name, seconds=4.0, fps=10, width=160, height=120, box_from=box_from,
                        box=(60, 40, 24), scene=route_scene(160, 120, start=start))
    video = uploaded_video(source, name)
    assert run_job(ingest_job(video).pk, run_ingest, worker="test") == "succeeded"
    return Video.objects.get(pk=video.pk)


def score(detector: Detector, video: Video) -> ScoreRun:
    job = Job.objects.create(kind=Job.Kind.SCORE, video=video, params={"detectors": [detector.pk]})
    assert run_job(job.pk, run_scoring, worker="test") == "succeeded", Job.objects.get(pk=job.pk).error
    return ScoreRun.objects.get(detector=detector, video=video)


def test_retraining_change_with_a_dismissal_indexes_its_frames_and_lowers_that_change(flights, tmp_path):
    from django.utils import timezone

    from webapp.jobs.services import start_retraining

    area = flights["boat.mp4"].mission.area
    detector = Detector.objects.create(area=area, kind="change", name="change", is_active=True)
    train = Job.objects.create(kind=Job.Kind.TRAIN, detector=detector)
    assert run_job(train.pk, run_training, worker="test") == "succeeded", Job.objects.get(pk=train.pk).error
    # Tuesday nobody labelled: the box (a boat moored there now) raises events an analyst dismisses.
    tuesday = ingested(tmp_path, "tuesday.mp4", start=1, box_from=1.0)
    before = score(Detector.objects.get(pk=detector.pk), tuesday)
    dismissed = list(before.events.all())
    assert dismissed, "the moored boat is an alarm before the review"
    Event.objects.filter(pk__in=[e.pk for e in dismissed]).update(review=Event.Review.DISMISSED,
                                                                  reviewed_at=timezone.now())
    version, job = start_retraining(Detector.objects.get(pk=detector.pk))
    assert run_job(job.pk, run_training, worker="test") == "succeeded", Job.objects.get(pk=job.pk).error
    version.refresh_from_db()
    [added] = version.validation_metrics["dismissed_intervals"]
    assert added["video"] == str(tuesday.pk) and added["intervals"][0]["frames"] >= 1
    assert version.validation_metrics["dismissed_frames"] >= 1 and not version.is_active
    # Wednesday the boat is moored there again: the parent still raises it; the retrained version, with the same
    # reference flights and scales (so its scores compare), finds Tuesday's frames at that place and scores it lower
    wednesday = ingested(tmp_path, "wednesday.mp4", start=2, box_from=1.0)
    detector.refresh_from_db()
    parent_run, version_run = score(detector, wednesday), score(version, wednesday)
    assert parent_run.events.exists()
    assert version_run.max_score < 0.5 * parent_run.max_score
