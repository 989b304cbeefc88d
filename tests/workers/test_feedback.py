"""Reviews teach the detectors: dismissed events train as normal frames, and retraining with reviews makes a new,
inactive version with its lineage, evaluated on held-out videos, that only an admin makes active."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

import detection.registry
from detection.masks import in_masks
from detection.score_store import load_video_scores
from tests.support.jobs import TINY_CAE
from tests.support.seed import make_user
from webapp.catalog.masks import add_mask, area_polygons
from webapp.catalog.models import Video
from webapp.detectors.models import Detector, Event, ScoreRun
from webapp.jobs.models import Job
from webapp.reports.reviews import reviews_since_training
from workers.claim import run_job
from workers.evaluation import run_evaluation
from workers.scoring import run_scoring
from workers.training import run_training

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def dismissed_event(video: Video, start: float, end: float) -> Event:
    earlier = Detector.objects.get_or_create(area=video.mission.area, kind="cae", name="earlier")[0]
    run = ScoreRun.objects.get_or_create(detector=earlier, video=video)[0]
    return Event.objects.create(score_run=run, start=start, end=end, peak_time=start, peak_score=5.0,
                                review=Event.Review.DISMISSED, reviewed_at=timezone.now())


def train(detector: Detector) -> Detector:
    job = Job.objects.create(kind=Job.Kind.TRAIN, detector=detector)
    assert run_job(job.pk, run_training, worker="test") == "succeeded", Job.objects.get(pk=job.pk).error
    detector.refresh_from_db()
    return detector


def test_a_dismissed_events_frames_are_in_the_next_cae_training_set(area_videos, monkeypatch):
    unlabelled = area_videos[1]
    Video.objects.filter(pk=unlabelled.pk).update(label=Video.Label.UNLABELLED)
    event = dismissed_event(unlabelled, 1.0, 2.0)
    given = []
    real = detection.registry.trainer

    def spy(kind):
        def train_fn(train_items, val_items, **options):
            given.extend(train_items + val_items)
            return real(kind)(train_items, val_items, **options)
        return train_fn

    monkeypatch.setattr(detection.registry, "trainer", spy)
    detector = train(Detector.objects.create(area=unlabelled.mission.area, kind="cae", name="tiny", config=TINY_CAE))
    [item] = [i for i in given if i.record.video_id == str(unlabelled.pk)]
    inside = (item.frames.times >= 1.0) & (item.frames.times <= 2.0)
    assert item.record.label == "" and inside.sum() >= 2, "the unlabelled video's dismissed second is read"
    assert unlabelled.pk in set(detector.training_videos.values_list("pk", flat=True))
    assert detector.reviews_used == {"confirmed": [], "dismissed": [event.pk]}
    assert detector.reviews_used_counts == {"confirmed": 0, "dismissed": 1}


def test_retraining_makes_an_inactive_version_that_an_admin_activates(area_videos, client):
    normal_test, normal, anomalous_test = area_videos
    Video.objects.filter(pk__in=[normal_test.pk, anomalous_test.pk]).update(split=Video.Split.TEST)
    area = normal.mission.area
    parent = train(Detector.objects.create(area=area, kind="cae", name="Harbour CAE", config=TINY_CAE,
                                           is_active=True))
    # A two-epoch CAE may learn too little to be made active by training: its admin confirmed it.
    Detector.objects.filter(pk=parent.pk).update(is_active=True)
    assert reviews_since_training(parent) == 0
    event = dismissed_event(normal, 0.5, 1.5)
    assert reviews_since_training(parent) == 1
    admin = make_user("boss", "admin")
    client.force_login(admin)
    page = client.get(reverse("area", args=[area.pk])).content.decode()
    assert "1 review since this detector was trained" in page and "Retrain with reviews" in page

    response = client.post(reverse("detector_retrain", args=[parent.pk]))
    version = Detector.objects.exclude(pk__in=[parent.pk]).get(parent=parent)
    assert response.status_code == 302 and response["Location"] == reverse("detector", args=[version.pk])
    assert (version.name, version.is_active, version.config) == ("Harbour CAE v3", False, TINY_CAE)
    job = Job.objects.get(kind=Job.Kind.TRAIN, detector=version)
    assert job.params == {"evaluate": True}
    assert run_job(job.pk, run_training, worker="test") == "succeeded", Job.objects.get(pk=job.pk).error
    version.refresh_from_db()
    parent.refresh_from_db()
    assert version.status == Detector.Status.READY and not version.is_active and parent.is_active
    assert version.reviews_used == {"confirmed": [], "dismissed": [event.pk]}

    evaluation = Job.objects.get(pk=Job.objects.get(pk=job.pk).result["evaluation_job"])
    assert (evaluation.kind, evaluation.detector_id, evaluation.params) == (Job.Kind.EVALUATE, version.pk,
                                                                          {"held_out": True})
    assert run_job(evaluation.pk, run_evaluation, worker="test") == "succeeded", Job.objects.get(pk=evaluation.pk).error
    result = Job.objects.get(pk=evaluation.pk).result
    assert sorted(result["held_out"]) == sorted([normal_test.pk, anomalous_test.pk]) and result["held_out_only"]
    assert result["videos"] == 2, "never measured on the videos it trained on"
    assert ScoreRun.objects.filter(detector=parent, video__in=[normal_test, anomalous_test]).count() == 2

    page = client.get(reverse("detector", args=[version.pk])).content.decode()
    assert "Retrained from" in page and "0 confirmed and 1 dismissed event" in page and "held out" in page
    analyst = make_user("ana", "analyst")
    client.force_login(analyst)
    assert client.post(reverse("detector_active", args=[version.pk]), {"active": "1"}).status_code == 403
    client.force_login(admin)
    client.post(reverse("detector_active", args=[version.pk]), {"active": "1", "confirm_degenerate": "1"})
    version.refresh_from_db()
    parent.refresh_from_db()
    assert version.is_active and not parent.is_active, "the admin's choice replaces the version before"
    assert np.isfinite(version.threshold)


def square_around(x: float, y: float, half: float = 0.05) -> list[tuple[float, float]]:
    left, right, top, bottom = max(0.0, x - half), min(1.0, x + half), max(0.0, y - half), min(1.0, y + half)
    return [(left, top), (right, top), (right, bottom), (left, bottom)]


def score(detector: Detector, video: Video) -> ScoreRun:
    job = Job.objects.create(kind=Job.Kind.SCORE, video=video, params={"detectors": [detector.pk]})
    assert run_job(job.pk, run_scoring, worker="test") == "succeeded", Job.objects.get(pk=job.pk).error
    return ScoreRun.objects.get(detector=detector, video=video)


def test_a_masked_region_never_produces_an_event(area_videos):
    anomalous = area_videos[2]
    area = anomalous.mission.area
    detector = train(Detector.objects.create(area=area, kind="cae", name="tiny", config=TINY_CAE, is_active=True))
    events = list(score(detector, anomalous).events.all())
    assert events and all(e.peak_x is not None for e in events), "the white box raises events"
    add_mask(area, square_around(events[0].peak_x, events[0].peak_y), None, "marina")
    polygons = area_polygons(area.pk)
    run = score(detector, anomalous)
    assert not any(in_masks(e.peak_x, e.peak_y, polygons) for e in run.events.all()), "no event peaks in the mask"
    assert run.events.count() < len(events)
    stored = load_video_scores(Path(settings.MEDIA_ROOT) / run.media_dir)
    assert not any(in_masks(e.peak_x, e.peak_y, polygons) for e in stored.events), "nor in the saved scores"
