"""The trained CAE detector: frames in, frame scores, heatmaps and events out; and its file loader.

Scoring runs in chunks of `config.inference_batch` frames under `torch.inference_mode`, so a long video
(a memory-mapped (N, H, W, 3) array) never sits in memory as floats. Per chunk: frames -> model input
(resized to input_size, or cut into tiles, or stacked into 10-frame windows) -> reconstruction ->
per-pixel error of the newest frame -> smoothed map -> frame score (top-k mean) and pooled heatmap.
Raw frame scores are then z-scored with the validation normal frames' mean and spread (and, if
configured, median-filtered over `temporal_window` frames); events are merged from the result.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import median_filter
from torch import nn

from detection.cae.anomaly_map import frame_scores, heatmap_shape, pool_heatmaps, quantise, smooth_maps
from detection.cae.config import CAEConfig
from detection.cae.losses import pixel_error
from detection.cae.model import build_model
from detection.cae.tiling import cut_tiles, stitch, tile_grid
from detection.cae.windows import stack_window, window_indices
from detection.detector_file import DetectorPayload, save_detector
from detection.device import autocast, pick_device
from detection.events import merge_events
from detection.types import DetectedEvent, ProgressFn, VideoScores, no_progress


@dataclass(frozen=True)
class RawScores:
    """Before normalisation: frame scores (N,) float32 and pooled error maps (N, h, w) float16."""

    scores: np.ndarray
    heatmaps: np.ndarray


def to_model_frames(frames: np.ndarray, config: CAEConfig, device: torch.device) -> torch.Tensor:
    """(n, H, W, 3) uint8 (a copy is taken: memmaps are read-only) -> (n, 3, S, S) uint8 on `device`,
    resized to the input size (kept as is when tiled)."""
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be (N, H, W, 3) uint8 RGB, got {frames.shape} {frames.dtype}")
    images = torch.from_numpy(np.array(frames)).to(device).permute(0, 3, 1, 2)  # (n, 3, H, W)
    size = (config.input_size, config.input_size)
    if config.tiled or images.shape[-2:] == size:
        return images.contiguous()
    resized = F.interpolate(images.float(), size=size, mode="bilinear", antialias=True, align_corners=False)
    return resized.round_().clamp_(0, 255).to(torch.uint8)


def model_input(frames: torch.Tensor, indices: torch.Tensor, run_starts: torch.Tensor, length: int) -> torch.Tensor:
    """(B, 3 * length, S, S) float in [0, 1] for the frames at `indices` of (N, 3, S, S) uint8 `frames`."""
    if length == 1:
        batch = frames[indices]
    else:
        batch = stack_window(frames, window_indices(indices, run_starts, length))
    # uint8 to channels_last first (a quarter of the bytes), then one float conversion and an in-place scale.
    return batch.contiguous(memory_format=torch.channels_last).float().mul_(1.0 / 255.0)


def error_maps(model: nn.Module, x: torch.Tensor, config: CAEConfig) -> torch.Tensor:
    """(B, S, S) per-pixel error of the newest frame of inputs (B, C, S, S), before smoothing."""
    with autocast(x.device):
        reconstruction = model(x)
    return pixel_error(x[:, -3:], reconstruction[:, -3:], config.error, ssim_weight=config.ssim_weight)


def tiled_error_maps(model: nn.Module, frames: torch.Tensor, config: CAEConfig) -> torch.Tensor:
    """(B, H, W) stitched error maps of (B, 3, H, W) uint8 full-resolution frames."""
    grid = tile_grid(frames.shape[-2], frames.shape[-1], config.input_size, config.tile_overlap)
    tiles = cut_tiles(frames, grid)  # (B * T, 3, t, t) uint8
    maps = [
        error_maps(model, part.contiguous(memory_format=torch.channels_last).float().mul_(1.0 / 255.0), config)
        for part in tiles.split(config.inference_batch)
    ]
    return stitch(torch.cat(maps), grid)


def raw_frame_scores(
    model: nn.Module, frames: np.ndarray, config: CAEConfig, progress: ProgressFn = no_progress
) -> RawScores:
    """Raw scores and pooled maps of one video's (N, H, W, 3) uint8 frames, on the model's device."""
    device = next(model.parameters()).device
    count = len(frames)
    frame_shape = frames.shape[1:3] if config.tiled else (config.input_size, config.input_size)
    pooled_shape = heatmap_shape(frame_shape[0], frame_shape[1], config.heatmap_pixels)
    scores = np.zeros(count, dtype=np.float32)
    heatmaps = np.zeros((count, *pooled_shape), dtype=np.float16)
    if config.tiled:
        tiles = tile_grid(frame_shape[0], frame_shape[1], config.input_size, config.tile_overlap).count
        step = max(1, config.inference_batch // tiles)
    else:
        step = config.inference_batch
    history = config.sequence_length - 1
    model.eval()
    with torch.inference_mode():
        for start in range(0, count, step):
            stop = min(count, start + step)
            first = max(0, start - history)  # earlier frames feed the windows of sequence mode
            chunk = to_model_frames(np.asarray(frames[first:stop]), config, device)
            if config.tiled:
                maps = tiled_error_maps(model, chunk, config)
            else:
                targets = torch.arange(start - first, stop - first, device=device)
                run_starts = torch.zeros(len(chunk), dtype=torch.long, device=device)
                maps = error_maps(model, model_input(chunk, targets, run_starts, config.sequence_length), config)
            maps = smooth_maps(maps, config.map_smoothing_sigma)
            pooled = frame_scores(maps, pooling=config.pixel_pooling, topk_fraction=config.topk_fraction)
            scores[start:stop] = pooled.cpu()
            heatmaps[start:stop] = pool_heatmaps(maps, pooled_shape).cpu().numpy()
            progress(stop / count, f"scored {stop}/{count} frames")
    return RawScores(scores=scores, heatmaps=heatmaps)


def finalise_scores(raw: np.ndarray, config: CAEConfig, normalisation: dict) -> np.ndarray:
    """(N,) final scores of one video: optionally shifted to its own median, z-scored by the validation
    normals, then median-filtered over time."""
    scores = np.asarray(raw, dtype=np.float64)
    if config.video_relative and scores.size:
        # Light, clouds and altitude move a whole video's errors; an anomaly is rarely most of a video.
        scores = scores - np.median(scores) + normalisation["score_mean"]
    if config.normalise_scores:
        scores = (scores - normalisation["score_mean"]) / normalisation["score_std"]
    if config.temporal_window > 1 and scores.size:
        scores = median_filter(scores, size=config.temporal_window, mode="nearest")
    return scores.astype(np.float32)


def normalisation_stats(normal_raw_scores: np.ndarray) -> dict:
    """Mean and spread of raw scores of normal validation frames (spread floored so it never divides by 0)."""
    values = np.asarray(normal_raw_scores, dtype=np.float64)
    mean = float(values.mean()) if values.size else 0.0
    std = float(values.std()) if values.size > 1 else 0.0
    return {"score_mean": mean, "score_std": max(std, 1e-6, 1e-3 * abs(mean))}


class CAEDetector:
    """A trained CAE: `score_frames` on (N, H, W, 3) uint8 RGB frames; see the module docstring."""

    kind = "cae"

    def __init__(
        self,
        model: nn.Module,
        config: CAEConfig,
        threshold: float,
        normalisation: dict,
        *,
        extra: dict | None = None,
    ):
        self.model = model.eval()
        self.config = config
        self.threshold = float(threshold)
        self.normalisation = dict(normalisation)
        self.extra = dict(extra or {})

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def to(self, device: str | torch.device | None) -> CAEDetector:
        """Move the model to `device` (None: CUDA when present, else CPU); returns self."""
        self.model.to(pick_device(device), memory_format=torch.channels_last)
        return self

    def score_frames(self, frames: np.ndarray, times: np.ndarray, progress: ProgressFn = no_progress) -> VideoScores:
        """Frame scores, uint8 heatmaps and events for one video's frames (N, H, W, 3) at `times` (N,)."""
        times = np.asarray(times, dtype=np.float64)
        if len(times) != len(frames):
            raise ValueError(f"{len(frames)} frames but {len(times)} times")
        if len(frames) == 0:
            return VideoScores(times=times, frame_scores=np.zeros(0, np.float32), threshold=self.threshold)
        raw = raw_frame_scores(self.model, frames, self.config, progress)
        scores = finalise_scores(raw.scores, self.config, self.normalisation)
        heatmaps, scale = quantise(raw.heatmaps)
        scored = VideoScores(
            times=times,
            frame_scores=scores,
            threshold=self.threshold,
            heatmaps=heatmaps,
            heatmap_scale=scale,
            extras={"kind": self.kind, "config": self.config.name, "raw_scores": raw.scores},
        )
        return replace(scored, events=self.events_at(scored, self.threshold))

    def events_at(self, scores: VideoScores, threshold: float) -> tuple[DetectedEvent, ...]:
        """The events `score_frames` finds in `scores` (fresh or loaded from the score store) at `threshold`:
        how a new threshold re-derives a video's events without scoring it again."""
        return merge_events(
            scores.times,
            scores.frame_scores,
            threshold,
            heatmaps=scores.heatmaps,
            max_gap=self.config.event_max_gap,
            min_duration=self.config.event_min_duration,
        )

    def reconstruct(self, frames: np.ndarray) -> np.ndarray | None:
        """(n, S, S, 3) uint8 reconstructions of (n, H, W, 3) uint8 frames at the model's input size, for the
        heatmap view (the origin report's Figure 13). None in tiled mode, whose tiles have no single image."""
        if self.config.tiled:
            return None
        frames = np.asarray(frames)
        if len(frames) == 0:
            return np.zeros((0, self.config.input_size, self.config.input_size, 3), dtype=np.uint8)
        with torch.inference_mode():
            chunk = to_model_frames(frames, self.config, self.device)
            indices = torch.arange(len(chunk), device=self.device)
            inputs = model_input(chunk, indices, torch.zeros_like(indices), self.config.sequence_length)
            newest = self.model(inputs)[:, -3:].float().clamp(0, 1)  # (n, 3, S, S): the frame itself
            return newest.mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()

    def save(self, path: Path) -> None:
        """One file with the weights, config, threshold and normalisation (detection.detector_file)."""
        save_detector(
            path,
            kind=self.kind,
            state=self.model.state_dict(),
            config=self.config.to_dict(),
            threshold=self.threshold,
            normalisation=self.normalisation,
            extra=self.extra,
        )


def load_from_payload(payload: DetectorPayload) -> CAEDetector:
    """Rebuild a CAEDetector from a detector file's contents (called by detection.detector_file)."""
    config = CAEConfig.from_dict(payload.config)
    model = build_model(config)
    model.load_state_dict(payload.state)
    detector = CAEDetector(model, config, payload.threshold, payload.normalisation, extra=payload.extra)
    return detector.to(None)
