"""One area's world texture, rendered once per seed: archipelago (water, shore, rock, forest, roads, cottages).

The renderer samples camera views out of this texture each frame, so everything static lives here:
terrain colour with hill shading, a water-fraction channel (where waves and glint go), the road polylines
(where cars may drive) and a land mask (where people and fires may be placed). A second palette, `desert`,
gives the "another environment" frames of the dataset 1 setting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage, sparse
from scipy.sparse import csgraph

from detection.synth.noise import fractal_noise, smoothstep
from detection.synth.sprites import house_sprite, stamp_sprite

DEEP_WATER = np.array([0.04, 0.15, 0.22], dtype=np.float32)
SHALLOW_WATER = np.array([0.13, 0.33, 0.34], dtype=np.float32)
SAND = np.array([0.62, 0.58, 0.48], dtype=np.float32)
GRANITE = np.array([0.56, 0.50, 0.47], dtype=np.float32)
LICHEN = np.array([0.47, 0.47, 0.40], dtype=np.float32)
MEADOW = np.array([0.38, 0.44, 0.24], dtype=np.float32)
FOREST = np.array([0.10, 0.20, 0.10], dtype=np.float32)
GRAVEL = np.array([0.58, 0.54, 0.47], dtype=np.float32)
SHORE_BAND = 0.03  # terrain heights above the waterline that the surface's shore channel resolves


@dataclass(frozen=True)
class World:
    """A static world: `texture` (H, W, 4) uint8, RGB plus a water fraction channel (255 = water).

    `land` (H, W) bool; `roads` road centre lines as (K, 2) float arrays of world (x, y);
    `landmark` a world point (x, y) the patrol route passes over (the middle of the main road).
    `surface` (H, W, 4) uint8 or None: what a day's light and season change (see `detection.synth.seasons`):
    the terrain normal's x and y (255 * (0.5 + 0.5 n)), the height above the waterline over the shore band
    (0 at the waterline, 255 at SHORE_BAND and above) and the share of vegetation.
    """

    texture: np.ndarray
    land: np.ndarray
    roads: tuple[np.ndarray, ...]
    landmark: tuple[float, float]
    surface: np.ndarray | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) in world pixels."""
        return self.land.shape

    def is_water(self, x: float, y: float) -> bool:
        """True where the world point (x, y) is water (outside the world counts as water)."""
        height, width = self.land.shape
        xi, yi = int(round(x)), int(round(y))
        return not (0 <= xi < width and 0 <= yi < height) or not self.land[yi, xi]


