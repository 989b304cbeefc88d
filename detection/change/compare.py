"""Comparing one frame of today with a few aligned reference frames: distance maps on the comparison grid.

For each candidate reference (already aligned: a homography from the reference's analysis pixels to
today's), two distances per grid cell, each to the range of values the reference takes within
`neighbourhood` cells (residual misalignment: its local minimum and maximum per channel):
- colour: the squared difference of the colour detail (features.colour_detail: log intensity without its
  large-scale component), max-pooled from the detail resolution to the grid;
- cnn: the mean squared difference of the early MobileNetV2 features of today's frame and of the reference
  in today's view: the reference's own feature map (computed once, when it was indexed) warped into today's
  grid when the two views differ by little more than a shift, else the features of the reference frame
  warped first (CNN features are not rotation invariant: a reversed heading must be turned before the CNN
  sees it).
Cells the warped reference does not cover are NaN. `normalise` divides each branch by the normal variation
expected at that place (the highest of the candidates' leave-one-out residuals there, warped alike, plus a
global scale), `combine` takes the minimum over candidates per branch and the larger of the two branches, and
`robust_z` turns the smoothed map into robust z-scores over the frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from detection.change.features import Grid

BRANCHES = ("colour", "cnn")


@dataclass(frozen=True)
class PairMaps:
    """One candidate's distances on the grid: (2, gh, gw) float32 [colour, cnn], NaN where not covered."""

    distances: np.ndarray
    detail: np.ndarray  # (dh, dw, 3) float32: the reference's colour detail warped into today's view


def resize_matrix(from_size: tuple[int, int], to_size: tuple[int, int]) -> np.ndarray:
    """(3, 3) pixel map of an image resized from `from_size` (w, h) to `to_size` (w, h), pixel centres kept."""
    sx, sy = to_size[0] / from_size[0], to_size[1] / from_size[1]
    return np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1]], dtype=np.float64)


def resize_homography(homography: np.ndarray, from_size: tuple[int, int], to_size: tuple[int, int]) -> np.ndarray:
    """The same mapping for both images resized from `from_size` (w, h) to `to_size` (w, h), pixel centres kept."""
    scale = resize_matrix(from_size, to_size)
    return scale @ np.asarray(homography, dtype=np.float64) @ np.linalg.inv(scale)


def turn_and_scale(homography: np.ndarray) -> tuple[float, float]:
    """(degrees, scale) of the similarity closest to the homography's linear part: how much the view turned
    and zoomed."""
    h = np.asarray(homography, dtype=np.float64) / homography[2, 2]
    angle = np.degrees(np.arctan2(h[1, 0] - h[0, 1], h[0, 0] + h[1, 1]))
    return float(angle), float(np.sqrt(abs(np.linalg.det(h[:2, :2]))))


def warp(image: np.ndarray, homography: np.ndarray, size: tuple[int, int], *, border: int = cv2.BORDER_REFLECT):
    """`image` warped by `homography` into a `size` (w, h) grid (linear interpolation)."""
    return cv2.warpPerspective(image, homography, size, flags=cv2.INTER_LINEAR, borderMode=border)


def warp_over(image: np.ndarray, homography: np.ndarray, background: np.ndarray) -> np.ndarray:
    """`image` warped by `homography` into `background`'s view, `background`'s own pixels where it does not reach
    (two CNN inputs then agree outside the part they share, so that part compares on its content up to its edge)."""
    canvas = np.array(background, copy=True)
    cv2.warpPerspective(image, homography, (background.shape[1], background.shape[0]), dst=canvas,
                        flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT)
    return canvas


def coverage(from_size: tuple[int, int], homography: np.ndarray, size: tuple[int, int], erode: int = 1,
             frame_edge: int = 0) -> np.ndarray:
    """(h, w) bool: the cells of a `size` grid the warped image covers, `erode` cells in from its edge (where it
    ends inside the grid), and not the `frame_edge` outermost rings of the grid itself."""
    ones = np.ones((from_size[1], from_size[0]), np.float32)
    covered = warp(ones, homography, size, border=cv2.BORDER_CONSTANT) > 0.99
    if erode > 0:
        covered = cv2.erode(covered.astype(np.uint8), np.ones((2 * erode + 1,) * 2, np.uint8)) > 0
    if frame_edge > 0:
        covered[:frame_edge], covered[-frame_edge:] = False, False
        covered[:, :frame_edge], covered[:, -frame_edge:] = False, False
    return covered


