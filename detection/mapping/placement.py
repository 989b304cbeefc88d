"""One placement per frame of a flight on the ground, from two sources that fail in opposite ways.

Frame-to-frame registrations (`detection.change.align`) are precise between neighbours (a pixel or so) but
their errors add up along the flight: chained alone they drift. Telemetry (GPS position, height, compass yaw)
does not drift but is metres off at each frame. A placement is a similarity from frame pixels (x right,
y down) to map coordinates (metres east, metres *south*: y down like the image, so no reflection); the
placements of all frames are found at once by weighted least squares: every registered pair asks that the
two frames put their shared points at the same place (weight 1 / `pair_sigma`), every telemetry pose that
the frame lies where the camera model puts it (weight 1 / `pose_sigma`). Without telemetry the first frame
is pinned where it is (its pixels are the map's units) and frames after a failed registration are left out.

A similarity (a, b, tx, ty) maps (x, y) to (a x - b y + tx, b x + a y + ty): linear in its parameters, so the
problem is one sparse linear solve (scipy), a few milliseconds for thousands of frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import spsolve

Similarity = np.ndarray  # (4,) a, b, tx, ty


@dataclass(frozen=True)
class PlacementSettings:
    pose_sigma: float = 3.0  # metres: how far telemetry may place a frame from where it is
    pair_sigma: float = 1.5  # frame pixels: how far a registration may put a shared point
    grid: int = 3  # points per side of the grid each constraint is asked at


def grid_points(width: int, height: int, count: int) -> np.ndarray:
    """(count * count, 2) pixel coordinates spread over a frame of `width` x `height`, corners included."""
    xs, ys = np.meshgrid(np.linspace(0, width - 1, count), np.linspace(0, height - 1, count))
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def apply_similarity(similarity: Similarity, points: np.ndarray) -> np.ndarray:
    """(n, 2) map points of (n, 2) frame points."""
    a, b, tx, ty = similarity
    x, y = points[:, 0], points[:, 1]
    return np.stack([a * x - b * y + tx, b * x + a * y + ty], axis=1)


def fit_similarity(source: np.ndarray, target: np.ndarray) -> Similarity:
    """The similarity that maps (n, 2) `source` points closest to `target` (least squares, n >= 2)."""
    rows, values = _rows(source, np.ones(len(source))), target.reshape(-1)
    solution, *_ = np.linalg.lstsq(rows, values, rcond=None)
    return solution


def similarity_matrix(similarity: Similarity) -> np.ndarray:
    """The (2, 3) affine matrix of a similarity, as OpenCV's warpAffine takes it."""
    a, b, tx, ty = similarity
    return np.array([[a, -b, tx], [b, a, ty]], dtype=np.float64)


def map_homography(homography: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(n, 2) points moved by a (3, 3) homography."""
    moved = np.c_[points, np.ones(len(points))] @ homography.T
    return moved[:, :2] / moved[:, 2:3]


def _rows(points: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The (2n, 4) design rows of a similarity at (n, 2) points: [x, -y, 1, 0] and [y, x, 0, 1], weighted."""
    x, y, one, zero = points[:, 0], points[:, 1], np.ones(len(points)), np.zeros(len(points))
    rows = np.empty((2 * len(points), 4))
    rows[0::2] = np.stack([x, -y, one, zero], axis=1)
    rows[1::2] = np.stack([y, x, zero, one], axis=1)
    return rows * np.repeat(weights, 2)[:, None]


def place_frames(size: tuple[int, int], pairs: list[np.ndarray | None], pose_points: list[np.ndarray] | None,
                 *, settings: PlacementSettings = PlacementSettings()) -> tuple[np.ndarray, np.ndarray]:
    """Placements (N, 4) of N frames of `size` (width, height), and which frames were placed (N,) bool.

    `pairs[i]` (i >= 1) is the homography from frame i's pixels to frame i-1's, or None where they could not be
    registered. `pose_points[i]` is (grid * grid, 2) map points where the camera model puts frame i's grid
    points (`grid_points`), NaN where a pose is missing; None: no telemetry.
    """
    count = len(pairs)
    grid = grid_points(*size, settings.grid)
    placed = _connected(pairs) if pose_points is None else np.ones(count, bool)
    blocks, values = [], []
    pair_weight = 1.0 / settings.pair_sigma
    for i in range(1, count):
        if pairs[i] is None or not (placed[i] and placed[i - 1]):
            continue
        here, there = _rows(grid, np.full(len(grid), pair_weight)), _rows(
            map_homography(pairs[i], grid), np.full(len(grid), pair_weight))
        blocks.append(((i, here), (i - 1, -there)))
        values.append(np.zeros(2 * len(grid)))
    if pose_points is None:
        pinned = np.stack([grid[:, 0], grid[:, 1]], axis=1)  # frame 0's pixels are the map's units
        blocks.append(((0, _rows(grid, np.full(len(grid), 1e3))),))
        values.append(pinned.reshape(-1) * 1e3)
    else:
        pose_weight = _pose_weight(pose_points, grid, settings)
        for i, points in enumerate(pose_points):
            usable = np.isfinite(points).all(axis=1)
            if usable.sum() >= 2:
                blocks.append(((i, _rows(grid[usable], np.full(usable.sum(), pose_weight))),))
                values.append(points[usable].reshape(-1) * pose_weight)
    solution = _solve(blocks, values, count, placed)
    return solution, placed


def _pose_weight(pose_points: list[np.ndarray], grid: np.ndarray, settings: PlacementSettings) -> float:
    """1 / pose_sigma, scaled so that a registration's pixels and telemetry's metres weigh as their sigmas say:
    the pair rows are in map units through the placements, which are metres per pixel (about the median)."""
    spans = [np.hypot(*(p[-1] - p[0])) / np.hypot(*(grid[-1] - grid[0])) for p in pose_points
             if np.isfinite(p).all()]
    metres_per_pixel = float(np.median(spans)) if spans else 1.0
    return metres_per_pixel / settings.pose_sigma


def _connected(pairs: list[np.ndarray | None]) -> np.ndarray:
    """Frames reachable from frame 0 through registered neighbours: the run up to the first failure."""
    placed = np.zeros(len(pairs), bool)
    placed[0] = True
    for i in range(1, len(pairs)):
        if pairs[i] is None:
            break
        placed[i] = True
    return placed


def _solve(blocks, values, count: int, placed: np.ndarray) -> np.ndarray:
    """Stack the weighted rows into one sparse system over the placed frames' parameters and solve its normal
    equations."""
    rows, cols, data, offset = [], [], [], 0
    for block in blocks:
        height = block[0][1].shape[0]
        for frame, matrix in block:
            r, c = np.nonzero(np.ones_like(matrix, bool))
            rows.append(r + offset)
            cols.append(c + 4 * frame)
            data.append(matrix[r, c])
        offset += height
    system = sparse.csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                               shape=(offset, 4 * count))
    rhs = np.concatenate(values)
    keep = np.repeat(placed, 4)
    system = system[:, keep]
    normal = (system.T @ system).tocsc()
    solution = np.full(4 * count, np.nan)
    solution[keep] = spsolve(normal, system.T @ rhs)
    return solution.reshape(count, 4)
