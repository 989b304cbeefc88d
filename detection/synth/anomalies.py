"""Anomalies placed in world coordinates (so they move with the scene, not with the camera), and the planner
that puts each one where the patrol will see it.

Object classes are drawn into the view as sprites: boats (with wakes when moving), people, cars on the
road, other drones, floating debris, fire and smoke. Frame classes change whole frames for a few seconds,
the origin report's "dataset 1": frames of another environment (`foreign_scene`) or of wrong colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detection.synth.camera import frame_to_world
from detection.synth.patrol import Flight
from detection.synth.sprites import (
    FireSprite,
    SmokeSprite,
    Sprite,
    boat_sprite,
    car_sprite,
    debris_sprite,
    drone_sprite,
    person_sprite,
)
from detection.synth.world import World

OBJECT_CLASSES = ("boat", "person", "car", "drone", "debris", "fire", "smoke")
FRAME_CLASSES = ("foreign_scene", "colour")
ANOMALY_CLASSES = OBJECT_CLASSES + FRAME_CLASSES

# Sizes in world pixels (the longest side; about frame pixels at the demo's altitude).
SIZE_RANGES = {
    "boat": (8.0, 60.0),
    "person": (2.5, 4.5),
    "car": (8.0, 11.0),
    "drone": (7.0, 16.0),
    "debris": (3.0, 14.0),
    "fire": (8.0, 26.0),
    "smoke": (50.0, 170.0),
}
COLOUR_MODES = ("swap", "magenta", "grey")
# The patrol presets' class: an everyday object (a moored boat) that is not there. Its mask is where it would be.
VANISHED = "vanished"
# Patrol presets: sizes in frame pixels at 1280 px across and the nominal altitude, drawn log-uniformly; over
# all classes they run from 6 to 300 px.
PIXEL_SIZE_RANGES = {
    "boat": (16.0, 200.0),
    "person": (6.0, 14.0),
    "car": (24.0, 40.0),
    "drone": (6.0, 28.0),
    "debris": (6.0, 60.0),
    "fire": (10.0, 120.0),
    "smoke": (60.0, 300.0),
}


@dataclass
class Anomaly:
    """One anomaly. Objects follow `path` ((K, 2) world px) from `offset` px along it at `speed` px/s;
    frame anomalies (`sprite` None) change the whole frame between `start` and `end` seconds."""

    anomaly_class: str
    start: float
    end: float
    sprite: Sprite | FireSprite | SmokeSprite | None = None
    path: np.ndarray | None = None
    offset: float = 0.0
    speed: float = 0.0
    mode: str = ""

    @property
    def is_frame_level(self) -> bool:
        return self.sprite is None

    def active(self, t: float) -> bool:
        return self.start <= t <= self.end

    def pose_at(self, t: float) -> tuple[float, float, float]:
        """World (x, y) and heading (radians) of the object at time t."""
        steps = np.hypot(*np.diff(self.path, axis=0).T)
        along = np.concatenate([[0.0], np.cumsum(steps)])
        d = float(np.clip(self.offset + self.speed * t, 0, along[-1]))
        i = int(np.clip(np.searchsorted(along, d, side="right") - 1, 0, len(steps) - 1))
        f = (d - along[i]) / max(steps[i], 1e-9)
        x, y = self.path[i] + f * (self.path[i + 1] - self.path[i])
        dx, dy = self.path[i + 1] - self.path[i]
        return float(x), float(y), float(np.arctan2(dy, dx))

    def sprite_at(self, t: float) -> Sprite:
        return self.sprite if isinstance(self.sprite, Sprite) else self.sprite.at(t)


def plan_anomalies(rng: np.random.Generator, world: World, flight: Flight, classes: list[str], *,
                   frame_size: tuple[int, int], wind: tuple[float, float] = (1.0, 0.0),
                   size_scale: float = 1.0, pixel_scale: float | None = None) -> list[Anomaly]:
    """One anomaly per entry of `classes`, spread over the video so that each comes into view.

    With `pixel_scale` (world px per frame px of a 1280 px wide frame; the patrol presets), sizes are drawn
    log-uniformly from PIXEL_SIZE_RANGES instead of SIZE_RANGES, and people stand on the rocks or swim.
    """
    duration = flight.duration
    anomalies = []
    for i, anomaly_class in enumerate(classes):
        if anomaly_class not in ANOMALY_CLASSES:
            raise ValueError(f"unknown anomaly class {anomaly_class!r}; known: {', '.join(ANOMALY_CLASSES)}")
        t_c = duration * (i + 1) / (len(classes) + 1) + rng.uniform(-0.08, 0.08) * duration
        t_c = float(np.clip(t_c, 0.15 * duration, 0.85 * duration))
        if anomaly_class in FRAME_CLASSES:
            length = float(rng.uniform(0.12, 0.22) * duration)
            mode = "desert" if anomaly_class == "foreign_scene" else str(rng.choice(COLOUR_MODES))
            anomalies.append(Anomaly(anomaly_class, t_c - length / 2, t_c + length / 2, mode=mode))
            continue
        if pixel_scale is None:
            lo, hi = SIZE_RANGES[anomaly_class]
            size = float(rng.uniform(lo, hi) * size_scale)
        else:
            lo, hi = np.log(PIXEL_SIZE_RANGES[anomaly_class])
            size = float(np.exp(rng.uniform(lo, hi)) * pixel_scale * size_scale)
        person_on = str(rng.choice(["land", "water"])) if pixel_scale is not None else "any"
        anomalies.append(_place_object(rng, world, flight, anomaly_class, size, t_c, frame_size, wind, person_on))
    _smoke_rises_from_fire(anomalies)
    return anomalies


def _smoke_rises_from_fire(anomalies: list[Anomaly]) -> None:
    """Where a video has both, the first smoke plume starts at the first fire (both stay separate classes)."""
    fire = next((a for a in anomalies if a.anomaly_class == "fire"), None)
    smoke = next((a for a in anomalies if a.anomaly_class == "smoke"), None)
    if fire is not None and smoke is not None:
        smoke.path = smoke.path - smoke.path[0] + fire.path[0]


def _place_object(rng, world, flight, anomaly_class, size, t_c, frame_size, wind, person_on="any") -> Anomaly:
    duration = flight.duration
    if anomaly_class == "car" and world.roads:
        return _car_on_road(rng, world, flight, size)
    want = {"boat": "water", "debris": "water", "fire": "land", "person": person_on, "drone": "any", "smoke": "any"}
    where = _find_spot(rng, world, flight.pose(t_c), frame_size, want.get(anomaly_class, "any"))
    angle = float(rng.uniform(0, 2 * np.pi))
    speed = 0.0
    if anomaly_class == "boat":
        speed = float(rng.choice([0.0, rng.uniform(6, 22)]))
        sprite = boat_sprite(rng, size, wake=speed > 0)
    elif anomaly_class == "person":
        speed = float(rng.choice([0.0, rng.uniform(0.8, 1.6)]))
        sprite = person_sprite(rng, size)
    elif anomaly_class == "drone":
        speed = float(rng.uniform(20, 45))
        sprite = drone_sprite(size)
    elif anomaly_class == "debris":
        speed = float(rng.uniform(0.0, 2.5))
        sprite = debris_sprite(rng, size)
    elif anomaly_class == "fire":
        sprite = FireSprite(rng, size)
    elif anomaly_class == "smoke":
        angle = float(np.arctan2(wind[1], wind[0])) if np.hypot(*wind) > 0.1 else angle
        sprite = SmokeSprite(rng, size, dark=bool(rng.random() < 0.3))
    else:  # a car where the world has no road: parked on land
        sprite = car_sprite(rng, size)
    direction = np.array([np.cos(angle), np.sin(angle)])
    start_point = where - direction * speed * t_c
    end_point = where + direction * max(speed * (duration - t_c), 1.0)
    return Anomaly(anomaly_class, 0.0, duration, sprite, np.stack([start_point, end_point]), 0.0, speed)


def _find_spot(rng, world: World, pose, frame_size, want: str) -> np.ndarray:
    """A world point inside the middle of the view at `pose` that is water, land or anything, as wanted."""
    height, width = frame_size
    candidates = []
    for _ in range(80):
        u, v = rng.uniform(0.2, 0.8) * width, rng.uniform(0.25, 0.75) * height
        x, y = frame_to_world(pose, np.float64(u), np.float64(v), frame_size)
        point = np.array([float(x), float(y)])
        candidates.append(point)
        water = world.is_water(*point)
        if want == "any" or (want == "water") == water:
            if want != "water" or _clear_of_land(world, point, 6):
                return point
    return candidates[0]


def _clear_of_land(world: World, point: np.ndarray, radius: float) -> bool:
    angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    return all(world.is_water(point[0] + radius * np.cos(a), point[1] + radius * np.sin(a)) for a in angles)


def _car_on_road(rng, world: World, flight: Flight, size: float) -> Anomaly:
    """A car driving along the road, placed where the road is nearest the patrol at some moment."""
    road = world.roads[0]
    times = np.linspace(0, flight.duration, 60)
    centres = np.array([flight.pose(t)[:2] for t in times])
    distance = np.hypot(road[None, :, 0] - centres[:, None, 0], road[None, :, 1] - centres[:, None, 1])
    when, nearest = np.unravel_index(np.argmin(distance), distance.shape)
    steps = np.hypot(*np.diff(road, axis=0).T)
    along = np.concatenate([[0.0], np.cumsum(steps)])
    speed = float(rng.uniform(5, 14))
    path = road if rng.random() < 0.5 else road[::-1]
    if path is not road:
        nearest = len(road) - 1 - nearest
    offset = float(along[nearest] - speed * times[when])
    return Anomaly("car", 0.0, flight.duration, car_sprite(rng, size), path, offset, speed)
