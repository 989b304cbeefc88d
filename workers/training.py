"""The training pipeline: a Detector row -> its area's labelled ready videos -> detection's trainer -> model.pt.

Labels come from `Video.as_record` (the catalog's label and intervals, confirmed events of earlier score runs
as anomalous intervals, dismissed ones as normal intervals): a video nobody labelled trains on the spans its
dismissed events cover. The reviewed events read are recorded on the detector (`reviews_used`, its lineage).
A job with params {"evaluate": true} (retraining with reviews) starts the evaluation on held-out videos after.
The split is each video's `split` when set (test videos are never used), else a deterministic one per label.
A CHANGE detector trains on the area's reference flights instead (webapp.catalog.references: pinned and recent
normal ones), at native resolution, and validates on every other labelled video.
The model file is written atomically by `Detector.save`; reconstruction grids go to recon_<epoch>.png.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from detection.atomic_files import replacing
from detection.json_values import plain_json
from webapp.catalog.models import Video
from webapp.catalog.references import reference_set
from webapp.detectors.models import Detector, Event
from webapp.detectors.validation import failed_training
from webapp.jobs.models import Job
from webapp.jobs.services import start_held_out_evaluation, start_scoring
from workers.claim import describe_error
from workers.frames import detector_frames
from workers.leftovers import remove_leftovers
from workers.progress import JobError, JobLost, JobReporter, JobStopped

VALIDATION_EVERY = 5  # automatic split: every 5th video of each label validates


def split_videos(videos: list[Video], records: dict) -> tuple[list[Video], list[Video]]:
    """(train, val): explicit splits first; the rest every VALIDATION_EVERY-th per label, at least one if 2+."""
    train = [v for v in videos if v.split == Video.Split.TRAIN]
    val = [v for v in videos if v.split == Video.Split.VAL]
    auto = [v for v in videos if v.split == Video.Split.AUTO]
    for label in sorted({records[v.pk].label for v in auto}):
        group = sorted((v for v in auto if records[v.pk].label == label), key=lambda v: v.pk)
        chosen = {v.pk for i, v in enumerate(group) if i % VALIDATION_EVERY == VALIDATION_EVERY - 1}
        if not chosen and len(group) >= 2:
            chosen = {group[-1].pk}
        train += [v for v in group if v.pk not in chosen]
        val += [v for v in group if v.pk in chosen]
    return train, val


def training_videos(detector: Detector) -> list[Video]:
    videos = Video.objects.filter(mission__area=detector.area_id, status=Video.Status.READY).exclude(
        split=Video.Split.TEST
    ).prefetch_related("intervals")
    return [v for v in videos.order_by("pk")]


def run_training(job: Job, reporter: JobReporter) -> dict:
    detector = Detector.objects.select_related("area").filter(pk=job.detector_id).first()
    if detector is None:
        raise JobError("the detector of this training job was deleted")
    Detector.objects.filter(pk=detector.pk).update(status=Detector.Status.TRAINING, error="")
    try:
        result = _train(detector, job, reporter)
    except JobLost:
        raise
    except JobStopped:
        status = Detector.Status.READY if detector.artifact else Detector.Status.PENDING
        Detector.objects.filter(pk=detector.pk).update(status=status, error="Training was cancelled.")
        raise
    except Exception as exc:
        Detector.objects.filter(pk=detector.pk).update(status=Detector.Status.FAILED, error=describe_error(exc))
        raise
    if job.params.get("score_area"):
        result["scoring_jobs"] = _score_area(detector)
    if job.params.get("evaluate"):
        result["evaluation_job"] = start_held_out_evaluation(detector, user=job.created_by).pk
    return result


def reviews_read(videos: list[Video]) -> dict[str, list[int]]:
    """The ids of the confirmed and dismissed events of `videos`: the reviews this training read as labels."""
    events = Event.objects.filter(score_run__video__in=videos, review__in=[Event.Review.CONFIRMED,
                                                                           Event.Review.DISMISSED])
    found = {"confirmed": [], "dismissed": []}
    for pk, review in events.order_by("pk").values_list("pk", "review"):
        found[review].append(pk)
    return found


def _train(detector: Detector, job: Job, reporter: JobReporter) -> dict:
    from detection.registry import TrainItem, trainer

    reporter.stage("Gathering labelled videos")
    videos = training_videos(detector)
    records = {v.pk: v.as_record() for v in videos}
    labelled = [v for v in videos if records[v.pk].label or records[v.pk].normal_intervals]
    if detector.compares_flights:
        train, val = reference_split(detector, labelled)
        used = train + val
        # A reference flight is normal by the analyst's choice (a pinned one may be unlabelled), and the
        # trainer takes the normal train items as its references.
        records.update({v.pk: dataclasses.replace(records[v.pk], label=Video.Label.NORMAL.value, intervals=())
                        for v in train})
    else:
        if not labelled:
            raise JobError(f"no labelled ready video in area “{detector.area.name}”: label some videos normal or "
                           "anomalous first")
        train, val = split_videos(labelled, records)
        used = labelled
    reporter.stage(f"Loading frames of {len(used)} videos")
    items = {v.pk: TrainItem(frames=detector_frames(v, detector.kind), record=records[v.pk]) for v in used}
    train_fn = trainer(detector.kind)
    overrides, note = training_overrides(detector)
    reporter.stage(f"Training on {len(train)} videos, validating on {len(val)}{note}")
    model, report = train_fn([items[v.pk] for v in train], [items[v.pk] for v in val],
                             overrides=overrides, progress=reporter.span(0.05, 0.92), seed=0)
    reporter.stage("Saving the model")
    folder = Path(settings.MEDIA_ROOT) / detector.media_dir
    folder.mkdir(parents=True, exist_ok=True)
    remove_leftovers(folder, ".*")  # temporary files of a killed earlier run
    model.save(folder / "model.pt")  # written to a temporary name and moved into place
    images = write_reconstructions(folder, report.reconstructions)
    metrics = plain_json({**report.validation_metrics, "warnings": list(report.warnings)})
    curve = plain_json(list(report.curve))
    warnings = list(report.warnings)
    degenerate = failed_training(metrics, curve)
    # Asked to be active when trained: a model that learnt nothing is made active only by an admin's confirmation.
    if degenerate and Detector.objects.filter(pk=detector.pk, is_active=True).update(is_active=False):
        warnings.append(f"not made active, its training failed: {'; '.join(degenerate)}")
    with transaction.atomic():
        Detector.objects.filter(pk=detector.pk).update(
            status=Detector.Status.READY, artifact=f"{detector.media_dir}/model.pt", threshold=float(model.threshold),
            validation_metrics=metrics, training_curve=curve, trained=timezone.now(),
            error="", reviews_used=reviews_read(used),
        )
        detector.training_videos.set(used)
        detector.reference_videos.set(train if detector.compares_flights else [])
        if Detector.objects.filter(pk=detector.pk, is_active=True).exists():
            # The newly trained detector replaces the area's earlier active one of the same kind.
            Detector.objects.filter(area=detector.area_id, kind=detector.kind, is_active=True).exclude(
                pk=detector.pk).update(is_active=False)
    return {"train_videos": [v.pk for v in train], "val_videos": [v.pk for v in val],
            "threshold": float(model.threshold), "seconds": round(report.train_seconds, 2),
            "reconstructions": images, "warnings": warnings}


def reference_split(detector: Detector, labelled: list[Video]) -> tuple[list[Video], list[Video]]:
    """A CHANGE detector's (train, val): its reference flights, and every other labelled video to set the
    threshold on (normals) and measure it (anomalous ones)."""
    references = reference_set(detector.area, detector.reference_count)
    if not references:
        raise JobError(f"no reference flight in area “{detector.area.name}”: label some ready videos normal or "
                       "pin one as a reference flight first")
    chosen = {v.pk for v in references}
    return references, [v for v in labelled if v.pk not in chosen]


CAE_EXTRACTORS = ("mobilenet_v2+cae", "cae")  # MIL extractors built on the area's CAE


def training_overrides(detector: Detector) -> tuple[dict, str]:
    """(the trainer's overrides, a note for the stage line). A MIL detector whose extractor is built on the
    area's CAE (the default) uses the area's active, ready frame CAE rather than training one of its own, unless
    its config names a CAE file or the epochs to train one with."""
    overrides = detector.trainer_overrides()
    if detector.kind != Detector.Kind.MIL or "cae_detector" in overrides or "cae_epochs" in overrides:
        return overrides, ""
    from detection.mil.config import make_config as mil_config

    try:
        extractor = mil_config(overrides).extractor
    except ValueError:
        return overrides, ""  # the trainer names the bad setting
    if extractor not in CAE_EXTRACTORS:
        return overrides, ""
    candidates = Detector.objects.filter(
        area=detector.area_id, kind=Detector.Kind.CAE, is_active=True, status=Detector.Status.READY
    ).exclude(artifact="")
    from detection.cae.config import make_config as cae_config

    for cae in candidates:
        try:
            resolved = cae_config(cae.trainer_overrides())
        except (ValueError, TypeError):
            continue
        path = Path(settings.MEDIA_ROOT) / cae.artifact
        if not resolved.tiled and resolved.sequence_length == 1 and path.is_file():
            overrides["cae_detector"] = str(path)
            return overrides, f" (features from the area's CAE “{cae.name}”)"
    return overrides, ""


def write_reconstructions(folder: Path, reconstructions: dict) -> list[str]:
    """Save each epoch's (inputs, outputs) as a PNG grid: inputs on the top row, reconstructions below."""
    from PIL import Image

    names = []
    for epoch, (inputs, outputs) in sorted(reconstructions.items()):
        inputs, outputs = np.asarray(inputs, dtype=np.uint8), np.asarray(outputs, dtype=np.uint8)
        top = np.concatenate(list(inputs), axis=1)  # (H, B*W, 3)
        bottom = np.concatenate(list(outputs), axis=1)
        grid = np.concatenate([top, bottom], axis=0)  # (2H, B*W, 3)
        name = f"recon_{int(epoch)}.png"
        with replacing(folder / name) as staging:
            Image.fromarray(grid).save(staging, format="PNG")
        names.append(name)
    return names


def _score_area(detector: Detector) -> list[int]:
    jobs = [start_scoring(m, detectors=[detector]) for m in detector.area.missions.all()]
    return [job.pk for job in jobs if job is not None]
