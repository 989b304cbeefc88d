"""The trained CHANGE detector: today's flight compared frame by frame with the reference flights.

Per frame of today: candidate reference frames from different flights (timeline.match_by_pose with
telemetry, else timeline.match_by_descriptors); each aligned with align.align_pair (at `align_width`) and
compared (comparator.py, compare.py); the distances divided by the normal variation at that place; the minimum over
candidates; the frame score is the maximum of the smoothed map. Then persistence: a change counts where the
previous or the next compared frame, moved into this view by today's own motion, sees it at the same place on
the ground (`ground_radius`; sun-glint sparkle flickers from one sample to the next), or, in files before it, a
grey-scale opening of the scores over `persistence` consecutive frames. A frame with no reference nearby has
status 1 ("no reference") and score 0; one whose candidates all failed to align has status 2 and score 0: both
are reported in `extras`, never raised as alarms.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import torch
from scipy.ndimage import grey_opening

from detection.cae.anomaly_map import heatmap_shape, quantise
from detection.change import compare
from detection.change.comparator import (  # noqa: F401  (STATUS_*, FrameResult, Comparator: imported from here too)
    GRID_WIDTH,
    STATUS_ALIGNMENT_FAILED,
    STATUS_NO_REFERENCE,
    STATUS_OK,
    Comparator,
    FrameResult,
)
from detection.change.config import ChangeConfig
from detection.change.features import analysis_frame
from detection.change.index import ReferenceIndex
from detection.change.looks import Looks
from detection.detector_file import DetectorPayload, save_detector
from detection.device import pick_device
from detection.events import merge_events
from detection.types import DetectedEvent, ProgressFn, VideoScores, no_progress


def poses_in_metres(poses, times: np.ndarray, origin: tuple[float, float]) -> np.ndarray:
    """(N, 3) [east, north, altitude] metres at `times` from a PoseTable (altitude: rel_alt, else abs_alt)."""
    from detection.telemetry import GeoOrigin

    at = poses.at(np.asarray(times, dtype=np.float64))
    east, north = GeoOrigin(*origin).to_metres(at.latitude, at.longitude)
    altitude = np.where(np.isfinite(at.rel_alt), at.rel_alt, at.abs_alt)
    return np.stack([east, north, altitude], axis=1)


def persistence_filter(scores: np.ndarray, length: int) -> np.ndarray:
    """A grey-scale opening over `length` consecutive frames: each frame keeps the highest level that some run of
    `length` frames including it all reach."""
    if length <= 1 or len(scores) < length:
        return np.asarray(scores, dtype=np.float32)
    return grey_opening(np.asarray(scores, dtype=np.float32), size=length, mode="nearest")


class ChangeDetector:
    """A trained CHANGE detector; see the module docstring."""

    kind = "change"
    uses_telemetry = True

    def __init__(self, config: ChangeConfig, index: ReferenceIndex, threshold: float, *, extra: dict | None = None,
                 device: str | torch.device | None = None, looks: Looks | None = None):
        self.config = config
        self.index = index
        self.looks = looks
        self.threshold = float(threshold)
        self.extra = dict(extra or {})
        self.device = pick_device(device)  # where it runs is chosen at run time, never saved with it
        self._comparator: Comparator | None = None
        self._cache: dict[int, np.ndarray] = {}

    def to(self, device: str | torch.device | None) -> ChangeDetector:
        """Run the CNN on `device` (None: CUDA when present, else the CPU); returns self."""
        self.device = pick_device(device)
        self._comparator = None
        return self

    @property
    def comparator(self) -> Comparator:
        if self._comparator is None:
            self._comparator = Comparator(self.config, self.index.analysis_size, self.device, self.index, self.looks)
        return self._comparator

    def reference_frame(self, index: int) -> np.ndarray:
        if index not in self._cache:
            if len(self._cache) > 64:
                self._cache.pop(next(iter(self._cache)))
            self._cache[index] = self.index.frame(index)
        return self._cache[index]

    # -- matching -------------------------------------------------------------------------------------------
    def candidates(self, frames: np.ndarray, times: np.ndarray, poses=None, *, exclude_flight: int = -1,
                   causal: bool = False):
        """(N, K) global reference indices (-1 none) and (N,) no-reference flags for today's frames: the best
        `candidates` reference flights' frames, then the reviewed flights' frames at the same place (index.py).
        `causal`: `frames` are a live flight so far (timeline.match_by_descriptors)."""
        matches = self.place_matches(frames, times, poses, exclude_flight=exclude_flight, causal=causal)
        reviewed = self.index.reviewed_candidates(matches, exclude_flight=exclude_flight)
        chosen = np.concatenate([matches[:, : self.config.candidates], reviewed], axis=1)
        return chosen, (chosen < 0).all(axis=1)

    def place_matches(self, frames: np.ndarray, times: np.ndarray, poses=None, *, exclude_flight: int = -1,
                      causal: bool = False):
        """(N, F) global indices of the frame of each reference flight that shows today's frames' places, the
        most similar first (-1 none)."""
        from detection.change import timeline

        flights = [f for f in range(self.index.reference_flights) if f != exclude_flight]
        members = [self.index.flight_indices(f) for f in flights]
        members = [m for m in members if len(m)]
        if not members:
            return np.full((len(frames), 1), -1)
        k = len(members)
        if poses is not None and self.index.has_poses and self.index.origin is not None:
            today = poses if isinstance(poses, np.ndarray) else poses_in_metres(poses, times, self.index.origin)
            altitude = np.nanmedian(np.abs(today[:, 2])) if np.isfinite(today[:, 2]).any() else 100.0
            matches = timeline.match_by_pose(
                today, [self.index.poses[m] for m in members], k=k,
                max_distance=float(self.config.max_distance_altitudes * max(altitude, 1.0)),
            )
        else:
            descriptors = timeline.frame_descriptors(np.asarray(frames))
            matches = timeline.match_by_descriptors(descriptors, [self.index.descriptors[m] for m in members], k=k,
                                                    causal=causal)
        concatenated = np.concatenate(members)
        local = np.asarray(matches.reference)
        return np.where(local >= 0, concatenated[np.clip(local, 0, None)], -1)

    # -- scoring --------------------------------------------------------------------------------------------
    def analysis_frames(self, frames: np.ndarray, index: int) -> np.ndarray:
        frame = np.asarray(frames[index])
        w, h = self.index.analysis_size
        if abs(frame.shape[1] / frame.shape[0] - w / h) > 0.02 * (w / h):
            raise ValueError(f"frames of {frame.shape[1]}x{frame.shape[0]} do not have the aspect of the reference "
                             f"flights ({w}x{h}); this detector was trained on another camera or crop")
        return analysis_frame(frame, (w, h))

    def analyse(self, frames: np.ndarray, times: np.ndarray, poses=None, progress: ProgressFn = no_progress,
                *, normalise: bool = True, exclude_flight: int = -1,
                frame_indices: np.ndarray | None = None) -> list[FrameResult]:
        """One FrameResult per frame (normalised maps when `normalise`, raw distances otherwise).
        `frame_indices`: today's frames are these reference frames of the index (leave-one-out)."""
        chosen, no_reference = self.candidates(frames, times, poses, exclude_flight=exclude_flight)
        results, states = [], []
        previous = None  # the last frame compared and its aligned candidates (`compare`)
        for i in range(len(frames)):
            if no_reference[i]:
                results.append(FrameResult(STATUS_NO_REFERENCE, None, None, 0.0, -1, 0))
                previous = None
            else:
                today = self.analysis_frames(frames, i)
                references = [(int(j), self.reference_frame(int(j))) for j in chosen[i] if j >= 0]
                today_index = -1 if frame_indices is None else int(frame_indices[i])
                if normalise:
                    result, previous = self.compare(today, references, previous, today_index=today_index)
                else:  # the leave-one-out pass (train.py): each frame as its own candidates align
                    result = self.comparator.compare_frame(today, references, today_index=today_index)
                results.append(result)
            states.append(previous)
            progress((i + 1) / max(1, len(frames)), f"compared {i + 1}/{len(frames)} frames")
        if normalise:
            self._carry_back(frames, chosen, results, states, frame_indices)
        return results

    def _carry_back(self, frames, chosen, results: list[FrameResult], states: list, frame_indices) -> None:
        """A whole flight is at hand in the batch: a frame that failed to align even through today's previous
        frame (the flight's first frames over open water, or today's motion lost for a moment) is compared
        through today's *next* compared frame, going backwards, as `compare` goes forwards. The live path,
        which cannot wait for the next frame, leaves such a frame "alignment failed"."""
        after = None
        for i in reversed(range(len(results))):
            if results[i].status != STATUS_ALIGNMENT_FAILED:
                after = states[i] if results[i].status == STATUS_OK else None
                continue
            if after is None:
                continue
            today = self.analysis_frames(frames, i)
            references = [(int(j), self.reference_frame(int(j))) for j in chosen[i] if j >= 0]
            today_index = -1 if frame_indices is None else int(frame_indices[i])
            results[i], after = self.compare(today, references, after, today_index=today_index)

    def compare(self, today: np.ndarray, references: list[tuple[int, np.ndarray]], previous=None, *,
                today_index: int = -1):
        """(analysis frame `today` compared with its candidates and normalised (a FrameResult), what the next
        frame's `previous` is). When no candidate of another day aligns with today's frame (open water, a turned
        heading) but today's previous frame was compared, the previous frame's candidates are carried over
        through today's own motion between the two (`Comparator.carried`), so the frame is compared, not lost;
        a frame whose own motion fails too stays "alignment failed". `previous`: None, or the `previous` the
        frame before returned (the batch and the live path alike). `today_index`: as `Comparator.compare_frame`'s."""
        comparator, index = self.comparator, self.index
        aligned = comparator.align(today, references, today_index)
        if previous is not None and all(comparator.is_reviewed(j) for j, _, _ in aligned):
            aligned = comparator.carried(today, *previous) + aligned  # (what is left of `aligned`: reviewed frames)
        result = comparator.compare_frame(today, references, residuals=index.residuals,
                                          scales=index.scales.astype(np.float64), today_index=today_index,
                                          aligned=aligned)
        regular = [a for a in aligned if not comparator.is_reviewed(a[0])]
        return result, ((today, regular) if result.status == STATUS_OK and regular else None)

    def score_frames(self, frames: np.ndarray, times: np.ndarray, progress: ProgressFn = no_progress, *,
                     poses=None) -> VideoScores:
        """Frame scores, heatmaps, events and per-frame reference facts of one video's frames at `times`;
        `poses` is the video's PoseTable (detection.telemetry) or None (then visual matching)."""
        times = np.asarray(times, dtype=np.float64)
        if len(times) != len(frames):
            raise ValueError(f"{len(frames)} frames but {len(times)} times")
        shape = self.heatmap_shape
        if len(frames) == 0:
            return VideoScores(times=times, frame_scores=np.zeros(0, np.float32), threshold=self.threshold,
                               heatmaps=np.zeros((0, *shape), np.uint8), extras=self._extras([]))
        with torch.inference_mode():
            results = self.analyse(frames, times, poses, progress)
        raw = np.array([r.score for r in results], dtype=np.float32)
        if self.config.on_ground:
            scores = self.ground_scores(frames, results)
        else:
            scores = persistence_filter(raw, self.config.persistence)
        maps = np.zeros((len(results), *shape), np.float32)
        for i, result in enumerate(results):
            if result.map is not None:
                maps[i] = self.heatmap(result.map)
        heatmaps, scale = quantise(maps)
        extras = self._extras(results)
        compared = np.where(extras["frame_status"] == STATUS_OK, scores, -np.inf)  # never an alarm otherwise
        events = merge_events(times, compared, self.threshold, heatmaps=heatmaps, max_gap=self.config.event_max_gap,
                              min_duration=self.config.event_min_duration)
        extras["raw_scores"] = raw
        events = tuple(self._describe(event, times, results) for event in events)
        return VideoScores(times=times, frame_scores=scores, threshold=self.threshold, events=events,
                           heatmaps=heatmaps, heatmap_scale=scale, extras=extras)

    def motion(self, today: np.ndarray, before: np.ndarray) -> np.ndarray | None:
        """Today's own motion from analysis frame `before` to `today` (another of today's frames), as a 3x3
        homography on the comparison grid, or None when the two do not align."""
        comparator = self.comparator
        homography = comparator.homography(today, before)
        return None if homography is None else compare.resize_homography(homography, comparator.size,
                                                                          comparator.grid.cells)

    def confirmed(self, result: FrameResult, other: FrameResult, other_to_result: np.ndarray | None) -> float:
        """How high `result`'s change is where compared frame `other` sees it too, at the same place on the ground
        (`compare.confirmed_on_ground`); without today's motion between the two, the lower of the two scores."""
        if other_to_result is None:
            return float(min(result.score, other.score))
        return compare.confirmed_on_ground(result.map, other.map, other_to_result, self.config.ground_radius)

    def ground_scores(self, frames: np.ndarray, results: list[FrameResult]) -> np.ndarray:
        """(N,) float32 scores with persistence on the ground: each compared frame's change as confirmed by the
        previous or the next compared frame (the higher); a frame with neither scores 0."""
        compared = [r.status == STATUS_OK and r.map is not None for r in results]
        motion: list[np.ndarray | None] = [None] * len(results)  # frame i-1 -> frame i
        before = None
        for i in range(len(results)):
            today = self.analysis_frames(frames, i) if compared[i] else None
            if today is not None and before is not None:
                motion[i] = self.motion(today, before)
            before = today
        scores = np.zeros(len(results), np.float32)
        for i in np.flatnonzero(compared):
            if i > 0 and compared[i - 1]:
                scores[i] = max(scores[i], self.confirmed(results[i], results[i - 1], motion[i]))
            if i + 1 < len(results) and compared[i + 1]:
                back = None if motion[i + 1] is None else np.linalg.inv(motion[i + 1])
                scores[i] = max(scores[i], self.confirmed(results[i], results[i + 1], back))
        return scores

    @property
    def heatmap_shape(self) -> tuple[int, int]:
        """(h, w) of the stored heatmaps."""
        w, h = self.index.analysis_size
        return heatmap_shape(h, w, self.config.heatmap_pixels)

    def heatmap(self, change_map: np.ndarray) -> np.ndarray:
        """A frame's change map (FrameResult.map) at the stored heatmap size (area interpolation): what events
        are placed from (detection.events.heatmap_peak), in a scored video and live alike."""
        shape = self.heatmap_shape
        return cv2.resize(change_map, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)

    def events_at(self, scores: VideoScores, threshold: float) -> tuple[DetectedEvent, ...]:
        """The events in stored `scores` (detection.score_store, with their reference extras) at `threshold`:
        how a new threshold re-derives a video's events without comparing its frames again. Spans and peaks are
        `score_frames`' own; the change is voted with the stored (persistence-filtered) scores, and is left
        empty for score files written before the per-frame change was stored."""
        extras = scores.extras
        status = extras.get("frame_status")
        compared = scores.frame_scores if status is None else np.where(status == STATUS_OK, scores.frame_scores, -np.inf)
        events = merge_events(scores.times, compared, threshold, heatmaps=scores.heatmaps,
                              max_gap=self.config.event_max_gap, min_duration=self.config.event_min_duration)
        return tuple(_stored_description(event, scores) for event in events)

    def _extras(self, results: list[FrameResult]) -> dict:
        reference = np.array([r.reference for r in results], dtype=np.int64)
        known = reference >= 0
        return {
            "kind": self.kind,
            "frame_status": np.array([r.status for r in results], dtype=np.uint8),
            "reference_ids": list(self.index.reference_ids),
            "reference_index": np.where(known, self.index.flight[np.clip(reference, 0, None)], -1)
            if len(results) else np.zeros(0, np.int64),
            "reference_times": np.where(known, self.index.times[np.clip(reference, 0, None)], np.nan)
            if len(results) else np.zeros(0),
            "reference_frame": reference,
            "change": np.array([r.change for r in results], dtype=np.int8),
        }

    def _describe(self, event, times: np.ndarray, results: list[FrameResult]):
        """The event with its change (new or vanished: the score-weighted vote of its frames, so one frame where
        the object is half out of view does not decide) and the reference compared at its peak."""
        peak = int(np.argmin(np.abs(times - event.peak_time)))
        result = results[peak]
        if result.reference < 0:
            return event
        inside = np.flatnonzero((times >= event.start - 1e-6) & (times <= event.end + 1e-6))
        vote = sum(results[i].change * results[i].score for i in inside) if len(inside) else result.change
        return replace(
            event,
            change="new" if vote > 0 else "vanished" if vote < 0 else {1: "new", -1: "vanished"}.get(result.change, ""),
            reference_id=self.index.reference_ids[int(self.index.flight[result.reference])],
            reference_time=float(self.index.times[result.reference]),
        )

    def comparison_images(self, frames: np.ndarray, scores: VideoScores, *, limit: int = 20):
        """(indices (K,), today (K, h, w, 3), reference warped into today's view (K, h, w, 3)) uint8 at a display
        size at most `display_width` wide, for the event peaks (and their reference frame)."""
        times = np.asarray(scores.times)
        chosen = scores.extras.get("reference_frame")
        peaks = sorted({int(np.argmin(np.abs(times - e.peak_time))) for e in scores.events})[:limit]
        w, h = self.index.analysis_size
        display_w = min(self.config.display_width, w)
        display = (display_w, max(1, round(h * display_w / w)))
        indices, today_images, reference_images = [], [], []
        for i in peaks:
            if chosen is None or chosen[i] < 0:
                continue
            today = self.analysis_frames(frames, i)
            reference = self.reference_frame(int(chosen[i]))
            homography = self.comparator.homography(today, reference)
            if homography is None:
                continue
            warped = compare.warp(reference, homography, (w, h), border=cv2.BORDER_CONSTANT)
            indices.append(i)
            today_images.append(analysis_frame(today, display))
            reference_images.append(analysis_frame(warped, display))
        shape = (0, display[1], display[0], 3)
        return (np.array(indices, dtype=np.int64),
                np.stack(today_images) if today_images else np.zeros(shape, np.uint8),
                np.stack(reference_images) if reference_images else np.zeros(shape, np.uint8))

    def with_comparisons(self, frames: np.ndarray, scores: VideoScores) -> VideoScores:
        """`scores` with extras["comparisons"] filled (what the review page's compare view shows)."""
        extras = dict(scores.extras)
        extras["comparisons"] = self.comparison_images(frames, scores)
        return replace(scores, extras=extras)

    def save(self, path: Path) -> None:
        state, index_extra = self.index.to_payload()
        extra = {**self.extra, "index": index_extra}
        if self.looks is not None:
            looks_state, extra["looks"] = self.looks.to_payload()
            state.update(looks_state)
        save_detector(path, kind=self.kind, state=state, config=self.config.to_dict(), threshold=self.threshold,
                      extra=extra)