def shift_min(today: np.ndarray, reference: np.ndarray, radius: int) -> np.ndarray:
    """(h, w) mean over channels of the squared distance of today's value to the range the reference takes
    within `radius` cells (its local minimum and maximum per channel): zero when some nearby reference cell is
    as low and some as high, which tolerates a residual shift of up to `radius` cells at the cost of two
    dilations (cv2.dilate, cv2.erode). today, reference: (h, w, C) float32; NaN cells of the reference take
    today's value (no difference)."""
    filled = np.where(np.isnan(reference), today, reference)
    if radius > 0:
        kernel = np.ones((2 * radius + 1,) * 2, np.uint8)
        high = cv2.dilate(filled, kernel, borderType=cv2.BORDER_REPLICATE).reshape(filled.shape)
        low = cv2.erode(filled, kernel, borderType=cv2.BORDER_REPLICATE).reshape(filled.shape)
    else:
        high = low = filled
    excess = np.maximum(np.maximum(today - high, low - today), 0.0)  # high >= low: one side at most is positive
    return np.mean(excess * excess, axis=2)


def pair_distances(
    today_detail: np.ndarray | None,
    today_features: np.ndarray | None,
    reference_detail: np.ndarray | None,
    reference_features: np.ndarray | None,
    covered: np.ndarray,
    grid: Grid,
    radius: int,
) -> np.ndarray:
    """(2, gh, gw) [colour, cnn] distances of one aligned pair (both already in today's view), NaN where the
    reference does not cover the cell; a branch given no details or no features is NaN throughout. Details are
    (dh, dw, 3) and features (gh, gw, C) float32, channels last."""
    cells_w, cells_h = grid.cells
    result = np.full((2, cells_h, cells_w), np.nan, np.float32)
    if today_detail is not None and reference_detail is not None:
        detail_w, detail_h = grid.detail_cells
        covered_detail = cv2.resize(covered.astype(np.uint8), (detail_w, detail_h),
                                    interpolation=cv2.INTER_NEAREST) > 0
        reference = np.where(covered_detail[..., None], reference_detail, np.float32(np.nan))
        factor = max(1, round(detail_w / cells_w))
        colour = shift_min(today_detail, reference, radius * factor) * 3.0  # summed over the three channels
        colour = torch.from_numpy(np.ascontiguousarray(colour, dtype=np.float32))
        result[0] = F.adaptive_max_pool2d(colour[None, None], (cells_h, cells_w))[0, 0].numpy()
    if today_features is not None and reference_features is not None:
        masked = np.where(covered[..., None], reference_features, np.float32(np.nan))
        result[1] = shift_min(today_features, masked, radius)
    result[:, ~covered] = np.nan
    return result


def normalise(distances: np.ndarray, residual: np.ndarray | None, scales: np.ndarray) -> np.ndarray:
    """(2, gh, gw) distances divided by the normal variation: global `scales` (2,) plus, when given, the
    candidate's leave-one-out residual at each place (2, gh, gw, already in today's view)."""
    expected = scales[:, None, None] if residual is None else scales[:, None, None] + np.nan_to_num(residual)
    return distances / expected


def combine(normalised: list[np.ndarray], branches: tuple[bool, bool]) -> tuple[np.ndarray, np.ndarray]:
    """(map (gh, gw) float32 with NaN where no candidate covers, best (gh, gw) int: the candidate that
    explains each cell best) from the candidates' normalised (2, gh, gw) maps."""
    stack = np.stack(normalised)  # (K, 2, gh, gw)
    used = [b for b, on in enumerate(branches) if on]
    per_branch = np.fmin.reduce(stack[:, used], axis=0)  # (len(used), gh, gw)
    with np.errstate(invalid="ignore"):
        result = np.fmax.reduce(per_branch, axis=0)
    total = np.nan_to_num(stack[:, used], nan=np.inf).sum(axis=1)  # (K, gh, gw)
    return result.astype(np.float32), np.argmin(total, axis=0)


