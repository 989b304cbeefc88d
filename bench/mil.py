"""MIL benchmark: feature extraction cost per extractor on CPU, head training time, and detection quality.

    .venv/bin/python bench/mil.py                       # all stages
    .venv/bin/python bench/mil.py --stages cost,head    # only the timings
    .venv/bin/python bench/mil.py --stages data,quality --extractors mobilenet_v2,cae

Stages:
- data: generates the MIL set with the synthetic patrol generator (detection.synth) under
  var/bench-mil/data: the generator's own presets put anomalies only in val/test (made for the CAE), so this
  adds a preset "mil" with anomalous videos in the training split too (one area, 160x120, 10 fps, 16 s;
  train 10 normal + 10 anomalous, val 3 + 3, test 6 normal incl. a light change and heavy clouds + 6 anomalous).
- cost: clips/s of each extractor on CPU on one video's sampled frames (2 fps, 124 x 124). Backbones whose
  weights are missing here run with random weights: the cost is the same, the quality unknown.
- head: seconds per training step of the head at the paper's batch (30 + 30 bags of 32 segments).
- quality: trains the detector per extractor and head variant (paper: max, per-segment FC, lr 0.001; lr 0.01;
  top-3 mean; temporal conv k=3; both) on train, threshold on val, and scores test: video accuracy,
  precision/recall/F1 for both classes, confusion matrix, frame ROC-AUC, recall per anomaly class.
Results: bench/out/mil/*.json and markdown tables on stdout (BENCHMARKS.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ holds a queue.py that would shadow the standard library's queue (torch imports it).
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from detection.labels import record_frame_labels  # noqa: E402
from detection.mil.config import MILConfig  # noqa: E402
from detection.mil.train import train_from_items, train_head  # noqa: E402
from detection.registry import TrainItem  # noqa: E402

WORK = ROOT / "var" / "bench-mil"
OUT = ROOT / "bench" / "out" / "mil"
VARIANTS = {
    "paper": {"config": "paper"},  # max, per-segment FC, Adagrad lr 0.001
    "paper-lr0.01": {"config": "paper", "learning_rate": 0.01},
    "top3": {"config": "paper", "segment_pooling": "topk", "learning_rate": 0.01},
    "conv3": {"config": "paper", "temporal_kernel": 3, "learning_rate": 0.01},
    "top3+conv3": {"config": "paper", "segment_pooling": "topk", "temporal_kernel": 3, "learning_rate": 0.01},
}


def mil_preset():
    from detection.synth.anomalies import OBJECT_CLASSES
    from detection.synth.presets import BENCHMARK, DatasetPlan, VideoPlan

    def video(n: int, split: str, classes=(), **quirks) -> VideoPlan:
        return VideoPlan(f"v{n:02d}/patrol.mp4", split, classes=tuple(classes), heading=45.0 * (n % 8),
                         altitude=0.9 + 0.05 * (n % 5), reverse=bool(n % 2), **quirks)

    cls = OBJECT_CLASSES
    plans = [video(n, "train", heavy_clouds=n == 3) for n in range(10)]
    plans += [video(10 + n, "train", (cls[n % 7], cls[(n + 3) % 7])[: 1 + n % 2]) for n in range(10)]
    plans += [video(20 + n, "val") for n in range(3)]
    plans += [video(23 + n, "val", (cls[(2 * n) % 7], cls[(2 * n + 1) % 7])) for n in range(3)]
    plans += [video(26, "test"), video(27, "test", light_change=True), video(28, "test", heavy_clouds=True)]
    plans += [video(29 + n, "test") for n in range(3)]
    plans += [video(32 + n, "test", (cls[n],)) for n in range(6)]
    return replace(BENCHMARK, name="mil", seconds=16.0, datasets=(DatasetPlan("", tuple(plans)),))


def stage_data() -> Path:
    from detection.synth import presets
    from detection.synth.generate import generate

    manifest = WORK / "data" / "manifest.csv"
    if manifest.is_file():
        return manifest
    presets.PRESETS["mil"] = mil_preset()
    started = time.monotonic()
    generate(WORK / "data", preset="mil", seed=0)
    print(f"generated {manifest} in {time.monotonic() - started:.0f} s")
    return manifest


def load_items(manifest: Path) -> dict[str, list[TrainItem]]:
    from detection.datasets.manifest import read_manifest
    from detection.video.cache import frames_for

    items = {"train": [], "val": [], "test": []}
    for record in read_manifest(manifest):
        frames = frames_for(record.path, fps=2.0, size=(124, 124), cache_dir=WORK / "frames")
        items[record.split].append(TrainItem(frames, record))
    return items


def stage_cost(manifest: Path, names: list[str]) -> list[dict]:
    from detection.cae.config import CAEConfig
    from detection.cae.model import build_model
    from detection.errors import MissingWeightsError
    from detection.features import build_extractor

    frames = load_items(manifest)["test"][-1].frames.frames[:32]  # 32 sampled frames = 16 s
    rows = []
    for name in names:
        options, note = {}, "pretrained"
        if name.startswith("mobilenet_v2@"):
            name, size = name.split("@")
            options["input_size"] = int(size)
        if name in ("cae", "mobilenet_v2+cae"):  # a CAE's cost does not depend on its weights
            config = CAEConfig()
            options = {**options, "cae_config": config.to_dict(), "state": build_model(config).state_dict()}
            note = "CAE trained per area" + (", mobilenet_v2 pretrained" if name != "cae" else "")
        try:
            extractor = build_extractor(name, **options)
        except MissingWeightsError:
            extractor, note = build_extractor(name, pretrained=False, **options), "weights missing: random"
        if name == "cae":
            extractor.fit_standardisation(extractor.frame_features(frames[:4]))
        if name == "mobilenet_v2+cae":
            extractor.fit_standardisation(extractor.error_features(frames[:4]))
        extractor.clip_features(frames[: extractor.clip_len])  # warm-up
        started = time.monotonic()
        features = extractor.clip_features(frames)
        seconds = time.monotonic() - started
        row = {"extractor": name + (f"@{options['input_size']}" if "input_size" in options else ""),
               "clip_len": extractor.clip_len, "dims": features.shape[1], "clips": len(features),
               "clips_per_s": len(features) / seconds, "frames_per_s": len(frames) / seconds, "weights": note}
        print(json.dumps(row))
        rows.append(row)
    return rows


def stage_head() -> list[dict]:
    rows = []
    rng = np.random.default_rng(0)
    for dims in (144, 1024, 2560):
        bags = rng.standard_normal((60, 32, dims)).astype(np.float32)
        for kernel in (1, 3):
            config = MILConfig(iterations=20, temporal_kernel=kernel)
            started = time.monotonic()
            train_head(bags[:30], bags[30:], config, device=torch.device("cpu"))
            step = (time.monotonic() - started) / 20
            rows.append({"dims": dims, "temporal_kernel": kernel, "seconds_per_step": step})
            print(json.dumps(rows[-1]))
    return rows


def evaluate(detector, test: list[TrainItem]) -> dict:
    """The origin report's form: accuracy, P/R/F1 per class, confusion matrix; plus frame AUC, class recall."""
    from detection.evaluation.metrics import roc_auc

    truth, flagged, frame_scores, frame_truth, per_class = [], [], [], [], {}
    for item in test:
        scores = detector.score_frames(item.frames.frames, item.frames.times)
        hit = bool((scores.frame_scores >= detector.threshold).any())
        truth.append(item.record.is_anomalous)
        flagged.append(hit)
        labels = record_frame_labels(scores.times, item.record)
        frame_scores.append(scores.frame_scores)
        frame_truth.append(labels)
        for interval in item.record.intervals:
            inside = (scores.times >= interval.start) & (scores.times <= interval.end)
            found = bool((scores.frame_scores[inside] >= detector.threshold).any())
            per_class.setdefault(interval.anomaly_class or "?", []).append(found)
    truth, flagged = np.array(truth), np.array(flagged)
    tp, fn = int((truth & flagged).sum()), int((truth & ~flagged).sum())
    fp, tn = int((~truth & flagged).sum()), int((~truth & ~flagged).sum())

    def prf(tp_, fp_, fn_):
        p = tp_ / (tp_ + fp_) if tp_ + fp_ else 0.0
        r = tp_ / (tp_ + fn_) if tp_ + fn_ else 0.0
        return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}

    return {
        "accuracy": float((truth == flagged).mean()),
        "anomaly": prf(tp, fp, fn),
        "normal": prf(tn, fn, fp),
        "confusion": {"true_anomaly": [tp, fn], "true_normal": [fp, tn]},
        "frame_auc": roc_auc(np.concatenate(frame_truth), np.concatenate(frame_scores)),
        "class_recall": {name: float(np.mean(found)) for name, found in sorted(per_class.items())},
    }


