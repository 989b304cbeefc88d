"""The evaluation pipeline: a detector -> its area's labelled videos scored -> metrics.json and report.md.

Videos labelled normal or anomalous that the detector has not scored yet are scored first, with the scoring
pipeline's own `score_one` (so their ScoreRuns and events are the ones the reports show). The numbers come
from `detection.evaluation.summary.summarise`, the same code as `python -m detection evaluate`, and the
document follows `detection.evaluation.schema` (one detector entry). Frame truth is the catalog's: a normal
video is all negative, an anomalous one is positive inside its labelled intervals; an anomalous video without
intervals has no frame truth and is left out with a warning, as the library's runner does.

Files go to media/detectors/<id>/evaluations/<job id>/ through temporary names; a re-run rewrites them.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from django.conf import settings

from webapp.catalog.models import Video
from webapp.detectors.models import Detector, ScoreRun
from webapp.jobs.models import Job
from workers.leftovers import remove_leftovers
from workers.progress import JobError, JobReporter
from workers.results import jsonable
from workers.scoring import score_each

HEADLINE_KEYS = ("frame_auc", "frame_ap", "precision", "recall", "f1", "video_auc", "threshold")
LABELLED = (Video.Label.NORMAL, Video.Label.ANOMALOUS)


def evaluation_dir(detector_id: int, job_id: int) -> str:
    """The job's output folder, relative to MEDIA_ROOT."""
    return f"detectors/{detector_id}/evaluations/{job_id}"


def labelled_videos(detector: Detector) -> list[Video]:
    """The area's ready videos labelled normal or anomalous, with their intervals."""
    videos = Video.objects.filter(mission__area=detector.area_id, status=Video.Status.READY, label__in=LABELLED)
    return list(videos.select_related("mission").prefetch_related("intervals").order_by("pk"))


def check_classes(detector: Detector, videos: list[Video]) -> None:
    """A JobError saying what to label when the videos cannot measure anything."""
    area = detector.area.name
    normal = sum(v.label == Video.Label.NORMAL for v in videos)
    anomalous = sum(v.label == Video.Label.ANOMALOUS and bool(v.intervals.all()) for v in videos)
    if not videos:
        raise JobError(f"area “{area}” has no ready video labelled normal or anomalous: label some of its videos "
                       "(at least one normal, and one anomalous with its anomalous intervals marked), then "
                       "evaluate again")
    if not normal or not anomalous:
        raise JobError(f"area “{area}” has labelled videos of one class only ({normal} normal, {anomalous} anomalous "
                       "with intervals): an evaluation needs both; label at least one normal video and one "
                       "anomalous video with its anomalous intervals marked, then evaluate again")


def run_evaluation(job: Job, reporter: JobReporter) -> dict:
    detector = Detector.objects.select_related("area").filter(pk=job.detector_id).first()
    if detector is None:
        raise JobError("the detector of this evaluation job was deleted")
    if detector.status != Detector.Status.READY:
        raise JobError(f"{detector.name} is not trained ({detector.get_status_display().lower()}): train it first")
    reporter.stage("Gathering labelled videos")
    videos = labelled_videos(detector)
    check_classes(detector, videos)
    scored = score_missing(detector, videos, reporter.span(0.0, 0.85))
    reporter.progress(0.85, "Computing the metrics", force=True)
    document = evaluation_document(detector, videos, job)
    reporter.check_cancelled()
    reporter.progress(0.95, "Writing metrics.json and report.md", force=True)
    folder = evaluation_dir(detector.pk, job.pk)
    write_outputs(Path(settings.MEDIA_ROOT) / folder, document)
    entry = document["detectors"][detector.name]
    counts = document["splits"]["evaluated"]
    return {"metrics": f"{folder}/metrics.json", "report": f"{folder}/report.md", "scored": scored,
            "videos": counts["videos"], "normal": counts["normal"], "anomalous": counts["anomalous"],
            "frames": entry["frames"], **{key: entry[key] for key in HEADLINE_KEYS},
            "warnings": entry["warnings"]}


def score_missing(detector: Detector, videos: list[Video], progress: JobReporter) -> list[int]:
    """Score, with the scoring pipeline, the videos that have no ready ScoreRun of this detector."""
    done = set(ScoreRun.objects.filter(detector=detector, status=ScoreRun.Status.READY).values_list("video_id", flat=True))
    missing = [v for v in videos if v.pk not in done]
    runs, failures = score_each(
        [(detector, video) for video in missing], progress,
        lambda i, d, v: f"Scoring {v.original_name} ({i + 1} of {len(missing)} not scored yet)",
        lambda d, v, message: f"{v.original_name}: {message}",
    )
    if failures:
        raise JobError(f"{len(failures)} of {len(missing)} labelled videos could not be scored, so the evaluation "
                       "would leave them out: " + "; ".join(failures))
    return runs


