"""Baseline detectors measured beside the CAE and MIL, on the same frames, through the same interface.

Each is fitted on the train split's normal frames, takes its threshold from the val split
(`detection.thresholds.pick_threshold`) and scores frames like any detector (`score_frames` -> VideoScores):
- `iforest`: an Isolation Forest (scikit-learn) on frames averaged down to a few pixels a side;
- `nearest`: nearest-normal-frame differencing: each frame against its most similar training frame
  (found on a small thumbnail), scored by the mean of its largest per-pixel differences;
- `patchcore`: PatchCore-style: frozen ImageNet MobileNetV2 features (stride 8 and stride 16 blocks,
  3x3 neighbourhood-averaged) of normal frames, greedily subsampled into a memory bank; each test patch is
  scored by its distance to the nearest bank patch, a frame by its worst patch.
They are not saved to files: they exist to give every number in the evaluation a neighbour.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.ensemble import IsolationForest

from detection.errors import TrainingDataError
from detection.events import merge_events
from detection.labels import record_frame_labels
from detection.registry import TrainingReport, TrainItem
from detection.thresholds import pick_threshold
from detection.types import ProgressFn, VideoScores, no_progress

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _to_tensor(frames: np.ndarray) -> torch.Tensor:
    """(N, H, W, 3) uint8 -> (N, 3, H, W) float32 in [0, 1]."""
    return torch.from_numpy(np.array(frames, dtype=np.uint8)).permute(0, 3, 1, 2).float().div_(255.0)


def _pooled(frames: np.ndarray, side: int) -> torch.Tensor:
    """(N, 3, side, side) area-averaged thumbnails in [0, 1]."""
    return F.adaptive_avg_pool2d(_to_tensor(frames), (side, side))


def _evenly(n: int, limit: int) -> np.ndarray:
    """Indices of at most `limit` of n items, evenly spread (deterministic)."""
    return np.arange(n) if n <= limit else np.linspace(0, n - 1, limit).round().astype(int)


def _quantise(heatmaps: np.ndarray) -> tuple[np.ndarray, float]:
    """(N, h, w) float -> (uint8 maps, scale) with value v standing for v * scale."""
    peak = float(heatmaps.max()) if heatmaps.size else 0.0
    scale = peak / 255.0 if peak > 0 else 1.0
    return np.clip(np.round(heatmaps / scale), 0, 255).astype(np.uint8), scale


class FrameBaseline:
    """Shared behaviour: batched scoring into VideoScores with events merged over the threshold."""

    kind = ""
    batch_size = 64
    max_train_frames = 5000

    def __init__(self) -> None:
        self.threshold = float("nan")

    def fit(self, frames: np.ndarray, *, seed: int) -> None:
        """Learn normal from (N, H, W, 3) uint8 frames."""
        raise NotImplementedError

    def frame_scores(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(scores (B,), heatmaps (B, h, w) or None) for a batch of frames."""
        raise NotImplementedError

    def score_all(
        self, frames: np.ndarray, progress: ProgressFn = no_progress
    ) -> tuple[np.ndarray, np.ndarray | None]:
        scores, maps = [], []
        with torch.inference_mode():
            for start in range(0, len(frames), self.batch_size):
                batch_scores, batch_maps = self.frame_scores(
                    np.asarray(frames[start : start + self.batch_size])
                )
                scores.append(batch_scores)
                maps.append(batch_maps)
                progress(min(1.0, (start + self.batch_size) / max(1, len(frames))), f"{self.kind}: scoring")
        if not scores:
            return np.zeros(0, np.float32), None
        heatmaps = None if maps[0] is None else np.concatenate(maps)
        return np.concatenate(scores).astype(np.float32), heatmaps

    def score_frames(
        self, frames: np.ndarray, times: np.ndarray, progress: ProgressFn = no_progress
    ) -> VideoScores:
        """Score one video's (N, H, W, 3) uint8 frames at `times` seconds."""
        scores, heatmaps = self.score_all(frames, progress)
        events = merge_events(times, scores, self.threshold, heatmaps=heatmaps)
        quantised, scale = (None, 1.0) if heatmaps is None else _quantise(heatmaps)
        return VideoScores(
            times=np.asarray(times, dtype=np.float64),
            frame_scores=scores,
            threshold=self.threshold,
            events=events,
            heatmaps=quantised,
            heatmap_scale=scale,
        )


class IsolationForestBaseline(FrameBaseline):
    """Isolation Forest on (side x side x 3) thumbnails; score = minus scikit-learn's score_samples."""

    kind = "iforest"

    def __init__(self, *, side: int = 16, n_estimators: int = 200, max_train_frames: int = 5000) -> None:
        super().__init__()
        self.side, self.n_estimators, self.max_train_frames = side, n_estimators, max_train_frames

    def fit(self, frames: np.ndarray, *, seed: int) -> None:
        chosen = _evenly(len(frames), self.max_train_frames)
        features = _pooled(frames[chosen], self.side).flatten(1).numpy()  # (N, 3*side*side)
        self.forest = IsolationForest(n_estimators=self.n_estimators, random_state=seed, n_jobs=1).fit(
            features
        )

    def frame_scores(self, frames: np.ndarray) -> tuple[np.ndarray, None]:
        features = _pooled(frames, self.side).flatten(1).numpy()
        return -self.forest.score_samples(features), None


