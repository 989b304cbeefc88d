"""Evaluate and export jobs on a real Celery worker and the real broker: metrics.json, the zip, failure, cancel."""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from detection.datasets.manifest import read_manifest
from detection.evaluation import metrics
from detection.labels import record_frame_labels
from detection.score_store import load_video_scores
from detection.types import Interval, VideoRecord
from tests.support.jobs import TINY_CAE
from tests.support.seed import make_mission, seed_scored_video
from webapp.catalog.models import Video
from webapp.detectors.models import Detector, Event, ScoreRun
from webapp.jobs import services
from webapp.jobs.models import Job

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def labelled_area(mission, count: int = 1, start: int = 0) -> list[Video]:
    """`count` normal and `count` anomalous (a boat from 4 to 7 s) ready videos with frames, not scored."""
    videos = []
    for index in range(start, start + count):
        videos.append(seed_scored_video(mission, name=f"calm{index}.mp4", seconds=10.0, anomalies=(),
                                        label=Video.Label.NORMAL, kinds=(), seed=2 * index + 1).video)
        videos.append(seed_scored_video(mission, name=f"boat{index}.mp4", seconds=10.0,
                                        anomalies=((4.0, 7.0, "boat"),), kinds=(), seed=2 * index + 2).video)
    return videos


def trained_detector(worker, area) -> Detector:
    detector = Detector.objects.create(area=area, kind="cae", name="tiny", config=TINY_CAE, is_active=True)
    job = worker.wait_for(services.start_training(detector), timeout=240)
    assert job.state == Job.State.SUCCEEDED, f"{job.error}\n{worker.log()[-3000:]}"
    detector.refresh_from_db()
    return detector


def direct_metrics(detector: Detector, videos: list[Video]) -> dict:
    """The headline numbers worked out here from the saved score files and the labels."""
    pooled_labels, pooled_scores, peaks, anomalous = [], [], [], []
    for video in videos:
        run = ScoreRun.objects.get(detector=detector, video=video, status=ScoreRun.Status.READY)
        scores = load_video_scores(Path(settings.MEDIA_ROOT) / run.media_dir, with_heatmaps=False)
        intervals = tuple(Interval(i.start, i.end, i.anomaly_class) for i in video.intervals.all())
        labels = record_frame_labels(scores.times, VideoRecord(path=Path("."), label=video.label, intervals=intervals))
        pooled_labels.append(labels)
        pooled_scores.append(np.asarray(scores.frame_scores, dtype=np.float64))
        peaks.append(float(np.max(scores.frame_scores)))
        anomalous.append(video.label == Video.Label.ANOMALOUS)
    labels, scores = np.concatenate(pooled_labels), np.concatenate(pooled_scores)
    flagged = scores >= detector.threshold
    tp, fp, fn = int((labels & flagged).sum()), int((~labels & flagged).sum()), int((labels & ~flagged).sum())
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn)
    return {"frame_auc": metrics.roc_auc(labels, scores), "frame_ap": metrics.average_precision(labels, scores),
            "precision": precision, "recall": recall,
            "f1": None if precision is None else (2 * precision * recall / (precision + recall) if tp else 0.0),
            "video_auc": metrics.roc_auc(np.array(anomalous), np.array(peaks)), "frames": len(labels),
            "confusion": {"tp": tp, "fp": fp, "tn": int((~labels & ~flagged).sum()), "fn": fn}}


