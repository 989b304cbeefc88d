"""The area mosaic: a flight's sampled frames registered to their neighbours, placed on the ground with the
flight's telemetry (`placement`), and blended into one georeferenced image.

Map coordinates are metres east and south of `origin` (the flight's first pose) when the flight has
telemetry; without it they are the first frame's pixels ("route coordinates": the mosaic is stitched but not
on the globe). Frames are blended with weights that fall to zero at their edges, so seams fade; moving water
averages out.

Two numbers say how good a mosaic is: the ground resolution (metres per mosaic pixel, about the frames' own),
and the drift: how far the registrations alone, chained from the first frame, carry a frame's centre from
where telemetry puts it (what a mosaic without telemetry would be off by), beside the residual of the fused
placement against telemetry.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from detection.change.align import AlignSettings, align_with_keypoints, frame_keypoints
from detection.mapping.camera import CameraModel, ground_offsets
from detection.mapping.placement import (
    PlacementSettings,
    apply_similarity,
    fit_similarity,
    grid_points,
    map_homography,
    place_frames,
    similarity_matrix,
)
from detection.telemetry import GeoOrigin, PoseTable
from detection.types import ProgressFn, no_progress

BACKGROUND = (28, 34, 40)  # RGB of the mosaic where no frame reached


@dataclass(frozen=True)
class MosaicSettings:
    # The mosaic's longest side in pixels; a larger area gets a coarser resolution. Blending holds 16 bytes a
    # pixel (float sums and weights): 4096 x 4096 is 268 MB at most.
    max_side: int = 4096
    resolution: float = 0.0  # metres (or route units) per mosaic pixel; 0: the frames' median
    align: AlignSettings = field(default_factory=AlignSettings)
    placement: PlacementSettings = field(default_factory=PlacementSettings)


@dataclass(frozen=True, eq=False)
class Mosaic:
    """`image` (H, W, 3) uint8 RGB and `coverage` (H, W) bool; pixel (col, row)'s top-left corner lies at map
    point `top_left` + (col, row) * `resolution`. `origin` is None for a mosaic in route coordinates.
    `placements` (N, 4) are the frames' similarities to map coordinates (NaN for a frame left out)."""

    image: np.ndarray
    coverage: np.ndarray
    origin: GeoOrigin | None
    resolution: float
    top_left: tuple[float, float]
    placements: np.ndarray
    stats: dict

    def frame_point_map(self, frame: int, x, y) -> np.ndarray:
        """Map coordinates (n, 2) where the mosaic put pixel (`x`, `y`) of sampled frame `frame`."""
        points = np.stack(np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float)), axis=-1).reshape(-1, 2)
        return apply_similarity(self.placements[frame], points)

    def map_latlon(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Latitude and longitude of (n, 2) map points (metres east, south); only for a georeferenced mosaic."""
        if self.origin is None:
            raise ValueError("this mosaic is in route coordinates (its flight had no telemetry): no latitudes")
        return self.origin.to_latlon(points[:, 0], -points[:, 1])


def build_mosaic(frames: np.ndarray, times: np.ndarray, poses: PoseTable | None, *,
                 camera: CameraModel | None = None, settings: MosaicSettings = MosaicSettings(),
                 progress: ProgressFn = no_progress) -> Mosaic:
    """The mosaic of N sampled frames (N, H, W, 3) uint8 RGB taken at `times` (seconds), placed with `poses`
    (the flight's telemetry; None: route coordinates). `camera` defaults to the default field of view at the
    frames' aspect."""
    started = time.perf_counter()
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be (N, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    if len(frames) < 2 or len(times) != len(frames):
        raise ValueError(f"a mosaic needs at least 2 frames with one time each, got {len(frames)} and {len(times)}")
    height, width = frames.shape[1:3]
    camera = camera or CameraModel.for_frame(width, height)
    pairs = register_neighbours(frames, settings.align, progress)
    origin, pose_points = _pose_points(poses, times, (width, height), camera, settings.placement.grid)
    progress(0.8, "placing the frames")
    placements, placed = place_frames((width, height), pairs, pose_points, settings=settings.placement)
    stats = _drift(placements, pairs, pose_points, (width, height), settings.placement.grid)
    progress(0.85, "blending the frames")
    image, coverage, resolution, top_left = blend(frames, placements, placed, settings)
    stats.update(frames=len(frames), placed=int(placed.sum()), registered_pairs=sum(p is not None for p in pairs),
                 failed_pairs=sum(p is None for p in pairs[1:]), resolution=resolution,
                 georeferenced=origin is not None, flight_seconds=float(times[-1] - times[0]),
                 build_seconds=time.perf_counter() - started)
    return Mosaic(image, coverage, origin, resolution, top_left, placements, stats)


def register_neighbours(frames: np.ndarray, settings: AlignSettings, progress: ProgressFn) -> list:
    """[None, H_1, ..., H_{N-1}]: H_i (3, 3) maps frame i's pixels to frame i-1's; None where registration
    failed. Keypoints are computed once per frame."""
    pairs: list = [None]
    previous = frame_keypoints(frames[0], settings=settings)
    for i in range(1, len(frames)):
        current = frame_keypoints(frames[i], settings=settings)
        alignment = align_with_keypoints(frames[i - 1], frames[i], previous, current, settings=settings)
        pairs.append(alignment.homography if alignment.ok else None)
        previous = current
        progress(0.8 * i / len(frames), f"registering frame {i + 1} of {len(frames)}")
    return pairs


def _pose_points(poses: PoseTable | None, times: np.ndarray, size: tuple[int, int], camera: CameraModel,
                 grid: int):
    """The map origin and, per frame, where the camera model puts its grid points (metres east, south)."""
    if poses is None or len(poses) == 0:
        return None, None
    at = poses.at(times)
    usable = np.isfinite(at.latitude) & np.isfinite(at.longitude)
    if not usable.any():
        return None, None
    first = int(np.argmax(usable))
    origin = GeoOrigin(float(at.latitude[first]), float(at.longitude[first]))
    east0, north0 = origin.to_metres(at.latitude, at.longitude)
    width, height = size
    points = grid_points(width, height, grid)
    per_point = [ground_offsets(at, (x + 0.5) / width, (y + 0.5) / height, camera) for x, y in points]
    east = np.stack([east0 + e for e, _ in per_point], axis=1)  # (N, grid * grid)
    north = np.stack([north0 + n for _, n in per_point], axis=1)
    return origin, [np.stack([east[i], -north[i]], axis=1) for i in range(len(times))]


def _drift(placements, pairs, pose_points, size, grid: int) -> dict:
    """How far the chained registrations alone and the fused placement lie from telemetry (frame centres)."""
    if pose_points is None:
        return {"drift_m": None, "drift_end_m": None, "residual_median_m": None, "residual_max_m": None}
    points = grid_points(*size, grid)
    centre = np.array([[(size[0] - 1) / 2, (size[1] - 1) / 2]])
    told = np.array([np.nanmean(p, axis=0) for p in pose_points])  # the grid's mean is the frame centre's
    fused = np.array([apply_similarity(s, centre)[0] for s in placements])
    chained, chain = [], placements[0]
    for i in range(len(placements)):
        if i and pairs[i] is not None:
            chain = fit_similarity(points, apply_similarity(chain, map_homography(pairs[i], points)))
        elif i:
            chain = placements[i]  # a break: the chain restarts where the fused placement is
        chained.append(apply_similarity(chain, centre)[0])
    chain_error = np.hypot(*(np.array(chained) - told).T)
    residual = np.hypot(*(fused - told).T)
    return {"drift_m": float(np.nanmax(chain_error)), "drift_end_m": float(chain_error[-1]),
            "residual_median_m": float(np.nanmedian(residual)), "residual_max_m": float(np.nanmax(residual))}


def blend(frames: np.ndarray, placements: np.ndarray, placed: np.ndarray, settings: MosaicSettings):
    """The placed frames warped onto one canvas and averaged with edge-fading weights: (image, coverage,
    resolution, top_left)."""
    height, width = frames.shape[1:3]
    corners = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], float)
    scales = np.hypot(placements[placed, 0], placements[placed, 1])
    resolution = settings.resolution or float(np.median(scales))
    ground = np.concatenate([apply_similarity(placements[i], corners) for i in np.nonzero(placed)[0]])
    low, high = ground.min(axis=0), ground.max(axis=0)
    resolution = max(resolution, float((high - low).max()) / (settings.max_side - 1))
    canvas_w, canvas_h = (np.ceil((high - low) / resolution).astype(int) + 1).tolist()
    total = np.zeros((canvas_h, canvas_w, 3), np.float32)
    weight_sum = np.zeros((canvas_h, canvas_w), np.float32)
    feather = _feather(width, height)
    for i in np.nonzero(placed)[0]:
        matrix = similarity_matrix(placements[i]) / resolution
        matrix[:, 2] -= low / resolution
        box = cv2.transform(corners[None], matrix)[0]
        x0, y0 = np.maximum(np.floor(box.min(axis=0)).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(box.max(axis=0)).astype(int) + 1, [canvas_w, canvas_h])
        if x1 <= x0 or y1 <= y0:
            continue
        matrix[:, 2] -= (x0, y0)
        roi = (int(x1 - x0), int(y1 - y0))
        warped = cv2.warpAffine(frames[i].astype(np.float32), matrix, roi, flags=cv2.INTER_LINEAR)
        weights = cv2.warpAffine(feather, matrix, roi, flags=cv2.INTER_LINEAR)
        total[y0:y1, x0:x1] += warped * weights[..., None]
        weight_sum[y0:y1, x0:x1] += weights
    coverage = weight_sum > 1e-6
    image = np.empty((canvas_h, canvas_w, 3), np.uint8)
    image[:] = BACKGROUND
    image[coverage] = np.clip(total[coverage] / weight_sum[coverage, None] + 0.5, 0, 255).astype(np.uint8)
    return image, coverage, resolution, (float(low[0]), float(low[1]))


def _feather(width: int, height: int) -> np.ndarray:
    """(H, W) float32 weights: 1 in the middle, falling linearly to near zero at the edges."""
    across = np.minimum(np.arange(width) + 1, width - np.arange(width)) / (width / 2)
    down = np.minimum(np.arange(height) + 1, height - np.arange(height)) / (height / 2)
    return np.minimum.outer(down, across).astype(np.float32)
