"""What changes in an area from one patrol day to the next without anything being wrong: where the sun
stands (hill shading turns with it), the water level (the tide line creeps up the shore or falls back) and
the season (meadows go from fresh green in June to straw in September).

A day's look is applied once per flight to the whole world texture (`dress_world`), so it costs nothing per
frame; the per-frame light, clouds, waves and glint stay in `detection.synth.patrol.Conditions`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from detection.synth.noise import smoothstep
from detection.synth.world import SHALLOW_WATER, World

BAKED_SUN = (-0.55, -0.55)  # the sun direction `build_world` shades with (from the north-west)
BAKED_CONTRAST = 0.35
EARLY_SUMMER_TINT = np.array([0.94, 1.06, 0.94], dtype=np.float32)
EARLY_AUTUMN_TINT = np.array([1.20, 1.02, 0.76], dtype=np.float32)


@dataclass(frozen=True)
class DayLook:
    """One day's sun, water level and season."""

    sun_azimuth: float  # radians, world direction the light comes from (x right, y down)
    shading: float  # hill-shading contrast: low on a hazy day, high in low sun
    tide: float  # fraction of the shore band (world.SHORE_BAND) under water
    season: float  # 0 early summer .. 1 early autumn


def draw_day_look(rng: np.random.Generator, *, season: float) -> DayLook:
    """A plausible day: the sun within 50 degrees of the baked north-west, the tide up to 40% of the band."""
    baked = float(np.arctan2(BAKED_SUN[1], BAKED_SUN[0]))
    return DayLook(sun_azimuth=baked + float(rng.uniform(-0.87, 0.87)), shading=float(rng.uniform(0.22, 0.45)),
                   tide=float(rng.uniform(0.0, 0.4)), season=float(np.clip(season, 0, 1)))


def dress_world(world: World, look: DayLook) -> World:
    """The world as it looks on that day: relit, the tide line moved, the vegetation tinted for the season."""
    if world.surface is None:
        raise ValueError("the world was built without its surface channels (build_world(..., surface=True))")
    surface = world.surface.astype(np.float32) / 255
    normal_x, normal_y = surface[..., 0] * 2 - 1, surface[..., 1] * 2 - 1
    normal_z = np.sqrt(np.clip(1 - normal_x**2 - normal_y**2, 0, 1))
    colour = world.texture[..., :3].astype(np.float32) / 255
    water = world.texture[..., 3].astype(np.float32) / 255

    sun = 0.78 * np.array([np.cos(look.sun_azimuth), np.sin(look.sun_azimuth)])
    baked = np.clip(0.7 + BAKED_CONTRAST * (BAKED_SUN[0] * normal_x + BAKED_SUN[1] * normal_y + normal_z), 0.5, 1.2)
    today = np.clip(0.7 + look.shading * (sun[0] * normal_x + sun[1] * normal_y + normal_z), 0.5, 1.2)
    colour *= (today / baked)[..., None]

    tint = EARLY_SUMMER_TINT + (EARLY_AUTUMN_TINT - EARLY_SUMMER_TINT) * look.season
    colour *= 1 + surface[..., 3:4] * (tint - 1)

    height = np.where(world.land, surface[..., 2], -1.0)  # shore height; water stays water
    flooded = smoothstep(look.tide + 0.03, look.tide - 0.03, height) * world.land
    wet = smoothstep(look.tide + 0.18, look.tide, height) * world.land * (1 - flooded)
    colour *= (1 - 0.22 * wet)[..., None]
    colour = colour * (1 - flooded[..., None]) + SHALLOW_WATER * 0.95 * flooded[..., None]
    water = np.maximum(water, flooded)
    rgba = np.concatenate([np.clip(colour, 0, 1), water[..., None]], axis=-1)
    return replace(world, texture=(rgba * 255 + 0.5).astype(np.uint8))