def _stored_description(event: DetectedEvent, scores: VideoScores) -> DetectedEvent:
    """`event` with the reference compared at its peak and its change, read from stored per-frame extras."""
    times, extras = np.asarray(scores.times), scores.extras
    peak = int(np.argmin(np.abs(times - event.peak_time)))
    flights = extras.get("reference_index")
    if flights is None or flights[peak] < 0:
        return event
    inside = np.flatnonzero((times >= event.start - 1e-6) & (times <= event.end + 1e-6))
    change = extras.get("change")
    vote = float(np.sum(change[inside] * np.asarray(scores.frame_scores)[inside])) if change is not None else 0.0
    return replace(event, change="new" if vote > 0 else "vanished" if vote < 0 else "",
                   reference_id=extras["reference_ids"][int(flights[peak])],
                   reference_time=float(extras["reference_times"][peak]))


def load_from_payload(payload: DetectorPayload) -> ChangeDetector:
    """Rebuild a ChangeDetector from a detector file's contents (called by detection.detector_file)."""
    from detection.errors import DetectorFileError

    config = ChangeConfig.from_dict(payload.config)
    if "index" not in payload.extra:
        raise DetectorFileError("the CHANGE detector file has no reference index; retrain it")
    index = ReferenceIndex.from_payload(payload.state, payload.extra["index"])
    looks = None
    if "looks" in payload.extra:
        channels = index.cnn_codes.shape[1] if index.has_cnn_maps else None
        looks = Looks.from_payload(payload.state, payload.extra["looks"], channels)
    extra = {k: v for k, v in payload.extra.items() if k not in ("index", "looks")}
    return ChangeDetector(config, index, payload.threshold, extra=extra, looks=looks)