def build_world(seed: int, size: int, *, palette: str = "archipelago", surface: bool = False) -> World:
    """Render the world of one area, `size` x `size` world pixels, deterministic for a seed; with `surface`,
    also the channels a day's sun, tide and season act on (the texture is the same either way)."""
    if palette == "desert":
        return _build_desert(seed, size)
    rng = np.random.default_rng([seed, 1])
    relief = fractal_noise(rng, size, size, beta=2.9) + 0.04 * fractal_noise(rng, size, size, beta=1.8)
    height = relief / np.abs(relief).max()
    sea_level = np.quantile(height[::4, ::4], 0.68)
    elevation = (height - sea_level).astype(np.float32)  # > 0 on land
    land = elevation > 0

    detail = fractal_noise(rng, size, size, beta=1.4)
    fine = fractal_noise(rng, size, size, beta=0.6)
    crowns = fractal_noise(rng, size, size, beta=0.8, cutoff=0.35)
    patches = fractal_noise(rng, size, size, beta=2.6)

    # Water: shallow near shore, deep far out, with a little large-scale variation.
    depth = np.clip(-elevation, 0, None)
    deep_mix = smoothstep(0.0, 0.12, depth + 0.01 * detail)[..., None]
    colour = SHALLOW_WATER * (1 - deep_mix) + DEEP_WATER * deep_mix
    colour = colour * (1 + 0.05 * patches[..., None])

    # Land: a thin sand or shingle line, bare granite slabs near the shore, meadow and forest inland.
    rock_top = 0.07 + 0.05 * patches
    vegetation = smoothstep(0.0, 0.02, elevation - rock_top + 0.012 * detail)[..., None]
    forest_share = smoothstep(-0.3, 0.5, patches + 0.4 * detail)[..., None]
    crown_shade = (0.75 + 0.5 * smoothstep(-1.0, 1.5, crowns))[..., None]
    plants = MEADOW * (1 - forest_share) + FOREST * crown_shade * forest_share
    lichen_share = smoothstep(-0.5, 1.0, detail)[..., None]
    rock = (GRANITE * (1 - lichen_share) + LICHEN * lichen_share) * (1 + 0.10 * fine[..., None])
    ground = rock * (1 - vegetation) + plants * vegetation
    shore = smoothstep(0.0, 0.006, elevation)[..., None]
    ground = SAND * (1 - shore) + ground * shore
    colour = np.where(land[..., None], ground, colour)

    # Hill shading from the terrain slope, sun from the north-west.
    relief_map = ndimage.gaussian_filter(np.maximum(elevation, 0), 1.5) + 0.004 * detail * land
    gy, gx = np.gradient(relief_map * size * 0.3)
    normal_z = 1.0 / np.sqrt(1 + gx * gx + gy * gy)
    light = (-0.55 * gx - 0.55 * gy + 1.0) * normal_z
    colour = colour * np.clip(0.7 + 0.35 * light, 0.5, 1.2)[..., None]

    roads, road_mask = _roads(rng, land)
    road_colour = GRAVEL * (1 + 0.06 * fine[..., None])
    colour = np.where(road_mask[..., None], road_colour, colour)
    _place_houses(rng, colour, land, roads)

    water = (~land).astype(np.float32)
    texture = _to_rgba8(colour, water)
    middle = roads[0][len(roads[0]) // 2] if roads else np.array([size / 2, size / 2])
    channels = None
    if surface:
        plant_share = vegetation[..., 0] * (1 - 0.6 * forest_share[..., 0]) * land
        channels = _surface(gx * normal_z, gy * normal_z, elevation, plant_share)
    return World(texture=texture, land=land, roads=roads, landmark=(float(middle[0]), float(middle[1])),
                 surface=channels)


def _surface(normal_x, normal_y, elevation, plants) -> np.ndarray:
    shore = np.clip(elevation / SHORE_BAND, 0, 1)
    stacked = np.stack([0.5 + 0.5 * np.clip(normal_x, -1, 1), 0.5 + 0.5 * np.clip(normal_y, -1, 1), shore,
                        np.clip(plants, 0, 1)], axis=-1)
    return (stacked * 255 + 0.5).astype(np.uint8)


def _main_island(land: np.ndarray) -> np.ndarray:
    """The largest island whose bulk lies in the middle band of the world (the patrol corridor)."""
    size = land.shape[0]
    labels, count = ndimage.label(land)
    if count == 0:
        return np.zeros_like(land)
    band = np.zeros_like(land)
    band[size // 4 : 3 * size // 4, size // 5 : 4 * size // 5] = True
    sizes = ndimage.sum(land & band, labels, index=np.arange(1, count + 1))
    return labels == (int(np.argmax(sizes)) + 1)


def _roads(rng: np.random.Generator, land: np.ndarray):
    """A gravel road across the main island, west to east: the cheapest inland path on a coarse grid,
    where a random cost field makes it wind like a real track."""
    step = 4
    island = _main_island(land)
    inland = (ndimage.distance_transform_edt(island) > 5)[::step, ::step]
    parts, count = ndimage.label(inland, structure=np.ones((3, 3)))
    if count == 0:
        return (), np.zeros_like(land)
    inland = parts == 1 + int(np.argmax(np.bincount(parts.ravel())[1:]))
    rows, cols = np.nonzero(inland)
    if len(rows) < 10:
        return (), np.zeros_like(land)
    node = -np.ones(inland.shape, dtype=np.int64)
    node[rows, cols] = np.arange(len(rows))
    cost = 1.0 + 2.0 * np.abs(fractal_noise(rng, *inland.shape, beta=2.0))
    sources, targets, weights = [], [], []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        r2, c2 = rows + dr, cols + dc
        ok = (r2 < inland.shape[0]) & (c2 >= 0) & (c2 < inland.shape[1])
        ok[ok] = inland[r2[ok], c2[ok]]
        sources.append(node[rows[ok], cols[ok]])
        targets.append(node[r2[ok], c2[ok]])
        weights.append(np.hypot(dr, dc) * 0.5 * (cost[rows[ok], cols[ok]] + cost[r2[ok], c2[ok]]))
    graph = sparse.coo_matrix(
        (np.concatenate(weights), (np.concatenate(sources), np.concatenate(targets))), shape=(len(rows),) * 2
    ).tocsr()
    start, goal = int(np.argmin(cols)), int(np.argmax(cols))
    _, previous = csgraph.dijkstra(graph, directed=False, indices=start, return_predecessors=True)
    if previous[goal] < 0:
        return (), np.zeros_like(land)
    path = [goal]
    while path[-1] != start:
        path.append(int(previous[path[-1]]))
    points = np.stack([cols[path[::-1]], rows[path[::-1]]], axis=1).astype(np.float64) * step
    line = smooth_polyline(points[::3] if len(points) > 9 else points)
    centre = np.zeros_like(land)
    cols_px = np.clip(np.round(line[:, 0]).astype(int), 0, land.shape[1] - 1)
    rows_px = np.clip(np.round(line[:, 1]).astype(int), 0, land.shape[0] - 1)
    centre[rows_px, cols_px] = True
    road_mask = (ndimage.distance_transform_edt(~centre) <= 2.6) & land
    return (line,), road_mask


def smooth_polyline(points: np.ndarray, spacing: float = 0.7) -> np.ndarray:
    """A densely resampled polyline (one point per `spacing` px), corners softened by Chaikin's scheme."""
    for _ in range(3):
        start, end = points[:-1], points[1:]
        inner = np.stack([0.75 * start + 0.25 * end, 0.25 * start + 0.75 * end], axis=1).reshape(-1, 2)
        points = np.vstack([points[:1], inner, points[-1:]])
    lengths = np.hypot(*np.diff(points, axis=0).T)
    along = np.concatenate([[0.0], np.cumsum(lengths)])
    samples = np.arange(0.0, along[-1], spacing)
    return np.stack([np.interp(samples, along, points[:, 0]), np.interp(samples, along, points[:, 1])], axis=1)


def _place_houses(rng: np.random.Generator, colour: np.ndarray, land: np.ndarray, roads) -> None:
    """Summer cottages (red or grey roofs) beside the road: static, part of normal."""
    if not roads:
        return
    line = roads[0]
    count = max(2, len(line) // 180)
    for index in rng.choice(len(line), size=min(count, len(line)), replace=False):
        x, y = line[index]
        side = rng.choice([-1.0, 1.0])
        tangent = line[min(index + 3, len(line) - 1)] - line[max(index - 3, 0)]
        angle = float(np.arctan2(tangent[1], tangent[0]))
        offset = np.array([-np.sin(angle), np.cos(angle)]) * side * rng.uniform(9, 14)
        hx, hy = x + offset[0], y + offset[1]
        if land[int(np.clip(hy, 0, land.shape[0] - 1)), int(np.clip(hx, 0, land.shape[1] - 1))]:
            stamp_sprite(colour, house_sprite(rng), hx, hy, angle)


def _build_desert(seed: int, size: int) -> World:
    """Sand dunes and dry scrub: the foreign environment of the dataset 1 setting."""
    rng = np.random.default_rng([seed, 2])
    dunes = fractal_noise(rng, size, size, beta=3.2)
    ripples = fractal_noise(rng, size, size, beta=1.6)
    scrub = fractal_noise(rng, size, size, beta=1.2)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    crests = np.sin(2 * np.pi * (0.8 * xs + 0.6 * ys) / 70.0 + 3.0 * dunes)
    relief = dunes + 0.25 * crests + 0.02 * ripples
    gy, gx = np.gradient(relief)
    slope = (-gx - gy) / (np.std(gx + gy) + 1e-6)
    light = np.clip(0.92 + 0.12 * slope, 0.6, 1.2)
    base = np.array([0.78, 0.64, 0.44], dtype=np.float32)
    colour = base * (light * (1 + 0.04 * dunes))[..., None]
    bush = smoothstep(1.8, 2.4, scrub)[..., None]
    colour = colour * (1 - bush) + np.array([0.36, 0.34, 0.22], dtype=np.float32) * bush
    land = np.ones((size, size), dtype=bool)
    texture = _to_rgba8(colour, np.zeros((size, size), np.float32))
    return World(texture=texture, land=land, roads=(), landmark=(size / 2, size / 2))


def _to_rgba8(colour: np.ndarray, water: np.ndarray) -> np.ndarray:
    rgba = np.concatenate([np.clip(colour, 0, 1), water[..., None]], axis=-1)
    return (rgba * 255 + 0.5).astype(np.uint8)
