"""Running an evaluation: every detector trained on train, thresholded on val, and scored on test only.

    result = evaluate(records, EvaluationSettings(detectors=("cae", "iforest")))
    result.metrics   # the metrics.json document (schema in detection.evaluation.schema)
    result.curves    # {name: ROC/PR points and per-video timelines} for the HTML report

Event metrics use the events each detector returns with its scores (merged with its own settings), the
ones the web app's score runs store, so the CLI and the evaluate job measure the same events.

The test split is touched only after a detector is trained and its threshold fixed: trainers receive the
train and val items alone (a detector may be set to train on train+val, never on test). A detector that fails to train or score gets an entry with status "failed" and
the reason; the others still run. A setting "@NAME" hands a detector the file of the detector NAME trained
earlier in the same run: `--set mil.cae_detector=@cae` builds the MIL's features on that CAE instead of
training a second one.
"""

from __future__ import annotations

import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import numpy as np
from tqdm import tqdm

from detection import registry
from detection.errors import DetectionError, TrainingDataError, VideoError
from detection.evaluation import everyday
from detection.evaluation.baselines import BASELINES, train_baseline
from detection.evaluation.groundtruth import GroundTruthCache
from detection.evaluation.schema import SCHEMA_VERSION, empty_detector_entry
from detection.evaluation.summary import ScoredVideo, curves, summarise
from detection.labels import record_frame_labels
from detection.registry import TrainItem
from detection.types import SampledFrames, VideoRecord

SPLITS = ("train", "val", "test")
FrameLoader = Callable[[VideoRecord], SampledFrames]


@dataclass(frozen=True)
class DetectorSpec:
    """One detector to evaluate: `name` in the reports, `kind` (a registry kind or a baseline), or a file."""

    name: str
    kind: str
    overrides: dict = field(default_factory=dict)
    file: Path | None = None


@dataclass(frozen=True)
class EvaluationSettings:
    detectors: tuple[DetectorSpec, ...]
    fps: float = 2.0
    size: tuple[int, int] = (124, 124)  # (width, height) of sampled frames
    seed: int = 0
    manifest: str = ""
    cache_dir: Path | None = None


@dataclass(frozen=True)
class EvaluationResult:
    metrics: dict  # the metrics.json document
    curves: dict  # {name: {"roc", "pr", "timelines"}}
    errors: dict  # {name: traceback} of the detectors that failed


def parse_detectors(
    text: str, *, epochs: int | None = None, settings: Sequence[str] = ()
) -> list[DetectorSpec]:
    """Specs from "cae,mil,base=iforest" (NAME or NAME=KIND) and "NAME.key=value" settings.

    `epochs` becomes each CAE's `epochs` setting. Values are parsed as numbers or booleans where they look so.
    One setting belongs to the runner, not the trainer: `train_splits` ("train", or "train+val" for a
    detector such as MIL that needs anomalous training videos when the train split has none).
    """
    specs: dict[str, DetectorSpec] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, kind = part.partition("=")
        kind = kind or name
        if kind not in registry.KINDS and kind not in BASELINES:
            known = ", ".join(sorted([*registry.KINDS, *BASELINES]))
            raise ValueError(f"unknown detector kind {kind!r} in --detectors; known kinds: {known}")
        if name in specs:
            raise ValueError(f"detector name {name!r} is given twice in --detectors")
        overrides = {"epochs": epochs} if epochs is not None and kind == "cae" else {}
        specs[name] = DetectorSpec(name, kind, overrides)
    for setting in settings:
        target, _, value = setting.partition("=")
        name, _, key = target.partition(".")
        if not value or not key or name not in specs:
            raise ValueError(
                f"--set {setting!r}: expected NAME.key=value with NAME one of {', '.join(specs)}"
            )
        specs[name].overrides[key] = _parse_value(value)
    for spec in specs.values():
        training_splits(spec.overrides)
    return list(specs.values())


def _parse_value(text: str):
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def file_specs(paths: Sequence[Path]) -> list[DetectorSpec]:
    """One spec per already trained detector file, named after the file."""
    return [DetectorSpec(name=f"file:{Path(p).stem}", kind="file", file=Path(p)) for p in paths]


