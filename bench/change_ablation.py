"""What each part of the CHANGE detector's scoring gains: an ablation over cached comparison maps.

`dump` trains CHANGE on a manifest's normal train flights (build_index and the leave-one-out normal variation,
as `train_from_items` does) and, for every frame of the val and test flights, stores each candidate's raw
distance maps (colour, CNN) and its warped leave-one-out residuals, with the ground-truth masks on the grid.
Comparing frames (alignment, CNN) is the slow part; `study` then scores every variant of what follows (how the
residuals are pooled, which branches, frame normalisation, pooling over the map, persistence) from the cache in
seconds, and prints the frame ROC-AUC over all test frames and the mean per-video AUC (macro), per class too.

    python -P bench/change_ablation.py dump MANIFEST OUT [--fps 1] [--set analysis_width=640 ...]
    python -P bench/change_ablation.py study OUT

The variants score exactly as `detection.change.detector.Comparator.compare_frame` does for the same
settings (the "default" row is the detector's own scoring); `evaluate` remains the measure of record.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from scipy.ndimage import grey_opening
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detection.change import compare  # noqa: E402
from detection.change.config import make_config  # noqa: E402
from detection.change.detector import ChangeDetector  # noqa: E402
from detection.change.train import branch_scales, build_index, learn_variation, read_poses  # noqa: E402
from detection.datasets.manifest import read_manifest  # noqa: E402
from detection.detector_file import load_detector  # noqa: E402
from detection.registry import TrainItem  # noqa: E402
from detection.synth.groundtruth import load_groundtruth  # noqa: E402
from detection.video.cache import frames_for  # noqa: E402


def dump(manifest: Path, out: Path, fps: float, overrides: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    torch.set_grad_enabled(False)
    records = read_manifest(manifest)
    cache = out / f"frames-{fps:g}fps"

    def item(record):
        return TrainItem(frames_for(record.path, fps=fps, size=None, cache_dir=cache), record)

    # The study varies the scoring; the cache needs both branches and each candidate's own residuals.
    config = make_config({**overrides, "use_colour": True})
    detector_path = out / "change.pt"
    started = time.perf_counter()
    if detector_path.exists():
        detector = load_detector(detector_path)
    else:
        references = [item(r) for r in records if r.split == "train" and r.label == "normal"]
        index = build_index(references, config)
        detector = ChangeDetector(config, index, 0.0)
        index.scales = branch_scales(learn_variation(detector, references, lambda f, s: None))
        detector.save(detector_path)
    print(f"reference index and normal variation: {time.perf_counter() - started:.0f} s", flush=True)
    comparator = detector.comparator
    cells = comparator.grid.cells
    for record in records:
        if record.split not in ("val", "test"):
            continue
        target = out / f"{record.split}_{Path(record.path).parent.name}_{Path(record.path).stem}.npz"
        if target.exists():
            continue
        started = time.perf_counter()
        sampled = item(record)
        frames, times = sampled.frames.frames, np.asarray(sampled.frames.times)
        chosen, no_reference = detector.candidates(frames, times, read_poses(sampled))
        shape = (len(frames), chosen.shape[1], 2, cells[1], cells[0])
        distances, residuals = np.full(shape, np.nan, np.float16), np.full(shape, np.nan, np.float16)
        status = np.where(no_reference, 1, 0).astype(np.uint8)
        for i in np.flatnonzero(~no_reference):
            today = detector.analysis_frames(frames, i)
            aligned = comparator.align(today, [(int(j), detector.reference_frame(int(j))) for j in chosen[i] if j >= 0])
            if not aligned:
                status[i] = 2
                continue
            for k, ((j, _, _), (pair, to_grid)) in enumerate(zip(aligned, comparator.pair_maps(today, aligned))):
                distances[i, k] = pair
                stored = detector.index.residuals[j].astype(np.float32)
                residuals[i, k] = np.stack([compare.warp(b, to_grid, cells, border=cv2.BORDER_REPLICATE)
                                            for b in stored])
        truth = load_groundtruth(record.path)
        if truth is None:
            raise SystemExit(f"{record.path}: no ground truth (the study needs generated data)")
        np.savez_compressed(
            target, D=distances, E=residuals, status=status, masks=truth.masks_at(times, (cells[1], cells[0])),
            labels=truth.labels_at(times), classes=np.array(["|".join(sorted(c)) for c in truth.classes_at(times)]),
            scales=detector.index.scales,
        )
        print(f"{target.stem}: {len(frames)} frames, {time.perf_counter() - started:.0f} s", flush=True)


VARIANTS = {
    # name: (variation pooling "max"/"own"/"none", branches, frame normalisation, map pooling, persistence)
    "before (own residual, both branches, no frame normalisation)": ("own", (0, 1), "none", "max", 2),
    "+ highest residual of the candidates": ("max", (0, 1), "none", "max", 2),
    "+ robust z over the frame": ("max", (0, 1), "mad", "max", 2),
    "colour branch only": ("max", (0,), "mad", "max", 2),
    "CNN branch only = default": ("max", (1,), "mad", "max", 2),
    "default, own residual": ("own", (1,), "mad", "max", 2),
    "default, no residual": ("none", (1,), "mad", "max", 2),
    "default, no frame normalisation": ("max", (1,), "none", "max", 2),
    "default, mean of top 10 cells": ("max", (1,), "mad", "top10", 2),
    "default, no persistence": ("max", (1,), "mad", "max", 1),
    "default, persistence 3": ("max", (1,), "mad", "max", 3),
}


def frame_score(d: dict, i: int, variant) -> float:
    pooling, branches, normalisation, how, _ = variant
    ok = ~np.all(np.isnan(d["D"][i, :, 0]), axis=(1, 2))
    distances, residuals = d["D"][i][ok].astype(np.float32), np.nan_to_num(d["E"][i][ok].astype(np.float32))
    if pooling == "none":
        residuals = np.zeros_like(residuals)
    elif pooling == "max":
        residuals = np.broadcast_to(residuals.max(axis=0, keepdims=True), residuals.shape)
    normalised = [compare.normalise(dist, res, d["scales"].astype(np.float64)) for dist, res in zip(distances, residuals)]
    combined, _ = compare.combine(normalised, (0 in branches, 1 in branches))
    smoothed = compare.smooth_map(combined, 1.0)
    if normalisation == "mad":
        smoothed = compare.robust_z(smoothed, np.isfinite(combined))
    flat = smoothed.ravel()
    return float(flat.max() if how == "max" else np.sort(flat)[-10:].mean())


def study(out: Path) -> None:
    data = {Path(f).stem: dict(np.load(f)) for f in sorted(out.glob("test_*.npz"))}
    if not data:
        raise SystemExit(f"no test_*.npz in {out}: run dump first")
    for d in data.values():
        if "scales" not in d:  # caches written before the scales were stored with each flight
            d["scales"] = load_detector(out / "change.pt").index.scales
    print(f"{out}: {len(data)} test flights, {sum(len(d['labels']) for d in data.values())} frames")
    for name, variant in VARIANTS.items():
        scores, labels, classes, macro = [], [], [], []
        for d in data.values():
            s = np.array([frame_score(d, i, variant) if d["status"][i] == 0 else 0.0 for i in range(len(d["labels"]))])
            if variant[4] > 1:
                s = np.where(d["status"] == 0, grey_opening(s, size=variant[4], mode="nearest"), 0.0)
            scores.append(s)
            labels.append(d["labels"])
            classes.append(d["classes"])
            if d["labels"].any() and (~d["labels"]).any():
                macro.append(roc_auc_score(d["labels"], s))
        s, y, c = np.concatenate(scores), np.concatenate(labels), np.concatenate(classes)
        per_class = []
        for cls in sorted({x for cc in c for x in str(cc).split("|") if x}):
            inside = np.array([cls in str(cc).split("|") for cc in c])
            auc = roc_auc_score(np.r_[np.ones(inside.sum()), np.zeros((~y).sum())], np.r_[s[inside], s[~y]])
            per_class.append(f"{cls} {auc:.2f}")
        print(f"{name:62s} frame AUC {roc_auc_score(y, s):.3f}  macro {np.mean(macro):.3f}  | {', '.join(per_class)}",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("manifest", type=Path)
    d.add_argument("out", type=Path)
    d.add_argument("--fps", type=float, default=2.0)
    d.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    s = sub.add_parser("study")
    s.add_argument("out", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        overrides = dict(item.split("=", 1) for item in args.set)
        dump(args.manifest, args.out, args.fps, overrides)
    else:
        study(args.out)


if __name__ == "__main__":
    main()