def smooth_map(values: np.ndarray, sigma: float) -> np.ndarray:
    """NaN-free (gh, gw) map (uncovered cells 0) smoothed by a Gaussian of `sigma` cells."""
    filled = np.nan_to_num(values, nan=0.0).astype(np.float32)
    if sigma <= 0:
        return filled
    return cv2.GaussianBlur(filled, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REPLICATE)


def robust_stats(values: np.ndarray, covered: np.ndarray) -> tuple[float, float] | None:
    """(median, MAD) of `values` over the `covered` cells (None when none is covered). The MAD has a floor of
    1e-3 (the maps are in units of normal variation, about 1), so a frame that matches its references almost
    exactly everywhere does not turn noise into large scores."""
    inside = values[covered]
    if inside.size == 0:
        return None
    median = float(np.median(inside))
    return median, max(float(np.median(np.abs(inside - median))), 1e-3)


def robust_z(values: np.ndarray, covered: np.ndarray, stats: tuple[float, float] | None = None) -> np.ndarray:
    """(gh, gw) float32: `values` as robust z-scores over the `covered` cells, (value - median) / MAD, clipped at
    0 (uncovered cells 0); `stats`: a (median, MAD) to use instead of these values' own (robust_stats)."""
    stats = robust_stats(values, covered) if stats is None else stats
    if stats is None:
        return np.zeros_like(values, dtype=np.float32)
    median, spread = stats
    result = np.maximum((values - median) / spread, 0.0)
    result[~covered] = 0.0
    return result.astype(np.float32)


def confirmed_on_ground(current: np.ndarray, other: np.ndarray, other_to_current: np.ndarray, radius: int) -> float:
    """The highest value of the change map `current` (gh, gw) that another compared frame's map `other` also
    reaches at the same place on the ground: `other` moved into this view by `other_to_current` (3x3, on the
    grid: today's own motion between the two frames) and dilated by `radius` cells (a moving boat, a residual
    misalignment); where `other` does not see, nothing is confirmed."""
    height, width = current.shape
    moved = cv2.warpPerspective(np.asarray(other, np.float32), np.asarray(other_to_current, np.float64),
                                (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                borderValue=-1.0)
    seen = moved >= 0
    if radius > 0:
        moved = cv2.dilate(moved, np.ones((2 * radius + 1, 2 * radius + 1), np.uint8))
    confirmed = np.where(seen, np.minimum(current, moved), 0.0)
    return float(confirmed.max()) if confirmed.size else 0.0


def change_region(change_map: np.ndarray, x: int, y: int, size: tuple[int, int]) -> np.ndarray:
    """(h, w) bool at `size` (w, h): the connected cells around the peak (x, y) at half its height or more."""
    peak = change_map[y, x]
    above = (change_map >= 0.5 * peak).astype(np.uint8)
    _, labels = cv2.connectedComponents(above)
    region = (labels == labels[y, x]).astype(np.uint8)
    return cv2.resize(region, size, interpolation=cv2.INTER_NEAREST) > 0


def object_likeness(image: np.ndarray, region: np.ndarray) -> float:
    """How much `region` stands out from the ring around it (as wide as the region):
    |mean inside - mean of the ring| / spread of the ring, on grey intensity. An object differs from
    its surroundings; the ground it covers or uncovers is like them. image: (H, W, C) (NaN allowed in float)."""
    rows, columns = np.nonzero(region)
    if rows.size == 0:
        return 0.0
    extent = max(2, int(np.sqrt(rows.size)))
    # Only the region's bounding box and the ring around it matter.
    top, bottom = max(0, rows.min() - extent), min(region.shape[0], rows.max() + extent + 1)
    left, right = max(0, columns.min() - extent), min(region.shape[1], columns.max() + extent + 1)
    region = region[top:bottom, left:right]
    window = image[top:bottom, left:right].astype(np.float32)
    grey = np.nanmean(window, axis=2) if window.ndim == 3 else window
    ring = cv2.dilate(region.astype(np.uint8), np.ones((2 * extent + 1,) * 2, np.uint8)) > 0
    ring &= ~region
    inside, around = grey[region & np.isfinite(grey)], grey[ring & np.isfinite(grey)]
    if inside.size == 0 or around.size < 2:
        return 0.0
    return float(abs(inside.mean() - around.mean()) / (around.std() + 1e-3))