def split_records(records: Sequence[VideoRecord]) -> dict[str, list[VideoRecord]]:
    """Records by split; TrainingDataError when the split layout cannot measure anything."""
    by_split: dict[str, list[VideoRecord]] = {name: [] for name in SPLITS}
    for record in records:
        if record.split in by_split:
            by_split[record.split].append(record)
    test = by_split["test"]
    if not test:
        raise TrainingDataError("the test split has no videos: nothing to measure")
    if not any(r.label == "normal" for r in test):
        raise TrainingDataError("the test split has no normal videos: false alarms cannot be measured")
    if not any(r.label == "normal" for r in by_split["train"]):
        raise TrainingDataError("the train split has no normal videos: no detector can learn what normal is")
    if not by_split["val"]:
        raise TrainingDataError("the val split has no videos: thresholds must come from validation, not test")
    return by_split


def default_frame_loader(settings: EvaluationSettings) -> FrameLoader:
    """Frames from the ingest cache (`detection.video.cache.frames_for`) at the settings' rate and size."""
    from detection.video.cache import frames_for

    def load(record: VideoRecord) -> SampledFrames:
        return frames_for(record.path, fps=settings.fps, size=settings.size, cache_dir=settings.cache_dir)

    return load


def load_split(
    records: Sequence[VideoRecord], load: FrameLoader, split: str, *, show: bool
) -> list[TrainItem]:
    """Frames for each record; a VideoError names the video that failed."""
    items = []
    for record in tqdm(records, desc=f"frames ({split})", unit="video", disable=not show, leave=False):
        try:
            frames = load(record)
        except (VideoError, OSError) as exc:
            raise VideoError(f"{record.video_id or record.path} ({split} split): {exc}") from exc
        if len(frames.frames) == 0:
            raise VideoError(f"{record.video_id or record.path} ({split} split): no frames could be sampled")
        items.append(TrainItem(frames, record))
    return items


def _trainer(spec: DetectorSpec, trainers: dict[str, Callable]):
    if spec.kind in trainers:
        return trainers[spec.kind]
    if spec.kind in BASELINES:
        return partial(train_baseline, spec.kind)
    return registry.trainer(spec.kind)


def _tqdm_progress(bar: tqdm):
    def progress(fraction: float, stage: str) -> None:
        bar.n = round(1000 * min(max(fraction, 0.0), 1.0))
        bar.set_postfix_str(stage[:60], refresh=False)
        bar.refresh()

    return progress


def training_splits(overrides: dict) -> tuple[str, ...]:
    """The splits a detector trains on: its `train_splits` setting ("train" or "train+val"), never test."""
    splits = tuple(str(overrides.get("train_splits", "train")).split("+"))
    if "test" in splits or any(name not in SPLITS for name in splits):
        raise ValueError(f"train_splits {overrides['train_splits']!r}: use train or train+val (never test)")
    return splits


def _earlier_detector_files(overrides: dict, trained: dict, scratch: Path) -> dict:
    """Settings that name a detector of this run as "@NAME" (a MIL's `cae_detector=@cae`) get the file of that
    detector, trained earlier in the run, so a MIL built on the area's CAE does not train a second one."""
    resolved = dict(overrides)
    for key, value in overrides.items():
        if not (isinstance(value, str) and value.startswith("@")):
            continue
        name = value[1:]
        if name not in trained:
            raise ValueError(
                f"{key}={value}: no detector named {name!r} was trained earlier in this run; list it before this one"
            )
        path = scratch / f"{name}.pt"
        if not path.exists():
            trained[name].save(path)
        resolved[key] = str(path)
    return resolved


def _referenced(specs: Sequence[DetectorSpec]) -> set[str]:
    """Names that some detector's settings refer to as "@NAME"."""
    return {
        value[1:]
        for spec in specs
        for value in spec.overrides.values()
        if isinstance(value, str) and value.startswith("@")
    }


def frame_size_of(kind: str, overrides: dict, settings: EvaluationSettings) -> tuple[int, int] | None:
    """The size a detector's frames are sampled at: the settings' size for the CAE, MIL and the baselines
    (unless the kind samples at native size: a tiled CAE, CHANGE), None for native."""
    if kind not in registry.KINDS:
        return settings.size
    size = registry.frame_size(kind, overrides)
    return None if size is None else settings.size


