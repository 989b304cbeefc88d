"""Training the MIL detector from video-level labels (Sultani et al. 2018), as `detection.registry` expects.

    detector, report = train_from_items(train, val, overrides={"extractor": "mobilenet_v2"}, seed=0)

1. Clip features for every labelled video (through the feature cache: a second run extracts nothing).
2. Each video becomes a bag of `segments` L2-normalised segment features (bags.py).
3. The head is trained for `iterations` steps (or the run option `epochs`: passes over the larger class's
   bags, turned into steps here and saved as `iterations`); each step draws up to `batch_bags` anomalous and
   as many normal bags and takes the ranking loss of every anomalous bag against every normal one (loss.py).
   Its randomness follows `seed` alone: a local generator draws the batches, and the initial weights and
   dropout run under detection.seeding.seeded_torch, so nothing global is seeded.
4. The threshold comes from the validation split (detection.thresholds.pick_threshold, with the config's
   threshold_method, threshold_quantile and threshold_se), on the videos' highest segment scores against
   their video labels (threshold_on="video", weak labels suffice), or on frame scores against interval labels
   where known ("frames"). Then the detector is built, once, with that threshold; validation metrics go into
   the report.
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
from detection.mil.config import MILConfig, make_config
from detection.mil.detector import MILDetector, clip_features_of, feature_cache_for, score_video
from detection.mil.loss import ranking_loss
from detection.mil.model import MILHead, build_head
from detection.registry import TrainingReport, TrainItem
from detection.seeding import seeded_torch
from detection.thresholds import ThresholdChoice, normal_median, pick_threshold
from detection.types import ProgressFn, SampledFrames, no_progress


def make_extractor(
    config: MILConfig,
    train: list[TrainItem],
    progress: ProgressFn = no_progress,
    seed: int = 0,
    device: torch.device | None = None,
) -> FeatureExtractor:
    """The extractor a config names; those built on the area's CAE first train it on the normal videos."""
    options = {"clip_len": config.clip_len} if config.clip_len is not None else {}
    options["device"] = device or pick_device(None)
    if config.extractor in ("mobilenet_v2", "mobilenet_v2+cae"):
        options["pooling"] = config.spatial_pooling
        if config.input_size is not None:
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


def steps_for(epochs: int, anomalous: int, normal: int, batch_bags: int) -> int:
    """Training steps for `epochs` passes over the larger class's bags, `batch_bags` of each class per step."""
    if epochs < 1:
        raise ValueError(f"MIL epochs must be >= 1, got {epochs} (leave it out to train for `iterations` steps)")
    return epochs * math.ceil(max(anomalous, normal) / batch_bags)


def train_head(
    anomalous: np.ndarray,
    normal: np.ndarray,
    config: MILConfig,
    *,
    val: tuple[np.ndarray, np.ndarray] | None = None,
    seed: int = 0,
    device: torch.device | None = None,
    progress: ProgressFn = no_progress,
) -> tuple[MILHead, tuple[dict, ...]]:
    """Train a head on anomalous (Va, S, D) and normal (Vn, S, D) bags for `config.iterations` steps; returns
    (head in eval mode, curve). Batches are drawn by a generator seeded with `seed`; the initial weights and
    dropout (which take no generator) run under seeded_torch(seed), so torch's global state is left as found."""
    rng = np.random.default_rng(seed)
    device = device or pick_device(None)
    with seeded_torch(seed, device):
        head = build_head(in_features=anomalous.shape[2], config=config).to(device)
        curve = fit_head(head, anomalous, normal, config, rng=rng, val=val, progress=progress)
    return head.eval(), curve