def test_an_evaluation_scores_the_labelled_videos_and_writes_metrics_json(celery_worker):
    mission = make_mission()
    videos = labelled_area(mission, count=2)
    seed_scored_video(mission, name="unknown.mp4", anomalies=(), label=Video.Label.UNLABELLED, kinds=(), seed=99)
    detector = trained_detector(celery_worker, mission.area)
    assert not ScoreRun.objects.filter(detector=detector).exists()

    job = celery_worker.wait_for(services.start_evaluation(detector), timeout=120)
    assert job.state == Job.State.SUCCEEDED, f"{job.error}\n{celery_worker.log()[-3000:]}"
    assert job.worker.startswith("main@") and job.progress == 1.0
    runs = ScoreRun.objects.filter(detector=detector, status=ScoreRun.Status.READY)
    assert sorted(runs.values_list("video_id", flat=True)) == sorted(v.pk for v in videos), "labelled videos only"
    assert sorted(job.result["scored"]) == sorted(runs.values_list("pk", flat=True))

    document = json.loads((Path(settings.MEDIA_ROOT) / job.result["metrics"]).read_text())
    assert job.result["metrics"] == f"detectors/{detector.pk}/evaluations/{job.pk}/metrics.json"
    entry = document["detectors"]["tiny"]
    expected = direct_metrics(detector, videos)
    for key in ("frame_auc", "frame_ap", "precision", "recall", "f1", "video_auc"):
        assert entry[key] == pytest.approx(expected[key]), key
        assert job.result[key] == pytest.approx(expected[key]), key
    assert entry["confusion"] == expected["confusion"] and entry["frames"] == expected["frames"]
    assert document["schema_version"] == 2 and entry["status"] == "ok" and entry["threshold"] == detector.threshold
    assert document["splits"]["evaluated"] == {"videos": 4, "normal": 2, "anomalous": 2, "unlabelled": 0,
                                               "frames": expected["frames"]}
    assert (job.result["videos"], job.result["normal"], job.result["anomalous"]) == (4, 2, 2)
    assert "optimistic" in " ".join(entry["warnings"]), "its training videos are among those measured"
    report = (Path(settings.MEDIA_ROOT) / job.result["report"]).read_text()
    assert report.startswith("# Evaluation") and "tiny" in report
    folder = Path(settings.MEDIA_ROOT) / job.result["metrics"]
    assert sorted(p.name for p in folder.parent.iterdir()) == ["curves.json", "metrics.json", "report.md"], \
        "no temporary files"
    curves = json.loads((Path(settings.MEDIA_ROOT) / job.result["curves"]).read_text())
    assert curves["own"]["frame_auc"] == pytest.approx(expected["frame_auc"]) and curves["comparisons"] == []

    again = celery_worker.wait_for(services.start_evaluation(detector), timeout=120)
    assert again.state == Job.State.SUCCEEDED and again.result["scored"] == [], "scored videos are not rescored"
    assert again.result["frame_auc"] == pytest.approx(job.result["frame_auc"])
    assert ScoreRun.objects.filter(detector=detector).count() == 4


def test_an_evaluation_without_labelled_videos_fails_saying_what_to_label(celery_worker):
    mission = make_mission()
    videos = labelled_area(mission)
    detector = trained_detector(celery_worker, mission.area)
    Video.objects.filter(pk__in=[v.pk for v in videos]).update(label=Video.Label.UNLABELLED)

    job = celery_worker.wait_for(services.start_evaluation(detector), timeout=60)
    assert job.state == Job.State.FAILED and job.stage == "Failed"
    assert "no ready video labelled normal or anomalous" in job.error and "label some of its videos" in job.error
    assert not ScoreRun.objects.filter(detector=detector).exists()


def test_a_running_evaluation_is_cancelled_between_videos_and_a_retry_finishes_it(celery_worker):
    mission = make_mission()
    labelled_area(mission)
    detector = trained_detector(celery_worker, mission.area)
    videos = labelled_area(mission, count=20, start=1)  # 40 more videos the detector has not scored

    job = services.start_evaluation(detector)
    celery_worker.wait_for(job, timeout=60, until=lambda j: j.state == Job.State.RUNNING and j.stage.startswith("Scoring"))
    assert services.cancel_job(job)
    job = celery_worker.wait_for(job, timeout=30)
    assert job.state == Job.State.CANCELLED and job.stage.startswith("Cancelled at"), job.stage
    scored = ScoreRun.objects.filter(detector=detector, status=ScoreRun.Status.READY).count()
    assert scored < len(videos) + 2, "it stopped before scoring every video"
    assert not (Path(settings.MEDIA_ROOT) / f"detectors/{detector.pk}/evaluations/{job.pk}").exists()

    assert services.retry_job(job)
    job = celery_worker.wait_for(job, timeout=180)
    assert job.state == Job.State.SUCCEEDED, job.error
    assert job.result["videos"] == len(videos) + 2
    assert ScoreRun.objects.filter(detector=detector).count() == len(videos) + 2, "no run scored twice"


