"""`python -m detection train KIND MANIFEST --out model.pt` and `python -m detection score model.pt VIDEO`.

train: reads the manifest, samples frames through the frame cache (decoded once), trains the kind on the
`train` split (videos without a split are assigned one, seeded), picks the threshold on `val`, and writes
one detector file. KIND is any kind in detection.registry, so new kinds need no change here.
score: loads any detector file, scores one video and writes frame scores, heatmaps and events with
detection.score_store (default folder: VIDEO's folder / <stem>.scores).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from tqdm import tqdm

from detection import registry
from detection.atomic_files import write_text
from detection.json_values import json_text
from detection.types import ProgressFn

DEFAULT_SIZE = (124, 124)


def register(subparsers) -> None:
    train = subparsers.add_parser("train", help="train a detector on a manifest's train split", description=__doc__)
    train.add_argument("kind", choices=sorted(registry.KINDS), help="detector kind")
    train.add_argument("manifest", type=Path, help="manifest CSV (video,label,split,intervals,classes)")
    train.add_argument("--out", type=Path, required=True, help="detector file to write, e.g. model.pt")
    train.add_argument("--config", help="named configuration of the kind (cae: report or default; mil: default or paper)")
    train.add_argument("--epochs", type=int, help="training epochs (cae: at most; mil: passes over the bags)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any config field")
    train.add_argument("--device", help="cpu, cuda, cuda:1 (default: CUDA when present)")
    train.add_argument("--features", help="mil: feature extractor (default mobilenet_v2+cae; mobilenet_v2, cae, s3d, r3d_18, ...)")
    _add_sampling(train)
    train.add_argument("--report", type=Path, help="also write the loss curve and validation metrics as JSON")
    train.set_defaults(func=run_train)

    score = subparsers.add_parser("score", help="score one video with a trained detector", description=__doc__)
    score.add_argument("model", type=Path, help="detector file written by `train`")
    score.add_argument("video", type=Path)
    score.add_argument("--out", type=Path, help="scores folder (default: VIDEO's folder/<stem>.scores)")
    score.add_argument("--telemetry", type=Path, help="the video's telemetry sidecar (default: VIDEO's .SRT, "
                       ".gpx or .csv beside it), for detectors that use it (change)")
    _add_sampling(score)
    score.set_defaults(func=run_score)


def _add_sampling(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fps", type=float, default=2.0, help="frames sampled per second (default 2)")
    parser.add_argument(
        "--size", type=_parse_size, help="sampled frame size WIDTHxHEIGHT or 'native' (default: the kind's own: "
        "124x124 for the CAE and MIL, native for a tiled CAE and for change)"
    )
    parser.add_argument("--cache-dir", type=Path, help="sampled-frame cache (default: beside the videos)")
    parser.add_argument("--threads", type=int, help="CPU threads for torch (fewer is faster on a busy machine)")


def _parse_size(text: str) -> tuple[int, int] | str:
    if text == "native":
        return text
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad size {text!r}: expected WIDTHxHEIGHT or 'native'") from None
    return width, height


def _parse_value(text: str):
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if "," in text:
        return [_parse_value(part) for part in text.split(",")]
    return text


# Options that are trainer overrides under another name: --features sets MIL's `extractor`.
OPTION_KEYS = {"config": "config", "epochs": "epochs", "device": "device", "features": "extractor"}


def overrides_from(args: argparse.Namespace) -> dict:
    """The trainer's overrides (detection.configs) from --config, --epochs, --device, --features and --set."""
    overrides = {}
    for setting in args.set:
        key, sep, value = setting.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set {setting!r}: expected KEY=VALUE")
        overrides[key.strip()] = _parse_value(value.strip())
    for option, key in OPTION_KEYS.items():
        if getattr(args, option) is not None:
            overrides[key] = getattr(args, option)
    return overrides


def _frame_size(args: argparse.Namespace, kind: str, overrides: dict) -> tuple[int, int] | None:
    """--size when given ('native': None), else the kind's own size (registry.frame_size: None = native)."""
    if args.size == "native":
        return None
    if args.size is not None:
        return args.size
    return registry.frame_size(kind, overrides)


