"""Training and scoring pipelines as plain functions: real ingest, a tiny real CAE, real score files and rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from PIL import Image

from tests.support.jobs import TINY_CAE
from webapp.catalog.models import LabelInterval, Video
from webapp.detectors.levels import level_of
from webapp.detectors.models import Detector, Event, ScoreRun
from webapp.jobs.models import Job
from workers import model_cache
from workers.claim import run_job
from workers.scoring import overlap, run_scoring
from workers.training import run_training, split_videos

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

def test_it_trains_a_detector_and_scores_a_mission_idempotently(area_videos):
    area = area_videos[0].mission.area
    older = Detector.objects.create(area=area, kind="cae", name="older", is_active=True)
    other_kind = Detector.objects.create(area=area, kind="mil", name="mil", is_active=True)
    detector = Detector.objects.create(area=area, kind="cae", name="tiny", config=TINY_CAE, is_active=True)
    train = Job.objects.create(kind=Job.Kind.TRAIN, detector=detector)
    assert run_job(train.pk, run_training, worker="test") == "succeeded", Job.objects.get(pk=train.pk).error
    detector.refresh_from_db()
    folder = Path(settings.MEDIA_ROOT) / detector.media_dir
    assert detector.status == Detector.Status.READY and detector.artifact == f"{detector.media_dir}/model.pt"
    assert (folder / "model.pt").stat().st_size > 0 and detector.threshold is not None
    assert detector.validation_metrics["val_normal_median"] is not None, "the zero of the level scale"
    assert [row["epoch"] for row in detector.training_curve] == [1, 2] or len(detector.training_curve) >= 1
    assert detector.training_videos.count() == 3 and detector.trained
    older.refresh_from_db()
    other_kind.refresh_from_db()
    assert (older.is_active, other_kind.is_active) == (False, True), "it replaces the active one of its kind"
    pictures = sorted(folder.glob("recon_*.png"))
    assert pictures and Image.open(pictures[0]).size[1] == 2 * 16

    model_cache.clear()
    loads = model_cache.stats["loads"]
    score = Job.objects.create(kind=Job.Kind.SCORE, mission=area_videos[0].mission,
                               params={"detectors": [detector.pk]})
    assert run_job(score.pk, run_scoring, worker="test") == "succeeded", Job.objects.get(pk=score.pk).error
    runs = ScoreRun.objects.filter(detector=detector)
    assert runs.count() == 3 and all(r.status == ScoreRun.Status.READY and r.frame_count == 8 for r in runs)
    first_files = {r.pk: np.load(Path(settings.MEDIA_ROOT) / r.media_dir / "scores.npz")["frame_scores"]
                   for r in runs}
    events = list(Event.objects.filter(score_run__detector=detector).order_by("pk"))
    for event in events:  # every event passed its threshold: level 1 or more on the one scale
        assert event.level == pytest.approx(level_of(detector, event.peak_score)) and event.level >= 1.0 - 1e-9
    for run in runs:
        kept = Path(settings.MEDIA_ROOT) / run.media_dir / "reconstructions.npz"
        if run.events.exists():  # the heatmap view's reconstruction of each event's peak frame
            with np.load(kept) as data:
                assert len(data["indices"]) >= 1 and data["images"].shape[1:] == (16, 16, 3)
        else:
            assert not kept.exists()
    if events:
        Event.objects.filter(pk=events[0].pk).update(review=Event.Review.CONFIRMED, note="boat")

    again = Job.objects.create(kind=Job.Kind.SCORE, mission=area_videos[0].mission,
                               params={"detectors": [detector.pk]})
    assert run_job(again.pk, run_scoring, worker="test") == "succeeded"
    assert ScoreRun.objects.filter(detector=detector).count() == 3
    assert sorted(Job.objects.get(pk=again.pk).result["runs"]) == sorted(first_files)
    for run in runs:
        scores = np.load(Path(settings.MEDIA_ROOT) / run.media_dir / "scores.npz")["frame_scores"]
        assert np.allclose(scores, first_files[run.pk])
    assert Event.objects.filter(score_run__detector=detector).count() == len(events), "events duplicated"
    assert model_cache.stats["loads"] == loads + 1, "the model is loaded once per process"
    if events:
        kept = Event.objects.get(score_run=events[0].score_run, start=events[0].start)
        assert (kept.review, kept.note) == (Event.Review.CONFIRMED, "boat")


def test_training_without_labels_fails_with_a_clear_reason(area_videos):
    Video.objects.update(label=Video.Label.UNLABELLED)
    LabelInterval.objects.all().delete()
    detector = Detector.objects.create(area=area_videos[0].mission.area, kind="cae", name="x", config=TINY_CAE)
    job = Job.objects.create(kind=Job.Kind.TRAIN, detector=detector)
    assert run_job(job.pk, run_training, worker="test") == "failed"
    detector.refresh_from_db()
    assert detector.status == Detector.Status.FAILED and "label some videos" in detector.error


def test_confirmed_events_count_as_anomalous_intervals(area_videos):
    normal = area_videos[0]
    detector = Detector.objects.create(area=normal.mission.area, kind="cae", name="x")
    run = ScoreRun.objects.create(detector=detector, video=normal)
    Event.objects.create(score_run=run, start=1.0, end=2.0, peak_time=1.5, peak_score=3.0, review="confirmed")
    Event.objects.create(score_run=run, start=3.0, end=3.5, peak_time=3.2, peak_score=2.0, review="dismissed")
    record = normal.as_record()
    assert record.label == "anomalous" and [(i.start, i.end) for i in record.intervals] == [(1.0, 2.0)]


def test_the_automatic_split_is_deterministic_and_validates_each_label(area_videos):
    records = {v.pk: v.as_record() for v in area_videos}
    train, val = split_videos(area_videos, records)
    assert [v.pk for v in val] == [area_videos[1].pk]  # the later of the two normal videos
    assert split_videos(area_videos, records) == (train, val)


def test_overlap_is_intersection_over_union():
    assert overlap(0, 2, 1, 3) == pytest.approx(1 / 3)
    assert overlap(0, 1, 2, 3) == 0.0
    assert overlap(1.0, 1.0, 0.5, 1.5) == 0.0 and overlap(1.0, 1.0, 1.0, 1.0) == 1.0


def test_a_model_that_learns_nothing_is_not_made_active_by_training(area_videos):
    """With a learning rate of 0 the validation loss cannot move: training leaves the detector inactive although
    it was created to be active, says why, and the area's active detector of its kind stays active."""
    area = area_videos[0].mission.area
    older = Detector.objects.create(area=area, kind="cae", name="older", is_active=True)
    detector = Detector.objects.create(area=area, kind="cae", name="frozen", is_active=True,
                                       config={**TINY_CAE, "learning_rate": 0.0, "epochs": 3, "patience": 5})
    train = Job.objects.create(kind=Job.Kind.TRAIN, detector=detector)
    assert run_job(train.pk, run_training, worker="test") == "succeeded", Job.objects.get(pk=train.pk).error
    detector.refresh_from_db()
    assert detector.status == Detector.Status.READY and not detector.is_active
    assert any("validation loss stayed" in r for r in detector.degenerate_reasons())
    assert any(w.startswith("not made active") for w in Job.objects.get(pk=train.pk).result["warnings"])
    assert Detector.objects.get(pk=older.pk).is_active