def _obtain(spec: DetectorSpec, items, trainers, settings: EvaluationSettings, show: bool, trained: dict,
            scratch: Path):
    """(detector, train_seconds, warnings, items, level zero): trained on train (threshold on val), or loaded
    from its file; `items(size)` gives the splits' frames at a size, and the ones at this detector's size come
    back; the level zero is its median normal validation score (None for a loaded file: level 0 is score 0)."""
    if spec.file is not None:
        from detection.detector_file import load_detector

        detector = load_detector(spec.file)
        overrides = {"tiled": bool(getattr(getattr(detector, "config", None), "tiled", False))}
        return detector, 0.0, [], items(frame_size_of(getattr(detector, "kind", ""), overrides, settings)), None
    items = items(frame_size_of(spec.kind, spec.overrides, settings))
    overrides = _earlier_detector_files(dict(spec.overrides), trained, scratch)
    splits = training_splits(overrides)
    overrides.pop("train_splits", None)
    train = [item for split in splits for item in items[split]]
    warnings = []
    if "val" in splits:
        warnings.append("trained on train+val: its threshold was chosen on videos it also trained on")
    with tqdm(total=1000, desc=f"train {spec.name}", disable=not show, leave=False) as bar:
        started = time.perf_counter()
        detector, report = _trainer(spec, trainers)(
            train, items["val"], overrides=overrides, progress=_tqdm_progress(bar), seed=settings.seed
        )
        elapsed = time.perf_counter() - started
    zero = report.validation_metrics.get("val_normal_median")
    return detector, (report.train_seconds or elapsed), [*warnings, *report.warnings], items, zero


def _score_test(spec, detector, test: list[TrainItem], truth: GroundTruthCache, show: bool, fixtures=None):
    """Score the test videos; `fixtures` ((fixtures, hfov) from the area's `area.json`, or None) adds each
    video's everyday-object counts where it has telemetry (detection.evaluation.everyday)."""
    scored, warnings, seconds = [], [], 0.0
    for item in tqdm(test, desc=f"score {spec.name}", unit="video", disable=not show, leave=False):
        uses_telemetry = getattr(detector, "uses_telemetry", False)
        poses = _poses(item.record) if uses_telemetry or fixtures is not None else None
        started = time.perf_counter()
        if uses_telemetry:
            result = detector.score_frames(item.frames.frames, item.frames.times, poses=poses)
        else:
            result = detector.score_frames(item.frames.frames, item.frames.times)
        seconds += time.perf_counter() - started
        labels = record_frame_labels(result.times, item.record)
        if labels is None:
            warnings.append(f"{item.record.video_id}: no frame labels (unlabelled or weak label), left out")
            continue
        heatmaps = None
        if result.heatmaps is not None:
            heatmaps = np.asarray(result.heatmaps, dtype=np.float32) * np.float32(result.heatmap_scale)
        pixel_masks = None if heatmaps is None else truth.masks(item.record, result.times, heatmaps.shape[1:])
        scored.append(
            ScoredVideo(
                video_id=item.record.video_id or str(item.record.path),
                is_anomalous=item.record.is_anomalous,
                times=np.asarray(result.times, dtype=np.float64),
                scores=np.asarray(result.frame_scores, dtype=np.float64),
                labels=labels,
                intervals=item.record.intervals,
                events=tuple(result.events),  # the detector's own, merged as it is configured to
                classes=truth.classes(item.record, result.times),
                area_fraction=truth.area_fraction(item.record, result.times),
                pixel_masks=pixel_masks,
                heatmaps=heatmaps,
                objects=truth.objects(item.record),
                seconds=truth.duration(item.record),
                everyday=_everyday(fixtures, item.record, poses, truth, result, detector.threshold, heatmaps,
                                   pixel_masks),
            )
        )
    return scored, warnings, seconds


def _everyday(fixtures, record: VideoRecord, poses, truth: GroundTruthCache, result, threshold: float, heatmaps,
              masks) -> dict | None:
    """The video's everyday-object counts, or None without fixtures, telemetry or a known frame size."""
    if fixtures is None or poses is None or len(poses) == 0:
        return None
    facts = truth.facts(record)
    if facts is None:
        return None
    (height, width), _ = facts
    found, hfov = fixtures
    return everyday.count_video(found, hfov, (width, height), poses, result.times, result.frame_scores, threshold,
                                heatmaps, masks, result.events, record.intervals)


def _poses(record: VideoRecord):
    """The record's telemetry poses, or None without a sidecar."""
    if record.telemetry is None:
        return None
    from detection.telemetry import read_telemetry

    return read_telemetry(record.telemetry)


