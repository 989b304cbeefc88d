"""The evaluation pipeline: a detector -> its area's labelled videos scored -> metrics.json, curves.json, report.md.

Videos with labels (`Video.as_record`: labelled normal or anomalous, or with a confirmed event) that the
detector has not scored yet are scored first, with the scoring pipeline's own `score_one` (so their ScoreRuns
and events are the ones the reports show). The numbers come from `detection.evaluation.summary.summarise`,
the same code as `python -m detection evaluate`, and the document follows `detection.evaluation.schema` (one
detector entry). curves.json holds what the detector page draws (`detection.evaluation.plot_data`): the page
reads these files and computes nothing. The job's result records `evaluation_inputs`, which the page compares
to say when the numbers are stale. Frame truth is the record's: a normal video is all negative, an anomalous
one is positive inside its intervals; an anomalous video without intervals has no frame truth and is left out
with a warning, as the library's runner does.

Files go to media/detectors/<id>/evaluations/<job id>/ through temporary names; a re-run rewrites them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db.models import Q

from detection.atomic_files import write_text
from detection.evaluation import plot_data
from detection.evaluation.schema import SCHEMA_VERSION
from detection.evaluation.summary import ScoredVideo, summarise
from detection.json_values import json_text, plain_json
from detection.labels import record_frame_labels
from detection.score_store import load_video_scores
from detection.types import VideoRecord
from webapp.catalog.models import Video
from webapp.detectors.models import Detector, Event, ScoreRun
from webapp.jobs.models import Job
from webapp.reports.evaluation import evaluation_inputs
from workers.leftovers import remove_leftovers
from workers.progress import JobError, JobReporter
from workers.scoring import score_each

HEADLINE_KEYS = ("frame_auc", "frame_ap", "precision", "recall", "f1", "video_auc", "threshold")
LABELLED = (Video.Label.NORMAL, Video.Label.ANOMALOUS)


def evaluation_dir(detector_id: int, job_id: int) -> str:
    """The job's output folder, relative to MEDIA_ROOT."""
    return f"detectors/{detector_id}/evaluations/{job_id}"


def labelled_videos(detector: Detector) -> list[Video]:
    """The area's ready videos labelled normal or anomalous, or with a confirmed event (`Video.as_record`)."""
    videos = Video.objects.filter(mission__area=detector.area_id, status=Video.Status.READY)
    videos = videos.filter(Q(label__in=LABELLED) | Q(score_runs__events__review=Event.Review.CONFIRMED)).distinct()
    return list(videos.select_related("mission").prefetch_related("intervals").order_by("pk"))


def check_classes(detector: Detector, records: list[VideoRecord], *, held_out: bool = False) -> None:
    """A JobError saying what to label when the videos cannot measure anything."""
    area = detector.area.name
    if held_out and not records:
        raise JobError(f"{detector.name} trained on every labelled video of area “{area}”: put some labelled "
                       "videos in the test split (never trained on) to measure it on held-out videos")
    normal = sum(r.label == Video.Label.NORMAL for r in records)
    anomalous = sum(r.label == Video.Label.ANOMALOUS and bool(r.intervals) for r in records)
    if not records:
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
    if detector.threshold is None:
        raise JobError(f"{detector.name} has no threshold: train it again")
    reporter.stage("Gathering labelled videos")
    videos = labelled_videos(detector)
    held_out = bool(job.params.get("held_out"))
    if held_out:  # a retrained version: measured only on videos it did not train on
        trained_on = set(detector.training_videos.values_list("pk", flat=True))
        videos = [v for v in videos if v.pk not in trained_on]
    check_classes(detector, [v.as_record() for v in videos], held_out=held_out)
    parent = detector.parent if held_out and detector.parent_id and detector.parent.threshold is not None else None
    scored = score_missing(detector, videos, reporter.span(0.0, 0.6 if parent else 0.85))
    if parent is not None:  # the version it was retrained from, on the same videos, for the side-by-side rows
        score_missing(parent, videos, reporter.span(0.6, 0.85))
    reporter.progress(0.85, "Computing the metrics", force=True)
    inputs = evaluation_inputs(detector)  # taken before the labels are read: a change from here on reads as stale
    records = {v.pk: v.as_record() for v in videos}
    measured, warnings = scored_videos(detector, videos, records)
    document = evaluation_document(detector, videos, records, measured, warnings, job)
    curves = page_curves(detector, videos, records, measured)
    reporter.check_cancelled()
    reporter.progress(0.95, "Writing metrics.json, curves.json and report.md", force=True)
    folder = evaluation_dir(detector.pk, job.pk)
    write_outputs(Path(settings.MEDIA_ROOT) / folder, document, curves)
    entry = document["detectors"][detector.name]
    counts = document["splits"]["evaluated"]
    return {"metrics": f"{folder}/metrics.json", "curves": f"{folder}/curves.json", "report": f"{folder}/report.md",
            "scored": scored, "videos": counts["videos"], "normal": counts["normal"],
            "anomalous": counts["anomalous"], "frames": entry["frames"], **{key: entry[key] for key in HEADLINE_KEYS},
            "warnings": entry["warnings"], "inputs": inputs, "held_out": document["source"]["held_out"],
            "held_out_names": [v["name"] for v in document["source"]["videos"] if not v["trained_on"]],
            "held_out_only": document["source"]["held_out_only"]}


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


