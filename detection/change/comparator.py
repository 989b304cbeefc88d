"""Aligning and comparing one frame of today with its candidate reference frames (detection.change.detector).

`Comparator.compare_frame` aligns each candidate (align.py), measures the colour and CNN distances on the
comparison grid (compare.py), divides them by the normal variation at each place, takes the minimum over
candidates, lets the looks of dismissed changes explain what they can (looks.py), and gives the frame's
change map, score and peak (a FrameResult).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from detection.change import compare
from detection.change.align import AlignSettings, Keypoints, align_with_keypoints, frame_keypoints
from detection.change.config import ChangeConfig
from detection.change.features import CNN_STRIDE, CNNFeatures, Grid, analysis_frame, colour_detail, grid_for
from detection.change.index import ReferenceIndex
from detection.change.looks import MAX_EXPLAINED, Looks

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
    features: np.ndarray | None = None  # (gh, gw, C) today's CNN map on the grid, when asked (`keep_features`)


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
        self.cnn = CNNFeatures(config.cnn_block, device=device, input_scale=self.cnn_scale) if config.use_cnn else None
        align_w = min(config.align_width, self.size[0])
        self.align_size = (align_w, max(1, round(self.size[1] * align_w / self.size[0])))
        self.align_settings = AlignSettings(ecc_width=config.ecc_width)

    @property
    def cnn_scale(self) -> float:
        """The CNN's input scale (features.CNNFeatures): `cnn_scale`, limited so that the CNN never sees the
        analysis frame enlarged more than `cnn_max_enlargement` times."""
        scale = self.config.cnn_scale
        if self.config.cnn_max_enlargement > 0:
            scale = min(scale, self.config.cnn_max_enlargement * self.size[0] / (self.grid.cells[0] * CNN_STRIDE))
        return scale

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
        keep_features: bool = False,
        aligned: list | None = None,
    ) -> FrameResult:
        """Compare analysis frame `today` with candidates [(global index, analysis frame)]. Without `scales`
        only `raw` is filled (the leave-one-out pass); with them the normalised map, score and peak too.
        `today_index` >= 0: today's frame is that reference frame itself (its stored keypoints and map are used).
        `keep_features`: the result also holds today's CNN map on the grid (what training learns looks from).
        `aligned`: the candidates already aligned ([(global index, analysis frame, homography)], `align`'s or
        `carried`'s), instead of aligning `references`."""
        if not references:
            return FrameResult(STATUS_NO_REFERENCE, None, None, 0.0, -1, 0)
        aligned = self.align(today, references, today_index) if aligned is None else aligned
        regular = [k for k, (global_index, _, _) in enumerate(aligned) if not self.is_reviewed(global_index)]
        if not regular:  # none, or reviewed frames alone (which only explain what a reference compares, below)
            return FrameResult(STATUS_ALIGNMENT_FAILED, None, None, 0.0, -1, 0)
        pairs, today_features = self._pairs(today, aligned, today_index)
        raw = np.stack([p[0] for p in pairs])
        with np.errstate(all="ignore"):
            raw_min = np.fmin.reduce(raw, axis=0)
        if scales is None:
            return FrameResult(STATUS_OK, raw_min, None, 0.0, aligned[0][0], 0)
        combined, best = self._combined(pairs, aligned, residuals, scales, list(range(len(aligned))))
        # A reviewed flight's frame (index.py) shows a dismissed change at its place: it lowers the map where it
        # explains that change, and does nothing else. The cells compared are the ones the reference flights
        # cover (a reviewed frame is one sample, with no normal variation learned where no reference reaches),
        # and the frame's scale (the robust median and MAD) is the one the reference flights give, so a
        # candidate that matches the rest of the frame better never raises another change.
        stats = None
        if len(regular) < len(aligned):
            references_only = self._combined(pairs, aligned, residuals, scales, regular)[0]
            combined[~np.isfinite(references_only)] = np.nan
            stats = self._frame_map(references_only)[1]
        smoothed, stats = self._frame_map(combined, stats)
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
        return FrameResult(STATUS_OK, raw_min, smoothed, float(smoothed[y, x]), aligned[winner][0], change, (x, y),
                           today_features if keep_features else None)

    def is_reviewed(self, global_index: int) -> bool:
        """Whether reference frame `global_index` is a reviewed flight's (a dismissed frame), not a reference's."""
        index = self.index
        return index is not None and 0 <= global_index < len(index) and index.flight[global_index] >= index.reference_flights

    def _combined(self, pairs: list, aligned: list, residuals: np.ndarray | None, scales: np.ndarray,
                  chosen: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """compare.combine of the `chosen` candidates' distances, each divided by the normal variation at each
        place (their leave-one-out residuals warped into today's view, pooled over the chosen ones)."""
        cells = self.grid.cells
        expected: list[np.ndarray | None] = [None] * len(chosen)
        if residuals is not None and self.config.normal_variation:
            for n, k in enumerate(chosen):
                stored = residuals[aligned[k][0]].astype(np.float32)  # (2, gh, gw) in the reference's view
                expected[n] = np.stack([compare.warp(b, pairs[k][1], cells, border=cv2.BORDER_REPLICATE)
                                        for b in stored])
            if self.config.variation_pooling == "max":
                expected = [np.fmax.reduce(np.stack(expected), axis=0)] * len(chosen)
        normalised = [compare.normalise(pairs[k][0], e, scales) for k, e in zip(chosen, expected)]
        return compare.combine(normalised, (self.config.use_colour, self.config.use_cnn))

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

    def carried(self, today: np.ndarray, before: np.ndarray, aligned: list) -> list:
        """The candidates `aligned` to today's previous compared frame `before`, aligned to `today` through
        today's own motion between the two (the same day, light and heading, so the pair aligns where a
        reference of another day does not: open water, a turned heading); a candidate that would cover less of
        `today` than an alignment may (`AlignSettings.min_overlap`) is dropped. [] when the motion fails."""
        if not aligned or not self.config.use_alignment:
            return []
        motion = self.homography(today, before)
        if motion is None:
            return []
        cells = self.grid.cells
        carried = []
        for global_index, reference, homography in aligned:
            composed = motion @ homography
            composed = composed / composed[2, 2]
            to_grid = compare.resize_homography(composed, self.size, cells)
            if compare.coverage(cells, to_grid, cells, erode=0).mean() >= self.align_settings.min_overlap:
                carried.append((global_index, reference, composed))
        return carried

    def pair_maps(self, today: np.ndarray, aligned: list, today_index: int = -1) -> list[tuple[np.ndarray, np.ndarray]]:
        """[(distances (2, gh, gw), reference -> today's grid homography)] for each aligned candidate
        [(global index, analysis frame, homography)]. The colour detail of both frames is measured on the part
        they share (features.colour_detail's `support`), at the detail resolution."""
        return self._pairs(today, aligned, today_index)[0]

    def _pairs(self, today: np.ndarray, aligned: list, today_index: int = -1):
        """(pair_maps' list, today's (gh, gw, C) CNN map on the grid or None)."""
        grid = self.grid
        cells, detail_cells = grid.cells, grid.detail_cells
        # the colour branch is measured only when it is used: off (the default), its distances stay NaN, as
        # the residuals and scales then store them (train.residual_map, train.branch_scales)
        today_small = analysis_frame(today, detail_cells) if self.config.use_colour else None
        features = self._features(today, today_index, aligned)
        pairs = []
        for k, (_, reference, h) in enumerate(aligned):
            today_detail = ref_detail = None
            if today_small is not None:
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
