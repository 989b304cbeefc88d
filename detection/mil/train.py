"""Training the MIL detector from video-level labels (Sultani et al. 2018), as `detection.registry` expects.

    detector, report = train_from_items(train, val, overrides={"extractor": "mobilenet_v2"}, seed=0)

1. Clip features for every labelled video (through the feature cache: a second run extracts nothing).
2. Each video becomes a bag of `segments` L2-normalised segment features (bags.py).
3. The head is trained for `iterations` steps; each step draws up to `batch_bags` anomalous and as many
   normal bags and takes the ranking loss of every anomalous bag against every normal one (loss.py).
4. The threshold comes from the validation split (detection.thresholds.pick_threshold), on the videos'
   highest segment scores against their video labels (threshold_on="video", weak labels suffice), or on frame
   scores against interval labels where known ("frames"). Validation metrics go into the report.
Unlabelled videos are skipped with a warning; a split without anomalous or normal videos is a
TrainingDataError.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import torch

from detection.device import pick_device
from detection.errors import TrainingDataError
from detection.evaluation.metrics import roc_auc
from detection.features import build_extractor
from detection.features.clips import FeatureExtractor
from detection.labels import frame_truth, known_runs, record_frame_labels
from detection.mil.bags import segment_features
from detection.mil.config import MILConfig
from detection.mil.detector import MILDetector, clip_features_of, feature_cache_for
from detection.mil.loss import ranking_loss
from detection.mil.model import build_head
from detection.registry import TrainingReport, TrainItem
from detection.thresholds import normal_median, pick_threshold
from detection.types import ProgressFn, SampledFrames, no_progress


def make_extractor(
    config: MILConfig, train: list[TrainItem], progress: ProgressFn = no_progress, seed: int = 0
) -> FeatureExtractor:
    """The extractor a config names; those built on the area's CAE first train it on the normal videos."""
    options = {"clip_len": config.clip_len} if config.clip_len else {}
    options["device"] = pick_device(config.device or None)
    if config.extractor in ("mobilenet_v2", "mobilenet_v2+cae"):
        options["pooling"] = config.pooling
        if config.input_size:
            options["input_size"] = config.input_size
    if config.extractor in ("mobilenet_v2+cae", "cae"):  # built on the area's CAE: trained or loaded first
        from detection.features.cae import train_cae_extractor
        from detection.features.hybrid import train_hybrid_extractor

        build = train_hybrid_extractor if config.extractor == "mobilenet_v2+cae" else train_cae_extractor
        cae = {"cae_detector": config.cae_detector, "cae_epochs": config.cae_epochs, "seed": seed}
        return build(train, progress=progress, **cae, **options)
    return build_extractor(config.extractor, **options)


def bags_of(
    items: list[TrainItem], extractor: FeatureExtractor, config: MILConfig, progress: ProgressFn = no_progress
) -> np.ndarray:
    """(V, S, D) float32 segment features, one bag per item."""
    cache = feature_cache_for(config)
    bags = []
    for index, item in enumerate(items):
        clips = clip_features_of(extractor, item.frames.frames, item.frames.times, cache)
        bags.append(segment_features(clips, config.segments))
        progress((index + 1) / len(items), f"features {index + 1}/{len(items)}")
    return np.stack(bags)


def split_by_label(items: list[TrainItem]) -> tuple[list[TrainItem], list[TrainItem], list[str]]:
    """(anomalous, normal, warnings); an unlabelled item gives its normal intervals (dismissed events) as normal
    bags of their own, and is otherwise left out with a warning."""
    anomalous = [item for item in items if item.record.label == "anomalous"]
    normal = [item for item in items if item.record.label == "normal"]
    unlabelled = [item for item in items if item.record.label not in ("anomalous", "normal")]
    per_item = [normal_pieces(item) for item in unlabelled]
    pieces = [piece for found in per_item for piece in found]
    skipped = sum(not found for found in per_item)
    warnings = [f"{skipped} unlabelled training videos were left out"] if skipped else []
    return anomalous, normal + pieces, warnings


MIN_PIECE_FRAMES = 2


def normal_pieces(item: TrainItem) -> list[TrainItem]:
    """The runs of frames inside the record's normal intervals, each a normal video of its own."""
    truth = frame_truth(item.frames.times, item.record)
    if truth is None:
        return []
    labels, known = truth
    pieces = []
    for start, stop in known_runs(known & ~labels):
        if stop - start < MIN_PIECE_FRAMES:
            continue
        frames = SampledFrames(frames=np.asarray(item.frames.frames[start:stop]), times=item.frames.times[start:stop],
                               source_fps=item.frames.source_fps)
        record = dataclasses.replace(item.record, label="normal", intervals=(), normal_intervals=(),
                                     video_id=f"{item.record.video_id}@{item.frames.times[start]:.1f}s")
        pieces.append(TrainItem(frames=frames, record=record))
    return pieces