def stage_quality(
    manifest: Path, extractors: list[str], variants: list[str], seeds: int, iterations: int
) -> list[dict]:
    items = load_items(manifest)
    rows = []
    for extractor in extractors:
        options = {"extractor": extractor, "feature_cache": str(WORK / "features"), "device": "cpu"}
        options["iterations"] = iterations
        if extractor.startswith("mobilenet_v2@"):
            options.update(extractor="mobilenet_v2", input_size=int(extractor.split("@")[1]))
        for variant in variants:
            for seed in range(seeds):
                started = time.monotonic()
                detector, report = train_from_items(
                    items["train"], items["val"], overrides={**options, **VARIANTS[variant]}, seed=seed
                )
                row = {"extractor": extractor, "variant": variant, "seed": seed, "iterations": iterations,
                       "train_seconds": time.monotonic() - started, "threshold": detector.threshold,
                       "val": report.validation_metrics, "curve": [report.curve[0], report.curve[-1]],
                       **evaluate(detector, items["test"])}
                print(json.dumps(row))
                rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stages", default="data,cost,head,quality")
    parser.add_argument("--extractors", default="mobilenet_v2,cae")
    parser.add_argument(
        "--cost-extractors", default="mobilenet_v2+cae,mobilenet_v2,mobilenet_v2@112,cae,r3d_18,mc3_18,r2plus1d_18,s3d"
    )
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=400, help="head training steps of every variant")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    OUT.mkdir(parents=True, exist_ok=True)
    stages = args.stages.split(",")
    manifest = stage_data()
    results = {}
    if "cost" in stages:
        results["cost"] = stage_cost(manifest, args.cost_extractors.split(","))
    if "head" in stages:
        results["head"] = stage_head()
    if "quality" in stages:
        results["quality"] = stage_quality(
            manifest, args.extractors.split(","), args.variants.split(","), args.seeds, args.iterations
        )
    for name, rows in results.items():
        (OUT / f"{name}.json").write_text(json.dumps(rows, indent=1))
        print(f"wrote {OUT / name}.json")


if __name__ == "__main__":
    main()