def fit_head(
    head: MILHead,
    anomalous: np.ndarray,
    normal: np.ndarray,
    config: MILConfig,
    *,
    rng: np.random.Generator,
    val: tuple[np.ndarray, np.ndarray] | None = None,
    progress: ProgressFn = no_progress,
) -> tuple[dict, ...]:
    """The loop: each step draws up to `batch_bags` bags of each class with `rng` and takes one optimiser step
    on their ranking loss; about 50 points of the training (and validation) loss make the curve."""
    device = next(head.parameters()).device
    steps = config.iterations
    params = head.parameters()
    if config.optimizer == "adagrad":
        optimizer = torch.optim.Adagrad(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    else:
        optimizer = torch.optim.Adam(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    anomalous_t, normal_t = torch.from_numpy(anomalous).to(device), torch.from_numpy(normal).to(device)
    loss_options = dict(
        lambda_smooth=config.lambda_smooth,
        lambda_sparse=config.lambda_sparse,
        pool=config.segment_pooling,
        k=config.topk_segments,
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
    return tuple(curve)


def train_from_items(
    train: list[TrainItem],
    val: list[TrainItem],
    *,
    overrides: dict | None = None,
    progress: ProgressFn = no_progress,
    seed: int = 0,
) -> tuple[MILDetector, TrainingReport]:
    """Train a MIL detector on labelled videos. overrides: MILConfig fields (e.g. extractor, iterations), a
    preset ("config": "default" or "paper") and the run options "device" and "epochs" (detection.configs)."""
    started = time.monotonic()
    overrides = dict(overrides or {})
    device, epochs = pick_device(overrides.pop("device", None)), overrides.pop("epochs", None)
    config = make_config(overrides)
    anomalous, normal, warnings = split_by_label(list(train))
    if not anomalous or not normal:
        raise TrainingDataError(
            f"MIL training needs anomalous and normal videos; the training split has {len(anomalous)} anomalous "
            f"and {len(normal)} normal (of {len(train)}). Label more videos or move some into the training split."
        )
    if epochs is not None:
        steps = steps_for(int(epochs), len(anomalous), len(normal), config.batch_bags)
        config = dataclasses.replace(config, iterations=steps)
    extractor = make_extractor(config, list(train), lambda f, s: progress(0.1 * f, s), seed=seed, device=device)
    bags_a = bags_of(anomalous, extractor, config, lambda f, s: progress(0.1 + 0.2 * f, s))
    bags_n = bags_of(normal, extractor, config, lambda f, s: progress(0.3 + 0.2 * f, s))
    val_a, val_n, _ = split_by_label(list(val))
    val_bags = None
    if val_a and val_n:
        val_bags = (bags_of(val_a, extractor, config), bags_of(val_n, extractor, config))
    head, curve = train_head(
        bags_a, bags_n, config, val=val_bags, seed=seed, device=device,
        progress=lambda f, s: progress(0.5 + 0.4 * f, s),
    )
    threshold_items = val_a + val_n
    if not threshold_items:
        threshold_items = anomalous + normal
        warnings.append(
            "validation split has no labelled videos: the threshold was chosen on training videos"
        )
    choice, metrics = choose_threshold(head, extractor, threshold_items, config)
    warnings += [choice.warning] if choice.warning else []
    detector = MILDetector(
        config=config,
        head=head,
        extractor=extractor,
        in_features=bags_a.shape[2],
        threshold=choice.value,
        validation=metrics,
    )
    progress(1.0, "done")
    report = TrainingReport(
        curve=curve,
        validation_metrics=metrics,
        train_seconds=time.monotonic() - started,
        warnings=tuple(warnings),
    )
    return detector, report


def choose_threshold(
    head: MILHead, extractor: FeatureExtractor, items: list[TrainItem], config: MILConfig
) -> tuple[ThresholdChoice, dict]:
    """The threshold from labelled videos, as the config asks, and the validation metrics at it."""
    cache = feature_cache_for(config)
    video_scores, video_labels, frame_scores, frame_labels, normal_scores = [], [], [], [], []
    for item in items:
        times = np.asarray(item.frames.times, dtype=np.float64)
        scored = score_video(head, extractor, config, item.frames.frames, times, cache)
        video_scores.append(float(scored.frames.max()))
        video_labels.append(item.record.is_anomalous)
        known = record_frame_labels(times, item.record)
        if known is not None:
            frame_scores.append(scored.frames)
            frame_labels.append(known)
            normal_scores.append(scored.frames[~known])
        elif not item.record.is_anomalous:
            normal_scores.append(scored.frames)
    rule = dict(method=config.threshold_method, quantile=config.threshold_quantile, se_factor=config.threshold_se)
    if config.threshold_on == "frames" and frame_scores:
        choice = pick_threshold(np.concatenate(frame_scores), np.concatenate(frame_labels), **rule)
    else:
        choice = pick_threshold(np.asarray(video_scores), np.asarray(video_labels), **rule)
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
    return choice, metrics