def scored_videos(detector: Detector, videos: list[Video], records: dict[int, VideoRecord]) -> tuple[list, list[str]]:
    """(ScoredVideo per video with frame truth and a ready score run of `detector`, warnings)."""
    runs = {r.video_id: r for r in ScoreRun.objects.filter(detector=detector, status=ScoreRun.Status.READY)}
    scored, warnings = [], []
    for video in (v for v in videos if v.pk in runs):
        record = records[video.pk]
        scores = load_video_scores(Path(settings.MEDIA_ROOT) / runs[video.pk].media_dir, with_heatmaps=False)
        labels = record_frame_labels(scores.times, record)
        if labels is None:
            warnings.append(f"{video.original_name} (video {video.pk}): anomalous without intervals, left out")
            continue
        scored.append(ScoredVideo(video_id=record.video_id, is_anomalous=record.is_anomalous,
                                  times=np.asarray(scores.times, dtype=np.float64),
                                  scores=np.asarray(scores.frame_scores, dtype=np.float64), labels=labels,
                                  intervals=record.intervals, events=scores.events))
    return scored, warnings


def page_curves(detector: Detector, videos: list[Video], records: dict[int, VideoRecord], measured: list) -> dict:
    """curves.json: what the detector page draws (detection.evaluation.plot_data), and the area's other
    detectors side by side with this one on the videos both scored."""
    labels, scores = plot_data.pooled(measured)
    sides = []
    others = Detector.objects.filter(area=detector.area_id).exclude(pk=detector.pk).exclude(threshold=None)
    for other in others.order_by("kind", "pk"):
        theirs, _ = scored_videos(other, videos, records)
        common = {s.video_id for s in theirs} & {s.video_id for s in measured}
        if common:
            sides.append({"detector_id": other.pk, "name": other.name, "kind": other.kind, "videos": len(common),
                          "rows": [plot_data.curve_row(_title(detector), [s for s in measured if s.video_id in common],
                                                       detector.threshold),
                                   plot_data.curve_row(_title(other), [s for s in theirs if s.video_id in common],
                                                       other.threshold)]})
    return {"own": plot_data.curve_row(_title(detector), measured, detector.threshold),
            "slider": plot_data.threshold_table(labels, scores, detector.threshold),
            "class_peaks": plot_data.class_peaks(measured), "comparisons": sides}


def _title(detector: Detector) -> str:
    return f"{detector.name} ({detector.kind})"


def evaluation_document(detector: Detector, videos: list[Video], records: dict[int, VideoRecord], scored: list,
                        warnings: list[str], job: Job) -> dict:
    """The metrics.json document (detection.evaluation.schema), with where its videos came from."""
    entry = summarise(detector.kind, scored, detector.threshold, train_seconds=0.0, score_seconds=0.0,
                      level_zero=(detector.validation_metrics or {}).get("val_normal_median"))
    entry["score_seconds"] = entry["score_fps"] = entry["train_seconds"] = None  # not measured here
    trained_on = set(detector.training_videos.values_list("pk", flat=True))
    overlap = sum(int(s.video_id) in trained_on for s in scored)
    if overlap:
        warnings.append(f"{overlap} of the {len(scored)} videos trained this detector: their numbers are optimistic")
    entry["warnings"] = [*warnings, *entry["warnings"]]
    used = {int(s.video_id) for s in scored}
    chosen = [v for v in videos if v.pk in used]
    return plain_json({
        "schema_version": SCHEMA_VERSION,
        "manifest": "",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {"fps": chosen[0].sample_fps if chosen else None, "size": None, "seed": None,
                     "epochs": detector.config.get("epochs"),
                     "detectors": {detector.name: {"kind": detector.kind, "overrides": detector.config,
                                                   "file": detector.artifact}}},
        "splits": {"evaluated": {
            "videos": len(chosen), "normal": sum(not s.is_anomalous for s in scored),
            "anomalous": sum(s.is_anomalous for s in scored), "unlabelled": 0,
            "frames": int(sum(len(s.times) for s in scored))}},
        "detectors": {detector.name: entry},
        "source": {"area": detector.area.name, "area_id": detector.area_id, "detector_id": detector.pk,
                   "job_id": job.pk, "held_out_only": bool(job.params.get("held_out")),
                   "held_out": [v.pk for v in chosen if v.pk not in trained_on],
                   "videos": [{"id": v.pk, "name": v.original_name, "label": records[v.pk].label,
                               "mission": v.mission.name, "trained_on": v.pk in trained_on} for v in chosen]},
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


def write_outputs(folder: Path, document: dict, curves: dict) -> None:
    """metrics.json, curves.json and report.md, each written to a temporary name and moved into place."""
    folder.mkdir(parents=True, exist_ok=True)
    remove_leftovers(folder, ".*")  # a killed earlier run's temporary files
    write_text(folder / "metrics.json", json_text(document, indent=1))
    write_text(folder / "curves.json", json_text(curves))
    write_text(folder / "report.md", report_markdown(document))
