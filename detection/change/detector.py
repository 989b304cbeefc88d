"""The trained CHANGE detector: today's flight compared frame by frame with the reference flights.

Per frame of today: candidate reference frames from different flights (timeline.match_by_pose with
telemetry, else timeline.match_by_descriptors); each aligned with align.align_pair (at `align_width`) and
compared (compare.py); the distances divided by the normal variation at that place; the minimum over
candidates; the frame score is the maximum of the smoothed map. Scores then pass a persistence filter (a
grey-scale opening over `persistence` consecutive frames: a one-frame spike is dropped, a lasting change keeps
its height). A frame with no reference nearby has status 1 ("no reference") and score 0; one whose candidates
all failed to align has status 2 and score 0: both are reported in `extras`, never raised as alarms.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import torch
from scipy.ndimage import grey_opening

from detection.cae.anomaly_map import heatmap_shape, quantise
from detection.change import compare
from detection.change.align import AlignSettings, Keypoints, align_with_keypoints, frame_keypoints
from detection.change.config import ChangeConfig
from detection.change.features import CNNFeatures, Grid, analysis_frame, colour_detail, grid_for
from detection.change.index import ReferenceIndex
from detection.change.looks import MAX_EXPLAINED, Looks
from detection.detector_file import DetectorPayload, save_detector
from detection.device import pick_device
from detection.events import merge_events
from detection.types import DetectedEvent, ProgressFn, VideoScores, no_progress

STATUS_OK, STATUS_NO_REFERENCE, STATUS_ALIGNMENT_FAILED = 0, 1, 2
GRID_WIDTH = 160  # comparison cells across the frame (fewer when the frame has fewer pixels)


@dataclass(frozen=True)
class FrameResult:
    status: int
    raw: np.ndarray | None  # (2, gh, gw) min-over-candidates distances before normalisation (leave-one-out)
    map: np.ndarray | None  # (gh, gw) normalised change map, NaN-free
    score: float
    reference: int  # global reference frame index that explains the peak best, -1 none
    change: int  # +1 new, -1 vanished, 0 unknown
    peak: tuple[int, int] = (0, 0)  # (x, y) grid cell of the peak


def poses_in_metres(poses, times: np.ndarray, origin: tuple[float, float]) -> np.ndarray:
    """(N, 3) [east, north, altitude] metres at `times` from a PoseTable (altitude: rel_alt, else abs_alt)."""
    from detection.telemetry import GeoOrigin

    at = poses.at(np.asarray(times, dtype=np.float64))
    east, north = GeoOrigin(*origin).to_metres(at.latitude, at.longitude)
    altitude = np.where(np.isfinite(at.rel_alt), at.rel_alt, at.abs_alt)
    return np.stack([east, north, altitude], axis=1)


class Comparator:
    """Aligns and compares frames of today with reference frames of an index (or of frames being indexed).

    With an `index` that holds them, the reference frames' keypoints and CNN maps come from it; today's
    keypoints and CNN map are computed once per frame, whatever the number of candidates."""

    def __init__(self, config: ChangeConfig, analysis_size: tuple[int, int], device: torch.device,
                 index: ReferenceIndex | None = None, looks: Looks | None = None):
        self.config = config
        self.looks = looks if config.use_cnn else None  # what dismissed changes looked like (looks.py)
        self.size = tuple(analysis_size)
        self.index = index
        self.grid: Grid = grid_for(self.size[0], self.size[1], GRID_WIDTH)
        self.cnn = CNNFeatures(config.cnn_block, device=device, input_scale=config.cnn_scale) if config.use_cnn else None
        align_w = min(config.align_width, self.size[0])
        self.align_size = (align_w, max(1, round(self.size[1] * align_w / self.size[0])))
        self.align_settings = AlignSettings(ecc_width=config.ecc_width)

    def _small(self, frame: np.ndarray) -> np.ndarray:
        return analysis_frame(frame, self.align_size)

    # -- what a frame brings to every pair it is in -----------------------------------------------------------
    def keypoints(self, frame: np.ndarray) -> Keypoints:
        """An analysis frame's alignment keypoints (what the index stores per reference frame)."""
        return frame_keypoints(self._small(frame), settings=self.align_settings)

    def cnn_maps(self, frames: np.ndarray) -> np.ndarray:
        """(B, C, fh, fw) float32 CNN maps of analysis frames at the network's stride (what the index stores)."""
        return self.cnn.native(frames, self.grid).cpu().numpy()

    def _stored_keypoints(self, index: int) -> Keypoints | None:
        if self.index is None or index < 0 or not self.index.has_keypoints:
            return None
        keypoints = self.index.keypoints(index)
        return keypoints if tuple(keypoints.size) == self.align_size else None

    def _stored_map(self, index: int) -> np.ndarray | None:
        if self.cnn is None or self.index is None or index < 0 or not self.index.has_cnn_maps:
            return None
        return self.index.cnn_map(index)

    def _on_grid(self, native: np.ndarray) -> np.ndarray:
        """(fh, fw, C) native map -> (gh, gw, C) on the comparison grid (bilinear, pixel centres kept)."""
        cells = self.grid.cells
        if (native.shape[1], native.shape[0]) == cells:
            return native
        return cv2.resize(native, cells, interpolation=cv2.INTER_LINEAR).reshape(cells[1], cells[0], -1)

    def _warpable(self, homography: np.ndarray) -> bool:
        angle, scale = compare.turn_and_scale(homography)
        return (abs(angle) <= self.config.cnn_warp_max_angle and abs(scale - 1.0) <= self.config.cnn_warp_max_scale
                and self.config.cnn_warp_max_angle > 0)

    # -- alignment ----------------------------------------------------------------------------------------------
    def homography(self, today: np.ndarray, reference: np.ndarray, today_keypoints: Keypoints | None = None,
                   reference_keypoints: Keypoints | None = None) -> np.ndarray | None:
        """Reference -> today homography at the analysis size, or None when alignment failed."""
        if not self.config.use_alignment:
            return np.eye(3)
        result = align_with_keypoints(self._small(today), self._small(reference), today_keypoints,
                                      reference_keypoints, settings=self.align_settings)
        if not result.ok:
            return None
        return compare.resize_homography(result.homography, self.align_size, self.size)

    def compare_frame(
        self,
        today: np.ndarray,
        references: list[tuple[int, np.ndarray]],
        *,
        residuals: np.ndarray | None = None,
        scales: np.ndarray | None = None,
        today_index: int = -1,
    ) -> FrameResult:
        """Compare analysis frame `today` with candidates [(global index, analysis frame)]. Without `scales`
        only `raw` is filled (the leave-one-out pass); with them the normalised map, score and peak too.
        `today_index` >= 0: today's frame is that reference frame itself (its stored keypoints and map are used)."""
        if not references:
            return FrameResult(STATUS_NO_REFERENCE, None, None, 0.0, -1, 0)
        aligned = self.align(today, references, today_index)
        if not aligned:
            return FrameResult(STATUS_ALIGNMENT_FAILED, None, None, 0.0, -1, 0)
        pairs, today_features = self._pairs(today, aligned, today_index)
        branches = (self.config.use_colour, self.config.use_cnn)
        raw = np.stack([p[0] for p in pairs])
        with np.errstate(all="ignore"):
            raw_min = np.fmin.reduce(raw, axis=0)
        if scales is None:
            return FrameResult(STATUS_OK, raw_min, None, 0.0, aligned[0][0], 0)
        cells = self.grid.cells
        expected: list[np.ndarray | None] = [None] * len(aligned)
        if residuals is not None and self.config.normal_variation:
            for k, ((global_index, _, _), (_, to_grid)) in enumerate(zip(aligned, pairs)):
                stored = residuals[global_index].astype(np.float32)  # (2, gh, gw) in the reference's view
                expected[k] = np.stack([compare.warp(b, to_grid, cells, border=cv2.BORDER_REPLICATE)
                                        for b in stored])
            if self.config.variation_pooling == "max":
                expected = [np.fmax.reduce(np.stack(expected), axis=0)] * len(aligned)
        normalised = [compare.normalise(distances, e, scales) for (distances, _), e in zip(pairs, expected)]
        combined, best = compare.combine(normalised, branches)
        smoothed, stats = self._frame_map(combined)
        if self.looks is not None and today_features is not None:
            # the strongest change first, as an analyst would see it: explained when its look is a dismissed
            # one (looks.py), then the next strongest, and so on
            for _ in range(MAX_EXPLAINED):
                y, x = np.unravel_index(int(np.argmax(smoothed)), smoothed.shape)
                region = compare.change_region(smoothed, int(x), int(y), self.grid.cells)
                if smoothed[y, x] <= 0 or not self.looks.explains(today_features[region]):
                    break
                combined[region] = np.nan  # as if masked: nothing changed there
                # on the frame's own scale from before: explaining one change never raises another's score
                smoothed, _ = self._frame_map(combined, stats)
        y, x = np.unravel_index(int(np.argmax(smoothed)), smoothed.shape)
        winner = int(best[y, x])
        region = compare.change_region(smoothed, int(x), int(y), self.size)
        _, winner_frame, winner_h = aligned[winner]
        today_object = compare.object_likeness(today, region)
        reference_object = compare.object_likeness(compare.warp(winner_frame, winner_h, self.size), region)
        change = 1 if today_object >= reference_object else -1
        return FrameResult(STATUS_OK, raw_min, smoothed, float(smoothed[y, x]), aligned[winner][0], change, (x, y))

    def _frame_map(self, combined: np.ndarray, stats: tuple[float, float] | None = None):
        """(the frame's change map from the combined distances (NaN: not covered): smoothed, then robust z; the
        (median, MAD) it used, or None). `stats`: use these instead of the map's own (compare.robust_stats)."""
        smoothed = compare.smooth_map(combined, self.config.map_sigma)
        if self.config.frame_normalisation != "mad":
            return smoothed, None
        covered = np.isfinite(combined)
        stats = compare.robust_stats(smoothed, covered) if stats is None else stats
        return compare.robust_z(smoothed, covered, stats), stats

    def align(self, today: np.ndarray, references: list[tuple[int, np.ndarray]], today_index: int = -1) -> list:
        """[(global index, analysis frame, reference -> today homography)] for the candidates that aligned (today's
        keypoints computed once, or taken from the index when today is reference frame `today_index`)."""
        today_keypoints = self._stored_keypoints(today_index) if self.config.use_alignment else None
        if today_keypoints is None and self.config.use_alignment:
            today_keypoints = self.keypoints(today)
        aligned = []
        for global_index, reference in references:
            homography = self.homography(today, reference, today_keypoints, self._stored_keypoints(global_index))
            if homography is not None:
                aligned.append((global_index, reference, homography))
        return aligned

    def pair_maps(self, today: np.ndarray, aligned: list, today_index: int = -1) -> list[tuple[np.ndarray, np.ndarray]]:
        """[(distances (2, gh, gw), reference -> today's grid homography)] for each aligned candidate
        [(global index, analysis frame, homography)]. The colour detail of both frames is measured on the part
        they share (features.colour_detail's `support`), at the detail resolution."""
        return self._pairs(today, aligned, today_index)[0]

    def today_features(self, today: np.ndarray) -> np.ndarray | None:
        """(gh, gw, C) float32 CNN map of analysis frame `today` on the grid (None without the CNN branch)."""
        if self.cnn is None:
            return None
        return self._on_grid(np.moveaxis(self.cnn_maps(today[None]), 1, -1)[0])

    def _pairs(self, today: np.ndarray, aligned: list, today_index: int = -1):
        """(pair_maps' list, today's (gh, gw, C) CNN map on the grid or None)."""
        grid = self.grid
        cells, detail_cells = grid.cells, grid.detail_cells
        today_small = analysis_frame(today, detail_cells)
        features = self._features(today, today_index, aligned)
        pairs = []
        for k, (_, reference, h) in enumerate(aligned):
            to_detail = compare.resize_homography(h, self.size, detail_cells)
            ref_small = compare.warp(analysis_frame(reference, detail_cells), to_detail, detail_cells,
                                     border=cv2.BORDER_CONSTANT)
            support = compare.coverage(detail_cells, to_detail, detail_cells, erode=1)
            today_detail = colour_detail(today_small, grid, self.config.background_sigma, support)
            ref_detail = colour_detail(ref_small, grid, self.config.background_sigma, support)
            to_grid = compare.resize_homography(h, self.size, cells)
            covered = compare.coverage(cells, to_grid, cells, erode=1, frame_edge=self.config.frame_edge)
            distances = compare.pair_distances(
                today_detail, None if features is None else features[0],
                ref_detail, None if features is None else features[k + 1],
                covered, grid, self.config.neighbourhood,
            )
            pairs.append((distances, to_grid))
        return pairs, None if features is None else features[0]

    def _features(self, today: np.ndarray, today_index: int, aligned: list) -> list[np.ndarray] | None:
        """[today's, each candidate's in today's view] (gh, gw, C) float32 CNN maps on the grid, or None without
        the CNN branch. A candidate whose view is close to today's has its stored map warped; the others (and
        any without a stored map) are warped as frames first and go through the CNN with today's frame."""
        if self.cnn is None:
            return None
        cells = self.grid.cells
        today_native = self._stored_map(today_index)
        batch = [] if today_native is not None else [today]
        warped_maps: list[np.ndarray | None] = []
        for global_index, reference, h in aligned:
            stored = self._stored_map(global_index) if self._warpable(h) else None
            if stored is None:
                # where the warped reference does not reach: today's own pixels, or its reflection (old files)
                batch.append(compare.warp_over(reference, h, today) if self.config.reference_fill == "today"
                             else compare.warp(reference, h, self.size))
                warped_maps.append(None)
                continue
            native = (stored.shape[1], stored.shape[0])
            to_grid = compare.resize_matrix(self.size, cells) @ h @ np.linalg.inv(compare.resize_matrix(self.size, native))
            warped_maps.append(compare.warp(stored, to_grid, cells).reshape(cells[1], cells[0], -1))
        computed = list(np.moveaxis(self.cnn_maps(np.stack(batch)), 1, -1)) if batch else []
        if today_native is None:
            today_native = computed.pop(0)
        maps = [self._on_grid(today_native)]
        for warped in warped_maps:
            maps.append(warped if warped is not None else self._on_grid(computed.pop(0)))
        return maps


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
        results = []
        for i in range(len(frames)):
            if no_reference[i]:
                results.append(FrameResult(STATUS_NO_REFERENCE, None, None, 0.0, -1, 0))
            else:
                today = self.analysis_frames(frames, i)
                references = [(int(j), self.reference_frame(int(j))) for j in chosen[i] if j >= 0]
                results.append(self.comparator.compare_frame(
                    today, references, residuals=self.index.residuals if normalise else None,
                    scales=self.index.scales.astype(np.float64) if normalise else None,
                    today_index=-1 if frame_indices is None else int(frame_indices[i]),
                ))
            progress((i + 1) / max(1, len(frames)), f"compared {i + 1}/{len(frames)} frames")
        return results

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