def train_head(
    anomalous: np.ndarray,
    normal: np.ndarray,
    config: MILConfig,
    *,
    val: tuple[np.ndarray, np.ndarray] | None = None,
    seed: int = 0,
    progress: ProgressFn = no_progress,
):
    """Train a head on anomalous (Va, S, D) and normal (Vn, S, D) bags; returns (head, curve)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    device = pick_device(config.device or None)
    head = build_head(in_features=anomalous.shape[2], config=config).to(device)
    batches_per_epoch = math.ceil(max(len(anomalous), len(normal)) / config.batch_bags)
    steps = config.epochs * batches_per_epoch if config.epochs else config.iterations
    params = head.parameters()
    if config.optimizer == "adagrad":
        optimizer = torch.optim.Adagrad(params, lr=config.lr, weight_decay=config.weight_decay)
    else:
        optimizer = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    anomalous_t, normal_t = torch.from_numpy(anomalous).to(device), torch.from_numpy(normal).to(device)
    loss_options = dict(
        lambda_smooth=config.lambda_smooth,
        lambda_sparse=config.lambda_sparse,
        pool=config.pool,
        k=config.topk,
    )
    log_every = max(1, steps // 50)
    curve, running = [], []
    for step in range(1, steps + 1):
        pick_a = rng.choice(len(anomalous), size=min(config.batch_bags, len(anomalous)), replace=False)
        pick_n = rng.choice(len(normal), size=min(config.batch_bags, len(normal)), replace=False)
        head.train()
        scores = head(torch.cat([anomalous_t[pick_a], normal_t[pick_n]]))  # (Ba + Bn, S)
        loss = ranking_loss(scores[: len(pick_a)], scores[len(pick_a) :], **loss_options).total
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        running.append(loss.item())
        if step % log_every == 0 or step == steps:
            point = {"epoch": step, "train_loss": float(np.mean(running))}
            if val is not None:
                head.eval()
                with torch.no_grad():
                    val_scores = head(torch.from_numpy(np.concatenate(val)).to(device))
                point["val_loss"] = ranking_loss(
                    val_scores[: len(val[0])], val_scores[len(val[0]) :], **loss_options
                ).total.item()
            curve.append(point)
            running = []
            progress(step / steps, f"training step {step}/{steps}")
    return head.eval(), tuple(curve)


def train_from_items(
    train: list[TrainItem],
    val: list[TrainItem],
    *,
    overrides: dict | None = None,
    progress: ProgressFn = no_progress,
    seed: int = 0,
) -> tuple[MILDetector, TrainingReport]:
    """Train a MIL detector on labelled videos; overrides are MILConfig fields (e.g. extractor, iterations)."""
    started = time.monotonic()
    config = MILConfig.from_overrides(overrides)
    anomalous, normal, warnings = split_by_label(list(train))
    if not anomalous or not normal:
        raise TrainingDataError(
            f"MIL training needs anomalous and normal videos; the training split has {len(anomalous)} anomalous "
            f"and {len(normal)} normal (of {len(train)}). Label more videos or move some into the training split."
        )
    extractor = make_extractor(config, list(train), lambda f, s: progress(0.1 * f, s), seed=seed)
    bags_a = bags_of(anomalous, extractor, config, lambda f, s: progress(0.1 + 0.2 * f, s))
    bags_n = bags_of(normal, extractor, config, lambda f, s: progress(0.3 + 0.2 * f, s))
    val_a, val_n, _ = split_by_label(list(val))
    val_bags = None
    if val_a and val_n:
        val_bags = (bags_of(val_a, extractor, config), bags_of(val_n, extractor, config))
    head, curve = train_head(
        bags_a, bags_n, config, val=val_bags, seed=seed, progress=lambda f, s: progress(0.5 + 0.4 * f, s)
    )
    detector = MILDetector(
        config=config, head=head, extractor=extractor, in_features=bags_a.shape[2], threshold=0.5
    )
    threshold_items = val_a + val_n
    if not threshold_items:
        threshold_items = anomalous + normal
        warnings.append(
            "validation split has no labelled videos: the threshold was chosen on training videos"
        )
    metrics, threshold_warning = choose_threshold(detector, threshold_items, config)
    warnings += [threshold_warning] if threshold_warning else []
    detector.validation = metrics
    progress(1.0, "done")
    report = TrainingReport(
        curve=curve,
        validation_metrics=metrics,
        train_seconds=time.monotonic() - started,
        warnings=tuple(warnings),
    )
    return detector, report


def choose_threshold(detector: MILDetector, items: list[TrainItem], config: MILConfig) -> tuple[dict, str]:
    """Set the detector's threshold from labelled videos; returns (validation metrics, warning)."""
    video_scores, video_labels, frame_scores, frame_labels, normal_scores = [], [], [], [], []
    for item in items:
        scored = detector.score_frames(item.frames.frames, item.frames.times)
        video_scores.append(float(scored.frame_scores.max()))
        video_labels.append(item.record.is_anomalous)
        known = record_frame_labels(scored.times, item.record)
        if known is not None:
            frame_scores.append(scored.frame_scores)
            frame_labels.append(known)
            normal_scores.append(scored.frame_scores[~known])
        elif not item.record.is_anomalous:
            normal_scores.append(scored.frame_scores)
    if config.threshold_on == "frames" and frame_scores:
        choice = pick_threshold(np.concatenate(frame_scores), np.concatenate(frame_labels))
    else:
        choice = pick_threshold(np.asarray(video_scores), np.asarray(video_labels))
    detector.threshold = choice.value
    flagged = np.asarray(video_scores) >= choice.value
    labels = np.asarray(video_labels)
    metrics = {
        "threshold": choice.value,
        "threshold_method": f"{config.threshold_on}:{choice.method}",
        "threshold_f1": choice.f1,
        "videos": len(items),
        "video_accuracy": float(np.mean(flagged == labels)),
        "video_auc": roc_auc(labels, np.asarray(video_scores)),
        "val_normal_median": normal_median(np.concatenate(normal_scores)) if normal_scores else None,
    }
    if frame_scores:
        metrics["frame_auc"] = roc_auc(np.concatenate(frame_labels), np.concatenate(frame_scores))
    return metrics, choice.warning
