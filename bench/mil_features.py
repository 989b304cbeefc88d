"""Which clip features let MIL rank the benchmark's frames: the exploration behind the `mobilenet_v2+cae` default.

    .venv/bin/python -P bench/mil_features.py DIR/d2 [--seeds 7,0,1,2] [--sets default,mobilenet_v2,...]

DIR is `python -m detection generate DIR --preset benchmark --seed 7`. The script does what `evaluate` does for
MIL (train the head on the train split's bags, threshold on the val videos' highest segment scores, frame
ROC-AUC and video F1 on test), but on per-frame features computed once, so each feature set costs seconds:
1. dump (cached in DIR/.mil-features.pkl): the area's CAE trained on the normal training videos (the default
   config and epochs, seed 7, as the MIL default trains it), and per sampled frame (2 fps, 124 x 124):
   mobilenet_v2 (max-avg) features and their frame-to-frame changes, the CAE's error statistics, its motion
   energy, top-k means of its error map, and local colour-outlier (local RX) statistics;
2. one line per (feature set, seed): test frame AUC, video F1 and confusion, val video AUC;
3. `--upper-bound`: logistic regression trained on the train and val *frame* labels (which MIL never sees),
   test frame AUC: how far each representation gets with full supervision.
Each feature group is turned into [mean, max] (or the mean, for mobilenet_v2) per clip of 4 frames and, in a
set of several groups, L2-normalised on its own, as `detection.features.hybrid` does.
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from detection.cae.scoring import raw_frame_scores
from detection.evaluation.cli import read_records
from detection.evaluation.metrics import roc_auc
from detection.features import build_extractor
from detection.features.cae import train_cae_extractor
from detection.features.clips import clip_windows, frame_clip_index
from detection.labels import record_frame_labels
from detection.mil.bags import clip_scores_from_segments, segment_features
from detection.mil.config import MILConfig
from detection.mil.train import train_head
from detection.registry import TrainItem
from detection.thresholds import pick_threshold
from detection.video.cache import frames_for

TOPS = (1, 2, 4, 8, 16, 32, 64, 128)
SETS = {
    "mobilenet_v2": ["mob"],
    "cae": ["cae"],
    "error": ["err"],
    "default": ["mob", "err"],
    "default+motion": ["mob", "errmot"],
    "default-error-x2": ["mob", "err*2"],
    "mobilenet_v2+error-map-topk": ["mob", "heat"],
    "default+outliers": ["mob", "err", "rx"],
}


def local_outliers(videos: dict, normal_ids: list[str], window: int = 15) -> dict:
    """Per frame, log top-k means of the local RX score: Mahalanobis distance of each pixel's colour residual
    (minus its window's mean) under the residual statistics of the normal training frames."""

    def residual(frames):
        x = torch.from_numpy(np.asarray(frames)).permute(0, 3, 1, 2).float() / 255.0
        pad = F.pad(x, (window // 2,) * 4, mode="replicate")
        return (x - F.avg_pool2d(pad, window, stride=1)).permute(0, 2, 3, 1)  # (N, H, W, 3)

    pixels = torch.cat([residual(videos[i]).reshape(-1, 3) for i in normal_ids]).double()
    mean = pixels.mean(0)
    inverse = torch.linalg.inv(torch.cov(pixels.T) + 1e-6 * torch.eye(3, dtype=torch.float64)).float()
    out = {}
    for video_id, frames in videos.items():
        d = residual(frames) - mean.float()
        scores = torch.einsum("nhwc,cd,nhwd->nhw", d, inverse, d).flatten(1)
        top = scores.topk(max(TOPS), dim=1).values
        stats = [top[:, :k].mean(1) for k in TOPS] + [scores.mean(1)]
        out[video_id] = torch.log(torch.stack(stats, 1) + 1e-6).numpy()
    return out


def dump(folder: Path) -> dict:
    cache = folder / ".mil-features.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    records = [r for r in read_records(folder / "manifest.csv") if r.split in ("train", "val", "test")]
    items = [TrainItem(frames_for(r.path, fps=2.0, size=(124, 124), cache_dir=folder / ".frame-cache"), r)
             for r in records]
    print(f"training the area's CAE on {sum(i.record.label == 'normal' for i in items if i.record.split == 'train')}"
          " normal training videos", flush=True)
    cae = train_cae_extractor([i for i in items if i.record.split == "train"], seed=7)
    mobilenet = build_extractor("mobilenet_v2", clip_len=1, pooling="max-avg")
    latent = cae.frame_dim - 38  # encoder dims; then 20 error statistics, 18 motion energy
    videos = {i.record.video_id: i.frames.frames for i in items}
    normal_ids = [i.record.video_id for i in items if i.record.split == "train" and i.record.label == "normal"]
    outliers = local_outliers(videos, normal_ids)
    rows = []
    for item in items:
        frames = item.frames.frames
        maps = torch.from_numpy(raw_frame_scores(cae.model, frames, cae.cae_config).heatmaps.astype(np.float32))
        top = maps.flatten(1).topk(256, dim=1).values
        heat = torch.log(torch.stack([top[:, :k].mean(1) for k in (*TOPS, 256)], 1) + 1e-6)
        grid = torch.log(F.adaptive_max_pool2d(maps[:, None], 4).flatten(1) + 1e-6)
        cae_all = (cae.frame_features(frames) - cae.norm_mean) / cae.norm_std
        rows.append({
            "id": item.record.video_id, "split": item.record.split, "label": item.record.label,
            "frames": len(frames), "frame_labels": record_frame_labels(item.frames.times, item.record),
            "mob": mobilenet.clip_features(frames), "cae": cae_all, "err": cae_all[:, latent:latent + 20],
            "errmot": cae_all[:, latent:], "heat": torch.cat([heat, grid], 1).numpy(), "rx": outliers[item.record.video_id],
        })
        print(f"features of {item.record.video_id}", flush=True)
    for name in ("heat", "rx"):  # standardised on the normal training frames, like the CAE's statistics
        normal = np.concatenate([r[name] for r in rows if r["split"] == "train" and r["label"] == "normal"])
        for r in rows:
            r[name] = (r[name] - normal.mean(0)) / np.maximum(normal.std(0), 1e-6)
    data = {"rows": rows}
    cache.write_bytes(pickle.dumps(data))
    return data


def clip_group(row: dict, group: str, clip_len: int = 4) -> np.ndarray:
    name, _, weight = group.partition("*")
    per_frame = row[name]
    windows = clip_windows(len(per_frame), clip_len)
    means = np.add.reduceat(per_frame, windows[:, 0], axis=0) / (windows[:, 1] - windows[:, 0])[:, None]
    if name == "mob":
        return means
    return np.concatenate([means, np.maximum.reduceat(per_frame, windows[:, 0], axis=0)], axis=1)


def clip_features(row: dict, groups: list[str]) -> np.ndarray:
    if len(groups) == 1:
        return clip_group(row, groups[0])
    parts = []
    for group in groups:
        x = clip_group(row, group)
        weight = float(group.partition("*")[2] or 1)
        parts.append(weight * x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12))
    return np.concatenate(parts, axis=1)


def run(rows: list[dict], groups: list[str], seed: int) -> str:
    config = MILConfig()
    clips = {r["id"]: clip_features(r, groups) for r in rows}
    bags = {key: segment_features(value, config.segments) for key, value in clips.items()}
    pick = [r for r in rows if r["split"] == "train"]
    anomalous = np.stack([bags[r["id"]] for r in pick if r["label"] == "anomalous"])
    normal = np.stack([bags[r["id"]] for r in pick if r["label"] == "normal"])
    head, _ = train_head(anomalous, normal, config, seed=seed)

    def frame_scores(row):
        with torch.no_grad():
            segments = head(torch.from_numpy(bags[row["id"]][None]))[0].numpy()
        per_clip = clip_scores_from_segments(segments, len(clips[row["id"]]))
        return per_clip[frame_clip_index(row["frames"], 4)]

    val = [r for r in rows if r["split"] == "val"]
    val_scores = np.array([frame_scores(r).max() for r in val])
    val_labels = np.array([r["label"] == "anomalous" for r in val])
    threshold = pick_threshold(val_scores, val_labels).value
    test = [r for r in rows if r["split"] == "test"]
    scores = [frame_scores(r) for r in test]
    auc = roc_auc(np.concatenate([r["frame_labels"] for r in test]), np.concatenate(scores))
    video = np.array([s.max() for s in scores])
    truth = np.array([r["label"] == "anomalous" for r in test])
    flagged = video >= threshold
    tp, fp, fn = int((flagged & truth).sum()), int((flagged & ~truth).sum()), int((~flagged & truth).sum())
    f1 = 2 * tp / max(1, 2 * tp + fp + fn)
    return (f"frame AUC {auc:.3f}  video F1 {f1:.2f} (TP {tp} FP {fp} FN {fn})  "
            f"val video AUC {roc_auc(val_labels, val_scores):.2f}")


def upper_bound(rows: list[dict]) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    known = [r for r in rows if r["frame_labels"] is not None]
    def stack(split_rows, groups):
        return np.concatenate([np.concatenate([r[g] for g in groups], 1) for r in split_rows])

    for groups in (["err"], ["rx"], ["err", "rx"], ["mob"]):
        fit = [r for r in known if r["split"] != "test"]
        test = [r for r in known if r["split"] == "test"]
        scaler = StandardScaler().fit(stack(fit, groups))
        model = LogisticRegression(C=0.01, max_iter=2000, class_weight="balanced")
        model.fit(scaler.transform(stack(fit, groups)), np.concatenate([r["frame_labels"] for r in fit]))
        auc = roc_auc(np.concatenate([r["frame_labels"] for r in test]),
                            model.decision_function(scaler.transform(stack(test, groups))))
        print(f"frame-supervised upper bound, {'+'.join(groups)}: test frame AUC {auc:.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("setting", type=Path, help="a generated setting's folder, e.g. DIR/d2")
    parser.add_argument("--seeds", default="7")
    parser.add_argument("--sets", default=",".join(SETS), help=f"feature sets: {', '.join(SETS)}")
    parser.add_argument("--upper-bound", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = dump(args.setting)["rows"]
    for name in args.sets.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            print(f"{args.setting.name} {name:28s} seed {seed}: {run(rows, SETS[name], seed)}", flush=True)
    if args.upper_bound:
        upper_bound(rows)


if __name__ == "__main__":
    main()
