"""CAE accuracy on a generated benchmark: the report config, the default, and what each default part adds.

    .venv/bin/python -m detection generate /tmp/cae-bench/data --preset benchmark
    .venv/bin/python bench/cae_accuracy.py /tmp/cae-bench/data/d2/manifest.csv --epochs 150 --report-epochs 40

Trains each network once on the train split (frames at 2 fps, 124x124, through the frame cache), then
scores val and test with scoring variants of it: every variant re-derives its normalisation and its
threshold from val only, and is measured on test. Frame-level ROC-AUC and F1 at the val threshold are
given for all test frames and for the "large" setting of the issue (anomalous frames whose anomalies
cover at least 0.5% of the frame; smaller ones left out), with recall per anomaly size and the share of
flagged anomalous frames whose heatmap peak lies on the anomaly's mask.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

# Run as a script, bench/ is sys.path[0] and bench/queue.py would shadow the standard library's queue.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from detection.cae.scoring import finalise_scores, normalisation_stats, raw_frame_scores  # noqa: E402
from detection.cae.train import train_from_items  # noqa: E402
from detection.datasets.manifest import read_manifest  # noqa: E402
from detection.detector_file import load_detector  # noqa: E402
from detection.evaluation.metrics import roc_auc  # noqa: E402
from detection.labels import record_frame_labels  # noqa: E402
from detection.registry import TrainItem  # noqa: E402
from detection.synth.groundtruth import load_groundtruth  # noqa: E402
from detection.thresholds import pick_threshold  # noqa: E402
from detection.video.cache import frames_for  # noqa: E402

SIZE_BINS = ((0.0, 0.001), (0.001, 0.005), (0.005, 0.02), (0.02, 1.01))
# Scoring variants of a trained network, applied cumulatively: each adds one part of the default.
CHAIN = (
    ("mean squared error", dict(error="l2", map_smoothing_sigma=0.0, pixel_pooling="mean", normalise_scores=False, temporal_window=1)),
    ("+ top-0.1% pixels", dict(pixel_pooling="topk", topk_fraction=0.001)),
    ("+ smoothed maps (sigma 1)", dict(map_smoothing_sigma=1.0)),
    ("+ z-scores", dict(normalise_scores=True)),
    ("+ 3-frame median", dict(temporal_window=3)),
)
# Further variants of the default's scoring, each on its own (not cumulative).
ALTERNATIVES = (
    ("top-0.1%, sigma 2", dict(map_smoothing_sigma=2.0)),
    ("top-0.5%, sigma 1", dict(topk_fraction=0.005)),
    ("top-0.5%, sigma 2 (the old default)", dict(topk_fraction=0.005, map_smoothing_sigma=2.0)),
    ("top-1%, sigma 1", dict(topk_fraction=0.01)),
    ("SSIM+L1 error map", dict(error="ssim_l1")),
    ("threshold: plain best F1 (no one-standard-error rule)", dict(threshold_se=0.0)),
    ("threshold: 98% quantile of val normals", dict(threshold_method="quantile", threshold_quantile=0.98)),
    ("threshold: 99% quantile of val normals", dict(threshold_method="quantile", threshold_quantile=0.99)),
)
NETWORKS = {
    "report": {"config": "report"},
    "default": {"config": "default"},
    "default / no corruption": {"config": "default", "corruption": 0.0},
    "default / corruption 0.9": {"config": "default", "corruption": 0.9},
    "default / SSIM+L1 loss": {"config": "default", "loss": "ssim_l1"},
    "default / SSIM+L1 loss / no corruption": {"config": "default", "loss": "ssim_l1", "corruption": 0.0},
}


def load_items(manifest: Path) -> dict[str, list[TrainItem]]:
    cache = manifest.parent / ".frame-cache"
    items: dict[str, list[TrainItem]] = {"train": [], "val": [], "test": []}
    for record in read_manifest(manifest):
        if record.split in items:
            frames = frames_for(record.path, fps=2.0, size=(124, 124), cache_dir=cache)
            items[record.split].append(TrainItem(frames, record))
    return items


def truth(item: TrainItem) -> dict:
    labels = record_frame_labels(item.frames.times, item.record)
    gt = load_groundtruth(item.record.path)
    area = gt.area_fraction_at(item.frames.times) if gt else np.where(labels, 1.0, 0.0)
    masks = gt.masks_at(item.frames.times, size=(62, 62)) if gt else None
    return {"labels": labels, "area": area, "masks": masks}


def measure(network, config, val: list[TrainItem], test: list[TrainItem], truths: dict) -> dict:
    val_raw = [raw_frame_scores(network, i.frames.frames, config).scores for i in val]
    val_labels = [truths[i.record.video_id]["labels"] for i in val]
    normal = np.concatenate([raw[~known] for raw, known in zip(val_raw, val_labels)])
    norm = normalisation_stats(normal)
    val_scores = np.concatenate([finalise_scores(r, config, norm) for r in val_raw])
    choice = pick_threshold(val_scores, np.concatenate(val_labels), quantile=config.threshold_quantile,
                            method=config.threshold_method, se_factor=config.threshold_se)
    val_auc = roc_auc(np.concatenate(val_labels), val_scores)
    scores, labels, area, peak_hits = [], [], [], []
    for item in test:
        raw = raw_frame_scores(network, item.frames.frames, config)
        final = finalise_scores(raw.scores, config, norm)
        t = truths[item.record.video_id]
        scores.append(final)
        labels.append(t["labels"])
        area.append(t["area"])
        if t["masks"] is not None:
            flat = raw.heatmaps.reshape(len(final), -1).astype(np.float32).argmax(axis=1)
            hit = t["masks"].reshape(len(final), -1)[np.arange(len(final)), flat]
            peak_hits.append(hit[(final >= choice.value) & t["labels"]])
    scores, labels, area = np.concatenate(scores), np.concatenate(labels), np.concatenate(area)
    flagged = scores >= choice.value
    result = {"threshold": choice.value, "method": choice.method, "val_auc": val_auc, **rates(scores, labels, flagged)}
    large = ~labels | (area >= 0.005)
    result["large"] = rates(scores[large], labels[large], flagged[large])
    result["recall_by_area"] = {
        f"{lo:.1%}-{hi:.1%}": float(flagged[labels & (area >= lo) & (area < hi)].mean())
        for lo, hi in SIZE_BINS
        if (labels & (area >= lo) & (area < hi)).any()
    }
    hits = np.concatenate(peak_hits) if peak_hits else np.zeros(0, bool)
    result["peak_on_mask"] = float(hits.mean()) if hits.size else None
    return result


def rates(scores: np.ndarray, labels: np.ndarray, flagged: np.ndarray) -> dict:
    true_pos = int((flagged & labels).sum())
    precision = true_pos / max(1, int(flagged.sum()))
    recall = true_pos / max(1, int(labels.sum()))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"auc": roc_auc(labels, scores), "f1": f1, "precision": precision, "recall": recall,
            "false_alarm_rate": float(flagged[~labels].mean())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--epochs", type=int, default=150, help="epochs of the default-based networks")
    parser.add_argument("--report-epochs", type=int, default=40, help="epochs of the report network (its own: 200)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--networks", default=",".join(NETWORKS), help="comma-separated: " + ", ".join(NETWORKS))
    parser.add_argument("--out", type=Path, help="write the results as JSON")
    parser.add_argument("--models", type=Path, help="folder to save trained detectors in, and reuse them from")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    items = load_items(args.manifest)
    truths = {i.record.video_id: truth(i) for split in items.values() for i in split}
    print(f"{args.manifest}: train {len(items['train'])}, val {len(items['val'])}, test {len(items['test'])} videos")
    results = {}
    for name in args.networks.split(","):
        epochs = args.report_epochs if name == "report" else args.epochs
        saved = args.models / f"{name.replace(' / ', '-').replace(' ', '_')}-{epochs}.pt" if args.models else None
        if saved and saved.exists():
            detector = load_detector(saved)
            print(f"\n{name}: loaded {saved}")
        else:
            started = time.perf_counter()
            detector, report = train_from_items(
                items["train"], items["val"], overrides={**NETWORKS[name], "epochs": epochs}, seed=0
            )
            print(f"\n{name}: {len(report.curve)} epochs in {time.perf_counter() - started:.0f} s, "
                  f"val loss {report.curve[-1]['val_loss']:.5f}", flush=True)
            if saved:
                detector.save(saved)
        variants = [("as configured", detector.config)]
        config = detector.config
        for label, change in CHAIN:
            config = replace(config, **change)
            variants.append((label, config))
        variants += [(label, replace(detector.config, **change)) for label, change in ALTERNATIVES]
        for label, config in variants:
            result = measure(detector.model, config, items["val"], items["test"], truths)
            results[f"{name} | {label}"] = result
            large = result["large"]
            print(f"  {label:36s} val AUC {result['val_auc']:.3f} | test AUC {result['auc']:.3f} F1 {result['f1']:.3f} (P {result['precision']:.2f} "
                  f"R {result['recall']:.2f}) | >=0.5%: AUC {large['auc']:.3f} F1 {large['f1']:.3f} | "
                  f"recall by area {json.dumps({k: round(v, 2) for k, v in result['recall_by_area'].items()})} "
                  f"| peak on mask {result['peak_on_mask']}", flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