def _evaluate_one(spec, items, trainers, truth, settings: EvaluationSettings, show: bool, trained, scratch):
    kind = spec.kind if spec.file is None else "file"
    try:
        detector, train_seconds, warnings, items, zero = _obtain(
            spec, items, trainers, settings, show, trained, scratch
        )
        if spec.name in _referenced(settings.detectors):
            trained[spec.name] = detector  # kept only when a later detector names it ("@NAME")
        if spec.file is not None:
            kind = getattr(detector, "kind", kind)
        fixtures = everyday.read_fixtures(settings.manifest)
        scored, score_warnings, score_seconds = _score_test(spec, detector, items["test"], truth, show, fixtures)
    except Exception as exc:  # one detector failing must not stop the others: its entry says why
        entry = empty_detector_entry(kind)
        reason = str(exc) if isinstance(exc, DetectionError | ValueError) else f"{type(exc).__name__}: {exc}"
        entry["error"] = reason
        return entry, {"roc": None, "pr": None, "timelines": []}, traceback.format_exc()
    entry = summarise(
        kind, scored, detector.threshold, train_seconds=train_seconds, score_seconds=score_seconds,
        level_zero=zero,
    )
    entry["warnings"] = [*warnings, *score_warnings, *entry["warnings"]]
    return entry, curves(scored), ""


def _sized(load_frames: FrameLoader, size: tuple[int, int] | None) -> FrameLoader:
    """A caller's loader asked for another size: it is called with `size=` when it accepts it."""
    import inspect

    if "size" in inspect.signature(load_frames).parameters:
        return partial(load_frames, size=size)
    return load_frames


def _split_counts(items: list[TrainItem]) -> dict:
    labels = [item.record.label for item in items]
    return {
        "videos": len(items),
        "normal": labels.count("normal"),
        "anomalous": labels.count("anomalous"),
        "unlabelled": labels.count(""),
        "frames": int(sum(len(item.frames.times) for item in items)),
    }


def evaluate(
    records: Sequence[VideoRecord],
    settings: EvaluationSettings,
    *,
    load_frames: FrameLoader | None = None,
    trainers: dict[str, Callable] | None = None,
    ground_truth: GroundTruthCache | None = None,
    show_progress: bool = True,
) -> EvaluationResult:
    """Evaluate each of `settings.detectors` on `records` (see the module docstring).

    `load_frames` (default: the ingest cache) and `trainers` ({kind: train_from_items-like}) can be
    replaced, e.g. by tests; `ground_truth` supplies classes, sizes and masks of generated videos.
    """
    by_split = split_records(records)
    loaded: dict = {}

    def items_at(size: tuple[int, int] | None) -> dict[str, list[TrainItem]]:
        """The splits' frames at `size` (None: native), loaded once per size."""
        key = None if size is None else tuple(size)
        if key not in loaded:
            if load_frames is not None:
                load = load_frames if key == tuple(settings.size) else _sized(load_frames, key)
            else:
                load = default_frame_loader(replace(settings, size=key))
            loaded[key] = {split: load_split(by_split[split], load, split, show=show_progress) for split in SPLITS}
        return loaded[key]

    first = settings.detectors[0] if settings.detectors else None
    first_size = settings.size if first is None or first.file is not None else frame_size_of(
        first.kind, first.overrides, settings)
    items = items_at(first_size)
    truth = ground_truth or GroundTruthCache()
    document = {
        "schema_version": SCHEMA_VERSION,
        "manifest": settings.manifest,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {
            "fps": settings.fps,
            "size": list(settings.size),
            "seed": settings.seed,
            "epochs": next(
                (s.overrides["epochs"] for s in settings.detectors if "epochs" in s.overrides), None
            ),
            "detectors": {
                s.name: {"kind": s.kind, "overrides": s.overrides, "file": str(s.file or "")}
                for s in settings.detectors
            },
        },
        "splits": {split: _split_counts(items[split]) for split in SPLITS},
        "detectors": {},
    }
    all_curves, errors, trained = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="skerry-evaluate-") as scratch:
        for spec in tqdm(settings.detectors, desc="detectors", unit="detector", disable=not show_progress):
            entry, points, error = _evaluate_one(
                spec, items_at, trainers or {}, truth, settings, show_progress, trained, Path(scratch)
            )
            document["detectors"][spec.name] = entry
            all_curves[spec.name] = points
            if error:
                errors[spec.name] = error
    return EvaluationResult(metrics=document, curves=all_curves, errors=errors)
