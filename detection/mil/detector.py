"""The trained MIL detector: clip features -> bag of segments -> head -> segment scores -> frame scores, events.

Segment scores are expanded to the sampled frames: a frame gets the (highest) score of the segment(s) its
clip belongs to, so frame-level metrics, thresholds, events and the web app's timeline work as for the CAE.
A video is flagged when any frame reaches the threshold, i.e. when its highest segment score does.

Saved as one detector file (detection.detector_file, kind "mil"): the head's weights, the MILConfig, the
feature width, the extractor's description (name, version, options) and, for the CAE extractor, its
weights under "extractor." keys, so the file alone rebuilds the detector. Where it runs is chosen when it
is loaded (CUDA when present), never read from the file.

`score_video` is the scoring without a threshold: training scores the validation videos with it to choose
the threshold, and the detector is then built once, with that threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from detection.detector_file import DetectorPayload, save_detector
from detection.device import pick_device
from detection.errors import DetectorFileError
from detection.events import merge_events
from detection.features import build_extractor
from detection.features.cache import FeatureCache
from detection.features.clips import FeatureExtractor, clip_windows, frame_clip_index
from detection.json_values import plain_json
from detection.mil.bags import clip_scores_from_segments, segment_bounds, segment_features
from detection.mil.config import MILConfig
from detection.mil.model import MILHead, build_head
from detection.types import DetectedEvent, ProgressFn, VideoScores, no_progress


def feature_cache_for(config: MILConfig) -> FeatureCache | None:
    """The feature cache a config asks for: None when feature_cache is 'none', else that root or the default."""
    if config.feature_cache == "none":
        return None
    return FeatureCache(config.feature_cache)


def clip_features_of(
    extractor: FeatureExtractor,
    frames: np.ndarray,
    times: np.ndarray,
    cache: FeatureCache | None,
    progress: ProgressFn = no_progress,
) -> np.ndarray:
    """(C, D) clip features of one video, through the cache when there is one."""
    if len(frames) == 0:
        raise ValueError("cannot score a video with no sampled frames")
    if cache is None:
        return extractor.clip_features(frames, progress)
    return cache.clip_features(extractor, frames, times, progress)


@dataclass(frozen=True)
class HeadScores:
    """One video through the extractor and the head, before any threshold."""

    segments: np.ndarray  # (S,) float32 segment scores in 0..1
    frames: np.ndarray  # (N,) float32: each sampled frame gets its clip's (highest) segment score
    clip_frames: np.ndarray  # (C, 2) [first, end) frame indices of each clip


@torch.inference_mode()
def head_scores(head: MILHead, bags: np.ndarray) -> np.ndarray:
    """(B, S, D) segment features -> (B, S) float32 scores in 0..1, on the head's device."""
    device = next(head.parameters()).device
    return head(torch.from_numpy(np.asarray(bags, dtype=np.float32)).to(device)).cpu().numpy()


def score_video(
    head: MILHead,
    extractor: FeatureExtractor,
    config: MILConfig,
    frames: np.ndarray,
    times: np.ndarray,
    cache: FeatureCache | None,
    progress: ProgressFn = no_progress,
) -> HeadScores:
    """Scores of one video's (N, H, W, 3) uint8 frames at `times` (N,): clip features -> bag -> head."""
    clips = clip_features_of(extractor, frames, times, cache, progress)  # (C, D)
    bag = segment_features(clips, config.segments)  # (S, D)
    scores = head_scores(head, bag[None])[0]  # (S,)
    clip_frames = clip_windows(len(frames), extractor.clip_len)  # (C, 2)
    clip_scores = clip_scores_from_segments(scores, len(clip_frames))  # (C,)
    frame_scores = clip_scores[frame_clip_index(len(frames), extractor.clip_len)]  # (N,)
    return HeadScores(scores.astype(np.float32), frame_scores.astype(np.float32), clip_frames)


