"""The patrol route, and each day's flight and weather along it: the nuisance that is *normal*.

Every day the drone flies the same route, but never quite the same way: its path wanders sideways, its
altitude and heading drift, the light level and colour differ, cloud shadows move with the wind, the
waves are calmer or rougher and the sun's glint sits elsewhere. `Flight.pose(t)` gives the camera at a
time; the renderer turns it into a view of the world.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detection.synth.world import World, smooth_polyline


@dataclass(frozen=True)
class Route:
    """The route flown every day: a dense polyline of world points, (K, 2), one per world pixel or so."""

    points: np.ndarray

    @property
    def length(self) -> float:
        return float(np.hypot(*np.diff(self.points, axis=0).T).sum())

    def at(self, distance: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Position (..., 2) and heading (radians) at `distance` world pixels along the route (clamped)."""
        steps = np.hypot(*np.diff(self.points, axis=0).T)
        along = np.concatenate([[0.0], np.cumsum(steps)])
        d = np.clip(distance, 0, along[-1])
        x = np.interp(d, along, self.points[:, 0])
        y = np.interp(d, along, self.points[:, 1])
        ahead = np.clip(d + 8.0, 0, along[-1])
        behind = np.clip(d - 8.0, 0, along[-1])
        dx = np.interp(ahead, along, self.points[:, 0]) - np.interp(behind, along, self.points[:, 0])
        dy = np.interp(ahead, along, self.points[:, 1]) - np.interp(behind, along, self.points[:, 1])
        return np.stack([x, y], axis=-1), np.arctan2(dy, dx)


def plan_route(world: World, *, seed: int, margin: float) -> Route:
    """A route from the west edge to the east edge of the world, meandering, over the main road's middle."""
    rng = np.random.default_rng([seed, 3])
    height, width = world.size
    lx, ly = world.landmark
    lx = float(np.clip(lx, margin + 1, width - margin - 1))
    ly = float(np.clip(ly, margin, height - margin))
    spread = (height - 2 * margin) / 3
    west = np.linspace(margin, lx, 4)[:-1]
    east = np.linspace(lx, width - margin, 4)[1:]
    ys_west = np.clip(ly + rng.uniform(-spread, spread, 3) * np.array([1.0, 0.6, 0.2]), margin, height - margin)
    ys_east = np.clip(ly + rng.uniform(-spread, spread, 3) * np.array([0.2, 0.6, 1.0]), margin, height - margin)
    points = np.stack(
        [np.concatenate([west, [lx], east]), np.concatenate([ys_west, [ly], ys_east])], axis=1
    )
    return Route(smooth_polyline(points, spacing=1.0))


def _wander(rng: np.random.Generator, amplitude: float, period: float):
    """A smooth random function of time: a few sinusoids with random phases around `period` seconds."""
    freqs = rng.uniform(0.5, 2.0, 3) / period
    phases = rng.uniform(0, 2 * np.pi, 3)
    weights = rng.uniform(0.3, 1.0, 3)
    weights = weights / weights.sum()

    def value(t):
        t = np.asarray(t, dtype=np.float64)
        return amplitude * sum(w * np.sin(2 * np.pi * f * t + p) for w, f, p in zip(weights, freqs, phases))

    return value


@dataclass(frozen=True)
class Conditions:
    """One day's light and weather (all normal)."""

    gain: float  # overall light level
    tint: tuple[float, float, float]  # colour of the light
    haze: float
    wave_amplitude: float
    wave_angle: float
    cloud_cover: float  # 0 clear .. 1 overcast
    cloud_strength: float  # how dark a shadow is
    wind: tuple[float, float]  # cloud drift, world px / s
    glint_at: tuple[float, float]  # sun glint centre as fractions of frame width and height
    glint_strength: float
    light_change_at: float | None = None  # hard normal: a sudden change of light level at this second
    light_change_factor: float = 1.0


def draw_conditions(rng: np.random.Generator, *, heavy_clouds: bool = False, light_change_at: float | None = None):
    """Random but plausible conditions; `heavy_clouds` and `light_change_at` make the hard normal cases."""
    warmth = rng.uniform(-0.06, 0.06)
    return Conditions(
        gain=float(rng.uniform(0.82, 1.15)),
        tint=(1.0 + warmth, 1.0 + rng.uniform(-0.02, 0.02), 1.0 - warmth),
        haze=float(rng.uniform(0.0, 0.12)),
        wave_amplitude=float(rng.uniform(0.04, 0.16)),
        wave_angle=float(rng.uniform(0, 2 * np.pi)),
        cloud_cover=float(rng.uniform(0.45, 0.6) if heavy_clouds else rng.uniform(0.0, 0.4)),
        cloud_strength=float(rng.uniform(0.5, 0.65) if heavy_clouds else rng.uniform(0.15, 0.35)),
        wind=tuple(float(v) for v in rng.uniform(-12, 12, 2)),
        glint_at=(float(rng.uniform(0.1, 0.9)), float(rng.uniform(0.1, 0.9))),
        glint_strength=float(rng.uniform(0.2, 0.7)),
        light_change_at=light_change_at,
        light_change_factor=float(rng.choice([0.5, 1.6])) if light_change_at is not None else 1.0,
    )


class Flight:
    """One day's flight along the route: where the camera is and how it looks at time t (seconds)."""

    def __init__(self, route: Route, *, seed: int, duration: float, footprint: float, frame_width: int,
                 heading_offset: float = 0.0, altitude: float = 1.0, reverse: bool = False,
                 same_speed_daily: bool = False):
        """`same_speed_daily` (the patrol presets): the drone flies at one nominal ground speed every day, off by
        up to 3%, and takes off up to 5% of the flight (3 s of 60) late, so that flights line up in place."""
        rng = np.random.default_rng([seed, 4])
        self.route = route
        self.duration = duration
        self.reverse = reverse
        self.base_gsd = footprint / frame_width * altitude * rng.uniform(0.94, 1.06)
        self.heading_offset = heading_offset
        self.start = rng.uniform(0, 0.04) * route.length
        self.speed = (route.length * 0.96) / duration
        self.lateral = _wander(rng, amplitude=rng.uniform(8, 20), period=duration)
        self.drift = _wander(rng, amplitude=np.radians(rng.uniform(3, 8)), period=duration)
        self.climb = _wander(rng, amplitude=rng.uniform(0.02, 0.06), period=duration)
        if same_speed_daily:
            daily = np.random.default_rng([seed, 7])
            self.speed = route.length * 0.9 / duration * daily.uniform(0.97, 1.03)
            self.start = self.speed * daily.uniform(0, 0.05) * duration

    def pose(self, t: float) -> tuple[float, float, float, float]:
        """(x, y, heading, gsd): camera centre in world px, heading of the frame's up direction (radians),
        and world pixels per frame pixel."""
        distance = self.start + self.speed * t
        if self.reverse:
            distance = self.route.length - distance
        (x, y), heading = self.route.at(distance)
        if self.reverse:
            heading = heading + np.pi
        side = float(self.lateral(t))
        x, y = x - np.sin(heading) * side, y + np.cos(heading) * side
        heading = float(heading + self.drift(t) + self.heading_offset)
        return float(x), float(y), heading, float(self.base_gsd * (1 + self.climb(t)))
