"""The things a patrol sees every day, so they are normal: a wooden jetty with boats moored along it, cars
parked at a cottage by the road, and a mooring buoy. Planned once per area, at fixed world places near the
route, so that every flight passes them; a flight whose plan has the class `vanished` misses one moored boat.

The jetty and the cottage are stamped into the world texture (they never change); the boats, cars and buoy
are drawn each frame like the anomalies, so that one can be left out and its would-be mask is the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from detection.synth.anomalies import Anomaly
from detection.synth.patrol import Route
from detection.synth.sprites import (
    Sprite,
    boat_sprite,
    buoy_sprite,
    car_sprite,
    house_sprite,
    jetty_sprite,
    stamp_sprite,
)
from detection.synth.world import World

FIXTURE_KINDS = ("moored_boat", "parked_car", "buoy")
JETTY_METRES = (14.0, 2.0)  # length, width
BOAT_METRES = (6.0, 10.0)
CAR_METRES = 4.5
BUOY_METRES = 1.4


@dataclass(frozen=True)
class AreaFixtures:
    """The everyday objects of an area as still `Anomaly` objects (class = kind), and the jetty (x, y, angle)."""

    objects: tuple[Anomaly, ...]
    jetty: tuple[float, float, float]

    def of_kind(self, kind: str) -> list[int]:
        return [i for i, fixture in enumerate(self.objects) if fixture.anomaly_class == kind]


def plan_fixtures(world: World, route: Route, *, seed: int, metres_per_px: float, reach: float) -> AreaFixtures:
    """Place the jetty and its boats, the parked cars and the buoy within `reach` world px of the route, and
    stamp the jetty and a cottage into `world.texture` (in place: call once, before any flight renders)."""
    rng = np.random.default_rng([seed, 8])
    per_metre = 1.0 / metres_per_px
    clear = ndimage.distance_transform_edt(~world.land)  # distance from land, in water
    inland = ndimage.distance_transform_edt(world.land)  # distance from water, on land
    x, y, angle = _jetty_site(world, clear, inland, route, reach, JETTY_METRES[0] * per_metre)
    length, width = JETTY_METRES[0] * per_metre, JETTY_METRES[1] * per_metre
    colour = world.texture[..., :3].astype(np.float32) / 255
    stamp_sprite(colour, jetty_sprite(length, width), x, y, angle)
    objects = list(_moored_boats(rng, x, y, angle, length, width, per_metre))
    objects += _parked_cars(rng, world, colour, per_metre)
    objects.append(_still("buoy", buoy_sprite(BUOY_METRES * per_metre), _buoy_site(world, clear, route, reach), 0.0))
    world.texture[..., :3] = (np.clip(colour, 0, 1) * 255 + 0.5).astype(np.uint8)
    _dry_planks(world, x, y, angle, length, width)
    return AreaFixtures(tuple(objects), (float(x), float(y), float(angle)))


def _dry_planks(world: World, x: float, y: float, angle: float, length: float, width: float) -> None:
    """Clear the water channel under the jetty, so that no waves or glint play on the planks."""
    r = int(length + width) + 2
    x0, y0 = max(int(x) - r, 0), max(int(y) - r, 0)
    ys, xs = np.mgrid[y0 : int(y) + r, x0 : int(x) + r]
    along = (xs - x) * np.cos(angle) + (ys - y) * np.sin(angle)
    across = -(xs - x) * np.sin(angle) + (ys - y) * np.cos(angle)
    planks = (along >= 0) & (along <= length) & (np.abs(across) <= width / 2)
    window = world.texture[y0 : y0 + planks.shape[0], x0 : x0 + planks.shape[1], 3]
    window[planks[: window.shape[0], : window.shape[1]]] = 0


def _still(kind: str, sprite, point, angle: float) -> Anomaly:
    point = np.asarray(point, dtype=np.float64)
    direction = np.array([np.cos(angle), np.sin(angle)])
    return Anomaly(kind, 0.0, np.inf, sprite, np.stack([point, point + direction]), 0.0, 0.0)


def _jetty_site(world: World, clear: np.ndarray, inland: np.ndarray, route: Route, reach: float,
                length: float) -> tuple[float, float, float]:
    """A shore point near the middle half of the route from which a straight jetty runs into open water, and
    behind which lies solid land (not a rock a few pixels wide)."""
    middle = route.points[len(route.points) // 4 : 3 * len(route.points) // 4 : 8]
    shore = world.land & ndimage.binary_dilation(~world.land)
    ys, xs = np.nonzero(shore[::2, ::2])
    xs, ys = xs * 2.0, ys * 2.0
    near = np.min(np.hypot(xs[:, None] - middle[None, :, 0], ys[:, None] - middle[None, :, 1]), axis=1)
    order = np.argsort(near)
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    for index in order[: 4000]:
        if near[index] > reach:
            break
        best = None
        for angle in angles:
            steps = np.linspace(length * 0.3, length * 1.6, 12)
            px, py = xs[index] + steps * np.cos(angle), ys[index] + steps * np.sin(angle)
            inside = (px >= 0) & (py >= 0) & (px < world.size[1] - 1) & (py < world.size[0] - 1)
            if not inside.all():
                continue
            room = clear[py.astype(int), px.astype(int)]
            bx, by = xs[index] - 0.4 * length * np.cos(angle), ys[index] - 0.4 * length * np.sin(angle)
            solid = 0 <= bx < world.size[1] and 0 <= by < world.size[0] and inland[int(by), int(bx)] > 0.2 * length
            if solid and room.min() > 0 and (best is None or room.mean() > best[0]):
                best = (room.mean(), angle)
        if best is not None and best[0] > length * 0.3:
            return float(xs[index]), float(ys[index]), float(best[1])
    raise ValueError("no shore near the patrol route has open water for a jetty; try another seed")


def _moored_boats(rng, x, y, angle, length, width, per_metre):
    """Two or three boats alongside the jetty, bows out, on alternating sides."""
    along = np.array([np.cos(angle), np.sin(angle)])
    side = np.array([-np.sin(angle), np.cos(angle)])
    count = int(rng.integers(2, 4))
    for n in range(count):
        boat = float(rng.uniform(*BOAT_METRES)) * per_metre
        sign = 1.0 if n % 2 == 0 else -1.0
        at = length * (0.5 + 0.4 * (n // 2)) if count > 2 else length * (0.55 + 0.3 * n)
        point = np.array([x, y]) + along * min(at, length - boat * 0.2) + side * sign * (width / 2 + boat * 0.2 + 1)
        yield _still("moored_boat", boat_sprite(rng, boat, wake=False), point, angle)


def _parked_cars(rng, world: World, colour: np.ndarray, per_metre: float) -> list[Anomaly]:
    """Two cars parked side by side beside the road where the route crosses it, and a cottage behind them."""
    if not world.roads:
        return []
    road = world.roads[0]
    index = int(np.argmin(np.hypot(road[:, 0] - world.landmark[0], road[:, 1] - world.landmark[1])))
    tangent = road[min(index + 4, len(road) - 1)] - road[max(index - 4, 0)]
    heading = float(np.arctan2(tangent[1], tangent[0]))
    side = np.array([-np.sin(heading), np.cos(heading)])
    along = np.array([np.cos(heading), np.sin(heading)])
    car = CAR_METRES * per_metre
    base = road[index] + side * (car * 0.5 + 4.0 * per_metre)
    house = base + side * (car * 0.6 + 7.0 * per_metre)
    stamp_sprite(colour, _scaled_house(rng, per_metre), float(house[0]), float(house[1]), heading)
    cars = []
    for n in range(2):
        point = base + along * (n - 0.5) * car * 0.62
        cars.append(_still("parked_car", car_sprite(rng, car), point, heading + np.pi / 2))
    return cars


def _scaled_house(rng, per_metre: float):
    """A cottage of about 8 x 6 m at this area's scale (house_sprite draws 7-12 px, for about 1 m per px)."""
    sprite = house_sprite(rng)
    scale = max(per_metre * 0.8, 1.0)
    h, w = sprite.rgba.shape[:2]
    rows = np.minimum((np.arange(int(h * scale)) / scale).astype(int), h - 1)
    cols = np.minimum((np.arange(int(w * scale)) / scale).astype(int), w - 1)
    rgba = sprite.rgba[rows][:, cols]
    return Sprite(rgba, anchor=(sprite.anchor[0] * scale, sprite.anchor[1] * scale))


def _buoy_site(world: World, clear: np.ndarray, route: Route, reach: float) -> np.ndarray:
    """Open water near the route's first third (well apart from the jetty), clear of land by 20 px."""
    for point in route.points[len(route.points) // 6 : len(route.points) // 2 : 10]:
        for radius in np.linspace(0, reach, 12):
            for angle in np.linspace(0, 2 * np.pi, 12, endpoint=False):
                x, y = point + radius * np.array([np.cos(angle), np.sin(angle)])
                if 0 <= x < world.size[1] and 0 <= y < world.size[0] and clear[int(y), int(x)] > 20:
                    return np.array([x, y])
    return route.points[len(route.points) // 3].copy()