def test_an_export_zip_holds_the_events_the_report_and_a_manifest(celery_worker):
    mission = make_mission()
    boat = seed_scored_video(mission, name="boat.mp4", anomalies=((10.0, 16.0, "boat"),), seed=1)
    seed_scored_video(mission, name="calm.mp4", anomalies=(), label=Video.Label.NORMAL, seed=2)
    seed_scored_video(mission, name="later.mp4", anomalies=(), label=Video.Label.UNLABELLED, seed=3)
    Event.objects.filter(score_run=boat.runs["cae"]).update(review=Event.Review.CONFIRMED, note="a boat, 12 m")

    job = celery_worker.wait_for(services.start_export(mission), timeout=120)
    assert job.state == Job.State.SUCCEEDED, f"{job.error}\n{celery_worker.log()[-3000:]}"
    path = Path(settings.MEDIA_ROOT) / job.result["zip"]
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name], "no temporary files"
    prefix = f"mission-{mission.pk}/"
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted(prefix + n for n in ("events.csv", "events.json", "events.geojson",
                                                                         "events.kml", "report.html", "manifest.csv"))
        rows = list(csv.DictReader(io.StringIO(archive.read(prefix + "events.csv").decode())))
        document = json.loads(archive.read(prefix + "events.json"))
        html = archive.read(prefix + "report.html").decode()
        (Path(settings.MEDIA_ROOT) / "manifest.csv").write_bytes(archive.read(prefix + "manifest.csv"))

    events = list(Event.objects.filter(score_run__video__mission=mission).order_by("-peak_score", "id"))
    assert len(events) >= 1 and job.result["events"] == len(events)
    assert [int(r["id"]) for r in rows] == [e.pk for e in events]
    for row, event in zip(rows, events):
        assert float(row["peak_score"]) == pytest.approx(event.peak_score)
        assert (float(row["start"]), float(row["end"])) == pytest.approx((event.start, event.end))
        assert (row["review"], row["note"]) == (event.review, event.note)
    assert [e["id"] for e in document["events"]] == [e.pk for e in events]
    assert document["mission"]["name"] == mission.name
    assert "<html" in html.lower() and mission.name in html and "a boat, 12 m" in html

    records = {r.video_id: r for r in read_manifest(Path(settings.MEDIA_ROOT) / "manifest.csv", check_files=False,
                                                    probe_durations=False)}
    assert {k: r.label for k, r in records.items()} == {"boat.mp4": "anomalous", "calm.mp4": "normal",
                                                        "later.mp4": ""}
    assert [(i.start, i.end, i.anomaly_class) for i in records["boat.mp4"].intervals] == [(10.0, 16.0, "boat")]


def test_an_export_cancelled_while_queued_never_runs(celery_worker):
    mission = make_mission()
    seed_scored_video(mission, seed=1)
    blocker = services.start_job("noop", params={"steps": 10, "step_seconds": 0.1})
    export = services.start_export(mission)
    assert services.cancel_job(export)
    celery_worker.wait_for(blocker)
    time.sleep(0.5)
    export.refresh_from_db()
    assert export.state == Job.State.CANCELLED and export.attempts == 0 and export.output_url == ""
    assert not (Path(settings.MEDIA_ROOT) / "exports" / str(export.pk)).exists()


def test_evaluate_runs_on_the_gpu_queue_and_export_on_the_cpu_queue():
    import workers.tasks  # noqa: F401 - registers the tasks, as a worker does at start
    from workers.celery_app import app

    assert [app.amqp.router.route({}, name)["queue"].name for name in ("skerry.evaluate", "skerry.export")] == [
        "gpu", "cpu"]
    assert all(app.tasks[name].soft_time_limit < app.tasks[name].time_limit for name in ("skerry.evaluate",
                                                                                            "skerry.export"))