class NearestNormalBaseline(FrameBaseline):
    """Each frame minus its nearest training frame (found on `search_side` thumbnails), at `diff_side` pixels.

    Score: mean of the top `top_fraction` of per-pixel absolute differences (channel mean) after a 3x3 blur.
    """

    kind = "nearest"

    def __init__(
        self,
        *,
        search_side: int = 16,
        diff_side: int = 64,
        top_fraction: float = 0.01,
        max_train_frames: int = 5000,
    ) -> None:
        super().__init__()
        self.search_side, self.diff_side = search_side, diff_side
        self.top_fraction, self.max_train_frames = top_fraction, max_train_frames

    def fit(self, frames: np.ndarray, *, seed: int) -> None:
        chosen = _evenly(len(frames), self.max_train_frames)
        self.keys = _pooled(frames[chosen], self.search_side).flatten(1)  # (M, 3*s*s)
        self.bank = (_pooled(frames[chosen], self.diff_side) * 255).round().to(torch.uint8)  # (M, 3, d, d)

    def frame_scores(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        nearest = torch.cdist(_pooled(frames, self.search_side).flatten(1), self.keys).argmin(dim=1)  # (B,)
        diff = (
            (_pooled(frames, self.diff_side) - self.bank[nearest].float() / 255)
            .abs()
            .mean(dim=1, keepdim=True)
        )
        diff = F.avg_pool2d(diff, 3, stride=1, padding=1, count_include_pad=False)[:, 0]  # (B, d, d)
        k = max(1, int(round(self.top_fraction * diff[0].numel())))
        scores = diff.flatten(1).topk(k, dim=1).values.mean(dim=1)
        return scores.numpy(), diff.numpy()


def _mobilenet_v2() -> torch.nn.Module:
    from torchvision.models import mobilenet_v2

    from detection.features.weights import load_state_dict

    state, _ = load_state_dict("mobilenet_v2")
    model = mobilenet_v2()
    model.load_state_dict(state)
    return model.features.eval()


def greedy_coreset(
    features: torch.Tensor, size: int, *, seed: int, projection_dims: int = 16
) -> torch.Tensor:
    """Indices of `size` rows of (N, D) `features` chosen by greedy k-center on a random projection.

    Each step adds the row farthest from everything chosen so far, so the bank covers rare normal patches
    as well as common ones (PatchCore's coreset subsampling).
    """
    n = features.shape[0]
    if n <= size:
        return torch.arange(n)
    generator = torch.Generator().manual_seed(seed)
    dims = min(projection_dims, features.shape[1])
    projected = features @ torch.randn(features.shape[1], dims, generator=generator)  # (N, dims)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # thousands of tiny steps: worker threads cost more than they give
    try:
        return _farthest_first(projected, size, generator)
    finally:
        torch.set_num_threads(threads)


def _farthest_first(projected: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    n = projected.shape[0]
    chosen = torch.empty(size, dtype=torch.long)
    chosen[0] = int(torch.randint(n, (1,), generator=generator))
    distance = (projected - projected[chosen[0]]).square_().sum(dim=1)  # (N,) squared, to the nearest chosen
    for step in range(1, size):
        chosen[step] = int(distance.argmax())
        torch.minimum(distance, (projected - projected[chosen[step]]).square_().sum(dim=1), out=distance)
    return chosen


class PatchCoreBaseline(FrameBaseline):
    """PatchCore-style scoring with a frozen ImageNet MobileNetV2 (weights from detection.features.weights).

    Input (B, 3, H, W) ImageNet-normalised at the frames' size times `input_scale`; patch grid at stride 8.
    """

    kind = "patchcore"
    batch_size = 16
    LOW, HIGH = 7, 14  # blocks up to features[6] (stride 8, 32 channels) and features[13] (stride 16, 96)

    def __init__(
        self,
        *,
        bank_size: int = 3000,
        max_candidates: int = 20000,
        max_train_frames: int = 1000,
        input_scale: float = 1.0,
    ) -> None:
        super().__init__()
        self.input_scale = input_scale
        self.bank_size, self.max_candidates, self.max_train_frames = (
            bank_size,
            max_candidates,
            max_train_frames,
        )
        self.backbone = _mobilenet_v2()
        self.mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        self.std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)

    def patch_features(self, frames: np.ndarray) -> torch.Tensor:
        """(B, 128, h, w) neighbourhood-averaged patch features at stride 8."""
        x = (_to_tensor(frames) - self.mean) / self.std
        if self.input_scale != 1.0:  # small objects cover more of the backbone's receptive field
            x = F.interpolate(x, scale_factor=self.input_scale, mode="bilinear", align_corners=False)
        low = self.backbone[: self.LOW](x)  # (B, 32, H/8, W/8)
        high = self.backbone[self.LOW : self.HIGH](low)  # (B, 96, H/16, W/16)
        high = F.interpolate(high, size=low.shape[-2:], mode="bilinear", align_corners=False)
        return F.avg_pool2d(torch.cat([low, high], dim=1), 3, stride=1, padding=1, count_include_pad=False)

    def fit(self, frames: np.ndarray, *, seed: int) -> None:
        chosen = _evenly(len(frames), self.max_train_frames)
        with torch.inference_mode():
            patches = torch.cat(
                [
                    self.patch_features(np.asarray(frames[chosen[i : i + self.batch_size]]))
                    .permute(0, 2, 3, 1)
                    .flatten(0, 2)
                    for i in range(0, len(chosen), self.batch_size)
                ]
            )  # (N * h * w, 128)
            generator = torch.Generator().manual_seed(seed)
            if len(patches) > self.max_candidates:
                patches = patches[torch.randperm(len(patches), generator=generator)[: self.max_candidates]]
            self.bank = patches[greedy_coreset(patches, self.bank_size, seed=seed)].clone()  # (bank, 128)

    def frame_scores(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        features = self.patch_features(frames)  # (B, 128, h, w)
        b, _, h, w = features.shape
        distance = (
            torch.cdist(features.permute(0, 2, 3, 1).reshape(b * h * w, -1), self.bank).min(dim=1).values
        )
        maps = distance.view(b, h, w)
        return maps.flatten(1).max(dim=1).values.numpy(), maps.numpy()


BASELINES = {
    "iforest": IsolationForestBaseline,
    "nearest": NearestNormalBaseline,
    "patchcore": PatchCoreBaseline,
}


def gather_frames(videos: list[np.ndarray], limit: int) -> np.ndarray:
    """At most `limit` frames spread evenly over several videos' (N_i, H, W, 3) arrays, copied into one."""
    lengths = np.array([len(v) for v in videos])
    chosen = _evenly(int(lengths.sum()), limit)
    owner = np.searchsorted(np.cumsum(lengths), chosen, side="right")  # which video each chosen frame is in
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return np.stack([np.asarray(videos[v][i - offsets[v]]) for v, i in zip(owner, chosen)])


@dataclass(frozen=True)
class _Validation:
    scores: np.ndarray
    labels: np.ndarray


def _validation(detector: FrameBaseline, val: list[TrainItem], progress: ProgressFn) -> _Validation:
    scores, labels = [], []
    for index, item in enumerate(val):
        known = record_frame_labels(item.frames.times, item.record)
        if known is None:
            continue  # a weak label says nothing about single frames
        scores.append(detector.score_all(item.frames.frames)[0])
        labels.append(known)
        progress(0.5 + 0.5 * (index + 1) / len(val), f"{detector.kind}: scoring validation")
    if not scores:
        raise TrainingDataError("the val split has no video with frame labels to choose a threshold from")
    return _Validation(np.concatenate(scores), np.concatenate(labels))


def train_baseline(
    kind: str,
    train: list[TrainItem],
    val: list[TrainItem],
    *,
    overrides: dict | None = None,
    progress: ProgressFn = no_progress,
    seed: int = 0,
) -> tuple[FrameBaseline, TrainingReport]:
    """Fit baseline `kind` on the normal frames of `train`, threshold it on `val`; like registry trainers."""
    if kind not in BASELINES:
        raise ValueError(f"unknown baseline {kind!r}; known: {', '.join(BASELINES)}")
    started = time.perf_counter()
    torch.manual_seed(seed)
    normal = [
        item.frames.frames for item in train if item.record.label == "normal" and len(item.frames.frames)
    ]
    if not normal:
        raise TrainingDataError(f"{kind}: the train split has no normal videos to learn normal from")
    try:
        detector = BASELINES[kind](**(overrides or {}))
    except TypeError as exc:
        raise ValueError(f"{kind}: unknown setting in {sorted(overrides or {})}: {exc}") from exc
    frames = gather_frames(normal, detector.max_train_frames)
    progress(0.0, f"{kind}: fitting on {len(frames)} normal frames")
    detector.fit(frames, seed=seed)
    progress(0.5, f"{kind}: choosing the threshold on validation")
    validation = _validation(detector, val, progress)
    choice = pick_threshold(validation.scores, validation.labels)
    detector.threshold = choice.value
    report = TrainingReport(
        validation_metrics={"threshold": choice.value, "method": choice.method, "f1": choice.f1},
        train_seconds=time.perf_counter() - started,
        warnings=(choice.warning,) if choice.warning else (),
    )
    return detector, report