def scored_videos(detector: Detector, videos: list[Video]) -> tuple[list, list[str]]:
    """(ScoredVideo per video with frame truth, warnings) from the detector's saved scores."""
    from detection.evaluation.summary import ScoredVideo
    from detection.labels import record_frame_labels
    from detection.score_store import load_video_scores
    from detection.types import Interval, VideoRecord

    runs = {r.video_id: r for r in ScoreRun.objects.filter(detector=detector, status=ScoreRun.Status.READY)}
    scored, warnings = [], []
    for video in videos:
        intervals = tuple(Interval(i.start, i.end, i.anomaly_class) for i in video.intervals.all())
        record = VideoRecord(path=Path(video.file or "."), label=video.label, intervals=intervals, video_id=str(video.pk))
        scores = load_video_scores(Path(settings.MEDIA_ROOT) / runs[video.pk].media_dir, with_heatmaps=False)
        labels = record_frame_labels(scores.times, record)
        if labels is None:
            warnings.append(f"{video.original_name} (video {video.pk}): anomalous without intervals, left out")
            continue
        scored.append(ScoredVideo(video_id=str(video.pk), is_anomalous=record.is_anomalous,
                                  times=np.asarray(scores.times, dtype=np.float64),
                                  scores=np.asarray(scores.frame_scores, dtype=np.float64), labels=labels,
                                  intervals=intervals, events=scores.events))
    return scored, warnings


def evaluation_document(detector: Detector, videos: list[Video], job: Job) -> dict:
    """The metrics.json document (detection.evaluation.schema), with where its videos came from."""
    from detection.evaluation.schema import SCHEMA_VERSION
    from detection.evaluation.summary import summarise

    scored, warnings = scored_videos(detector, videos)
    threshold = detector.threshold
    if threshold is None:
        raise JobError(f"{detector.name} has no threshold: train it again")
    entry = summarise(detector.kind, scored, threshold, train_seconds=0.0, score_seconds=0.0)
    entry["score_seconds"] = entry["score_fps"] = entry["train_seconds"] = None  # not measured here
    trained_on = set(detector.training_videos.values_list("pk", flat=True))
    overlap = sum(int(s.video_id) in trained_on for s in scored)
    if overlap:
        warnings.append(f"{overlap} of the {len(scored)} videos trained this detector: their numbers are optimistic")
    entry["warnings"] = [*warnings, *entry["warnings"]]
    used = {int(s.video_id) for s in scored}
    chosen = [v for v in videos if v.pk in used]
    return jsonable({
        "schema_version": SCHEMA_VERSION,
        "manifest": "",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {"fps": chosen[0].sample_fps if chosen else None, "size": None, "seed": None,
                     "epochs": detector.config.get("epochs"),
                     "detectors": {detector.name: {"kind": detector.kind, "overrides": detector.config,
                                                   "file": detector.artifact}}},
        "splits": {"evaluated": {
            "videos": len(chosen), "normal": sum(v.label == Video.Label.NORMAL for v in chosen),
            "anomalous": sum(v.label == Video.Label.ANOMALOUS for v in chosen), "unlabelled": 0,
            "frames": int(sum(len(s.times) for s in scored))}},
        "detectors": {detector.name: entry},
        "source": {"area": detector.area.name, "area_id": detector.area_id, "detector_id": detector.pk,
                   "job_id": job.pk, "videos": [{"id": v.pk, "name": v.original_name, "label": v.label,
                                                 "mission": v.mission.name, "trained_on": v.pk in trained_on}
                                                for v in chosen]},
    })


def report_markdown(document: dict) -> str:
    """A short report.md: the library's tables for the one detector, under a header saying what was measured."""
    from detection.evaluation.report_md import (
        events_table,
        failures,
        origin_form_table,
        per_class_table,
        summary_table,
    )

    detectors, counts, source = document["detectors"], document["splits"]["evaluated"], document["source"]
    parts = [
        "# Evaluation on the labelled videos of an area",
        f"Area “{source['area']}”, created {document['created']}: {counts['videos']} labelled videos "
        f"({counts['normal']} normal, {counts['anomalous']} anomalous), {counts['frames']} frames. Anomaly is the "
        "positive class; the threshold is the detector's own.",
        "## Frame level", summary_table(detectors),
        "## Video level (a video's score is its highest frame score)", origin_form_table(detectors, prefix="video_"),
        "## Events (an interval is found when a flagged event overlaps it)", events_table(detectors),
        "## Recall per anomaly class", per_class_table(detectors),
        "## Warnings", failures(detectors),
    ]
    return "\n\n".join(parts) + "\n"


def write_outputs(folder: Path, document: dict) -> None:
    """metrics.json and report.md, each written to a temporary name and moved into place."""
    folder.mkdir(parents=True, exist_ok=True)
    remove_leftovers(folder, ".*")  # a killed earlier run's temporary files
    for name, text in (("metrics.json", json.dumps(document, indent=1)), ("report.md", report_markdown(document))):
        temporary = folder / f".{name}.{os.getpid()}.tmp"
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, folder / name)