class MILDetector:
    """A MIL head over an extractor's features. `score_frames` takes (N, H, W, 3) uint8 RGB at `times` (N,)."""

    kind = "mil"

    def __init__(
        self,
        *,
        config: MILConfig,
        head: MILHead,
        extractor: FeatureExtractor,
        in_features: int,
        threshold: float,
        validation: dict | None = None,
    ):
        self.config = config
        self.head = head.eval()
        self.extractor = extractor
        self.in_features = in_features
        self.threshold = float(threshold)
        self.validation = dict(validation or {})
        self.cache = feature_cache_for(config)

    def score_frames(
        self, frames: np.ndarray, times: np.ndarray, progress: ProgressFn = no_progress
    ) -> VideoScores:
        """Scores of one video's sampled frames: per segment, expanded per frame, with the events found."""
        times = np.asarray(times, dtype=np.float64)
        if len(times) != len(frames):
            raise ValueError(f"{len(frames)} frames but {len(times)} times")
        if len(frames) == 0:
            return VideoScores(times=times, frame_scores=np.zeros(0, np.float32), threshold=self.threshold)
        raw = score_video(self.head, self.extractor, self.config, frames, times, self.cache, progress)
        scored = VideoScores(
            times=times,
            frame_scores=raw.frames,
            threshold=self.threshold,
            segment_scores=raw.segments,
            segment_bounds=segment_bounds(raw.clip_frames, times, self.config.segments),
            extras={"video_score": float(raw.segments.max()), "extractor": self.extractor.describe()},
        )
        return replace(scored, events=self.events_at(scored, self.threshold))

    def events_at(self, scores: VideoScores, threshold: float) -> tuple[DetectedEvent, ...]:
        """The events `score_frames` finds in `scores` (fresh or loaded from the score store) at `threshold`."""
        return merge_events(scores.times, scores.frame_scores, threshold)

    def save(self, path: Path) -> None:
        """Write the detector file (see the module docstring)."""
        state = {f"head.{name}": tensor for name, tensor in self.head.state_dict().items()}
        extractor_state = getattr(self.extractor, "state_dict", None)
        if extractor_state is not None:
            state.update({f"extractor.{name}": tensor for name, tensor in extractor_state().items()})
        save_detector(
            path,
            kind=self.kind,
            state=state,
            config={**self.config.to_dict(), "in_features": self.in_features},
            threshold=self.threshold,
            extra={"extractor": self.extractor.describe(), "validation": plain_json(self.validation)},
        )


def load_from_payload(payload: DetectorPayload) -> MILDetector:
    """Rebuild a MILDetector from a detector file's contents (detection.detector_file's loader for 'mil')."""
    settings = dict(payload.config)
    in_features = int(settings.pop("in_features"))
    if "pooling" not in settings and "spatial_pooling" not in settings:
        settings["spatial_pooling"] = "avg"  # files saved before it was a setting pooled by the average
    config = MILConfig.from_dict(settings)
    described = dict(payload.extra.get("extractor", {}))
    name = described.get("name", config.extractor)
    head_state = {key[5:]: value for key, value in payload.state.items() if key.startswith("head.")}
    extractor_state = {
        key[10:]: value for key, value in payload.state.items() if key.startswith("extractor.")
    }
    device = pick_device(None)
    extractor = rebuild_extractor(described, extractor_state, device)
    if extractor.version != described.get("version", extractor.version):
        raise DetectorFileError(
            f"this detector was trained on {name} features version {described.get('version')}, but this machine "
            f"builds version {extractor.version}; retrain the detector here"
        )
    head = build_head(in_features=in_features, config=config)
    head.load_state_dict(head_state)
    head.to(device)
    return MILDetector(
        config=config,
        head=head,
        extractor=extractor,
        in_features=in_features,
        threshold=payload.threshold,
        validation=payload.extra.get("validation", {}),
    )


def rebuild_extractor(described: dict, state: dict, device: torch.device) -> FeatureExtractor:
    """The extractor a saved description names, with its saved weights when it carries its own (CAE)."""
    options = {key: value for key, value in described.items() if key not in ("name", "version")}
    options["device"] = device
    if state:
        options["state"] = state
    return build_extractor(described["name"], **options)