def _tqdm_progress(bar: tqdm) -> ProgressFn:
    def progress(fraction: float, stage: str) -> None:
        bar.set_postfix_str(stage, refresh=False)
        bar.update(max(0, int(fraction * 1000) - bar.n))

    return progress


def _set_threads(args: argparse.Namespace) -> None:
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)


def run_train(args: argparse.Namespace) -> int:
    from detection.datasets.manifest import read_manifest
    from detection.datasets.splits import assign_splits
    from detection.video.cache import frames_for

    _set_threads(args)
    overrides = overrides_from(args)
    records = assign_splits(read_manifest(args.manifest), seed=args.seed)
    size = _frame_size(args, args.kind, overrides)
    cache_dir = args.cache_dir or args.manifest.resolve().parent / ".frame-cache"
    items = {"train": [], "val": []}
    chosen = [r for r in records if r.split in items]
    for record in tqdm(chosen, desc="sampling frames", unit="video"):
        frames = frames_for(record.path, fps=args.fps, size=size, cache_dir=cache_dir)
        items[record.split].append(registry.TrainItem(frames, record))
    print(f"training {args.kind} on {len(items['train'])} videos, threshold on {len(items['val'])}")
    with tqdm(total=1000, desc=f"train {args.kind}", unit="‰") as bar:
        detector, report = registry.trainer(args.kind)(
            items["train"], items["val"], overrides=overrides, progress=_tqdm_progress(bar), seed=args.seed
        )
    detector.save(args.out)
    print(f"wrote {args.out} (threshold {detector.threshold:.4g}, trained in {report.train_seconds:.1f} s)")
    for key, value in report.validation_metrics.items():
        print(f"  {key}: {value}")
    for warning in report.warnings:
        print(f"warning: {warning}")
    if args.report:
        document = {
            "curve": list(report.curve),
            "validation_metrics": report.validation_metrics,
            "warnings": list(report.warnings),
            "train_seconds": report.train_seconds,
        }
        write_text(args.report, json_text(document, indent=1))
    return 0


def _telemetry(args: argparse.Namespace):
    """The scored video's poses: --telemetry, else a sidecar beside the video (same stem, .SRT/.srt/.gpx/.csv)."""
    from detection.telemetry import read_telemetry

    if args.telemetry is not None:
        return read_telemetry(args.telemetry)
    for suffix in (".SRT", ".srt", ".gpx", ".csv"):
        candidate = args.video.with_suffix(suffix)
        if candidate.is_file():
            return read_telemetry(candidate)
    return None


def run_score(args: argparse.Namespace) -> int:
    from detection.detector_file import load_detector
    from detection.score_store import save_video_scores
    from detection.video.cache import frames_for

    _set_threads(args)
    detector = load_detector(args.model)
    config = getattr(detector, "config", None)
    size = _frame_size(args, detector.kind, {"tiled": bool(getattr(config, "tiled", False))})
    cache_dir = args.cache_dir or args.video.resolve().parent / ".frame-cache"
    sampled = frames_for(args.video, fps=args.fps, size=size, cache_dir=cache_dir)
    with tqdm(total=1000, desc=f"score {args.video.name}", unit="‰") as bar:
        if getattr(detector, "uses_telemetry", False):
            scores = detector.score_frames(sampled.frames, sampled.times, progress=_tqdm_progress(bar),
                                           poses=_telemetry(args))
        else:
            scores = detector.score_frames(sampled.frames, sampled.times, progress=_tqdm_progress(bar))
        if hasattr(detector, "with_comparisons"):
            scores = detector.with_comparisons(sampled.frames, scores)
    out = args.out or args.video.resolve().parent / f"{args.video.stem}.scores"
    save_video_scores(out, scores)
    flagged = int(np.sum(scores.frame_scores >= scores.threshold))
    print(f"{args.video}: {len(scores.times)} frames, {flagged} over the threshold {scores.threshold:.4g}")
    if len(scores.frame_scores):
        print(f"  highest score {float(np.max(scores.frame_scores)):.4g}")
    for event in scores.events:
        where = "" if event.peak_x is None else f" at x={event.peak_x:.2f}, y={event.peak_y:.2f}"
        print(f"  event {event.start:.1f}-{event.end:.1f} s, peak {event.peak_score:.4g} at {event.peak_time:.1f} s{where}")
    print(f"wrote {out}")
    return 0
