"""The rethreshold job: a detector's events re-derived at a new threshold from its stored scores, never rescored.

The seed writes real score files (`detection.score_store`) and events made with `merge_events` at the seed's
threshold; the detector gets a real (untrained, tiny) CAE file, whose event rules are merge_events' defaults.
Scoring is patched to raise, so a test passes only if no frame is scored again.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.utils import timezone

from detection.cae.config import make_config
from detection.cae.model import build_model
from detection.cae.scoring import CAEDetector, normalisation_stats
from detection.events import merge_events
from detection.score_store import load_video_scores
from tests.support.seed import make_mission, make_user, seed_scored_video
from webapp.detectors.levels import level_of
from webapp.detectors.models import Detector, DetectorDecision, Event, ScoreRun
from webapp.jobs.models import Job
from workers.claim import run_job
from workers.rethreshold import run_rethreshold

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(monkeypatch):
    """Two CAE-scored videos of one area (anomalies at 10-16 s and 30-31 s), with a detector file on disk."""
    def no_scoring(*args, **kwargs):
        raise AssertionError("the rethreshold job scored frames again")

    monkeypatch.setattr(CAEDetector, "score_frames", no_scoring)
    monkeypatch.setattr("workers.scoring.score_one", no_scoring)
    mission = make_mission()
    videos = [seed_scored_video(mission, name="boat.mp4", anomalies=((10.0, 16.0, "boat"),), seed=1),
              seed_scored_video(mission, name="person.mp4", anomalies=((30.0, 31.0, "person"),), seed=2)]
    detector = videos[0].runs["cae"].detector
    config = make_config({"input_size": 32, "widths": (8, 16)})
    model_file = Path(settings.MEDIA_ROOT) / detector.media_dir / "model.pt"
    model_file.parent.mkdir(parents=True, exist_ok=True)
    CAEDetector(build_model(config), config, detector.threshold, normalisation_stats(np.zeros(4))).save(model_file)
    Detector.objects.filter(pk=detector.pk).update(artifact=f"{detector.media_dir}/model.pt")
    detector.refresh_from_db()
    return {"detector": detector, "runs": [v.runs["cae"] for v in videos], "admin": make_user("boss", "admin")}


def rethreshold(detector, threshold, user=None) -> Job:
    job = Job.objects.create(kind=Job.Kind.RETHRESHOLD, detector=detector, params={"threshold": threshold},
                             created_by=user)
    state = run_job(job.pk, run_rethreshold, worker="test")
    job.refresh_from_db()
    assert state == job.state, job.error
    return job


def expected_spans(run: ScoreRun, threshold: float) -> list[tuple[float, float, float]]:
    stored = load_video_scores(Path(settings.MEDIA_ROOT) / run.media_dir)
    found = merge_events(stored.times, stored.frame_scores, threshold, heatmaps=stored.heatmaps)
    return sorted((e.start, e.end, e.peak_score) for e in found)


def spans(run: ScoreRun) -> list[tuple[float, float, float]]:
    return sorted(Event.objects.filter(score_run=run).values_list("start", "end", "peak_score"))


def test_it_rederives_every_runs_events_from_the_stored_scores(seeded):
    runs, new = seeded["runs"], 0.15  # low enough that noise on normal frames passes too: more events
    before = [spans(run) for run in runs]
    expected = [expected_spans(run, new) for run in runs]
    job = rethreshold(seeded["detector"], new, seeded["admin"])
    assert job.state == Job.State.SUCCEEDED
    assert [spans(run) for run in runs] == expected != before
    detector = Detector.objects.get(pk=seeded["detector"].pk)
    for event in Event.objects.filter(score_run__detector=detector):  # levels at the new threshold: all >= 1
        assert event.level == pytest.approx(level_of(detector, event.peak_score)) and event.level >= 1
    assert sum(map(len, expected)) > sum(map(len, before))
    assert job.result == {"threshold": new, "previous": 0.3, "runs": 2, "events": sum(map(len, expected))}
    for run in runs:  # the files say the same, so an evaluation counts the new events
        stored = load_video_scores(Path(settings.MEDIA_ROOT) / run.media_dir, with_heatmaps=False)
        assert stored.threshold == new and sorted((e.start, e.end, e.peak_score) for e in stored.events) == spans(run)
        assert ScoreRun.objects.get(pk=run.pk).threshold == new


def test_it_changes_the_threshold_and_records_who_and_when(seeded):
    started = timezone.now()
    job = rethreshold(seeded["detector"], 0.35, seeded["admin"])
    assert Detector.objects.get(pk=seeded["detector"].pk).threshold == 0.35
    decision = DetectorDecision.objects.get(detector=seeded["detector"])
    assert (decision.decision, decision.old_threshold, decision.new_threshold) == ("threshold", 0.3, 0.35)
    assert decision.user == seeded["admin"] and decision.job == job and decision.made >= started


def test_reviews_stay_with_the_anomaly_they_judged(seeded):
    run = seeded["runs"][0]
    boat = Event.objects.filter(score_run=run, start__lte=13, end__gte=13).get()
    Event.objects.filter(pk=boat.pk).update(review=Event.Review.CONFIRMED, note="a boat", reviewed_at=timezone.now())
    rethreshold(seeded["detector"], 0.53)  # the span breaks up into its hottest frames; the peak is the same frame
    (after,) = Event.objects.filter(score_run=run, start__lte=boat.peak_time, end__gte=boat.peak_time)
    assert (after.review, after.note, after.peak_time) == (Event.Review.CONFIRMED, "a boat", boat.peak_time)
    rethreshold(seeded["detector"], 10.0)  # nothing passes any more: the confirmed event is kept, a label
    (kept,) = Event.objects.filter(score_run__detector=seeded["detector"])
    assert kept.review == Event.Review.CONFIRMED and kept.level == pytest.approx(kept.peak_score / 10.0) and kept.level < 1


def test_it_refuses_a_threshold_that_is_not_a_number(seeded):
    job = rethreshold(seeded["detector"], "nan")
    assert job.state == Job.State.FAILED and "finite" in job.error
    assert Detector.objects.get(pk=seeded["detector"].pk).threshold == 0.3


def test_it_fails_clearly_without_a_model_file(seeded):
    Detector.objects.filter(pk=seeded["detector"].pk).update(artifact="")
    job = rethreshold(seeded["detector"], 0.2)
    assert job.state == Job.State.FAILED and "no trained model file" in job.error


def test_scoring_after_a_new_threshold_flags_at_the_detectors_threshold_not_the_files(seeded, monkeypatch):
    """The model file still carries the threshold it was trained with; the Detector row is the truth."""
    monkeypatch.undo()  # scoring is what this test does
    from workers.scoring import score_one

    detector, video = seeded["detector"], seeded["runs"][0].video
    run = score_one(detector, video, lambda *args, **kwargs: None)  # the tiny model's own scores, at 0.3
    new = float(np.median(load_video_scores(Path(settings.MEDIA_ROOT) / run.media_dir).frame_scores))
    rethreshold(detector, new)
    detector.refresh_from_db()
    run = score_one(detector, video, lambda *args, **kwargs: None)
    stored = load_video_scores(Path(settings.MEDIA_ROOT) / run.media_dir)
    assert run.threshold == stored.threshold == new
    assert spans(run) == expected_spans(run, new) != expected_spans(run, 0.3)
