"""Render one camera frame of a patrol: sample the world texture through the camera pose, then add waves,
anomalies, sun glint, cloud shadows, the day's light, vignetting and sensor noise. Numpy-vectorised.

`Renderer.render(t, index)` returns the frame as (H, W, 3) float32 RGB in 0..1 and, for each anomaly in
view, its pixel mask (where its alpha is at least `MASK_ALPHA`): the ground truth comes from the same pass
that draws the pixels, so the two cannot disagree. Fixtures (the patrol presets' everyday objects) are drawn
the same way but are normal, so they get no mask; a `vanished` anomaly is not drawn, and its mask is where
it would have been.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detection.synth.anomalies import VANISHED, Anomaly
from detection.synth.camera import frame_to_world, view_grid, world_to_frame
from detection.synth.noise import fractal_noise, sample_periodic, sample_rgba8, smoothstep, upsample
from detection.synth.patrol import Conditions, Flight
from detection.synth.sprites import sample_sprite
from detection.synth.world import World

MASK_ALPHA = 0.2
SENSOR_NOISE = 0.012


@dataclass(frozen=True)
class Textures:
    """Tileable textures shared by every day of an area: wave ripples and cloud cover."""

    waves: np.ndarray  # (256, 256)
    clouds: np.ndarray  # (512, 512)

    @classmethod
    def for_area(cls, seed: int) -> Textures:
        rng = np.random.default_rng([seed, 5])
        return cls(waves=fractal_noise(rng, 256, 256, beta=1.3, cutoff=0.7),
                   clouds=fractal_noise(rng, 512, 512, beta=2.6))


class Renderer:
    """Frames of one video: a world, the day's flight and conditions, and the anomalies placed in it."""

    def __init__(self, world: World, flight: Flight, conditions: Conditions, anomalies: list[Anomaly], *,
                 size: tuple[int, int], seed: int, textures: Textures, foreign: World | None = None,
                 fixtures: tuple[Anomaly, ...] = (), ripple_step: int = 1):
        self.world, self.flight, self.conditions, self.fixtures = world, flight, conditions, tuple(fixtures)
        self.ripple_step = ripple_step  # waves sampled every n-th pixel and interpolated (cheaper at 720p)
        self.anomalies, self.size, self.seed = anomalies, size, seed
        self.textures, self.foreign = textures, foreign
        height, width = size
        v, u = np.mgrid[0:height, 0:width].astype(np.float32)
        r2 = ((u - width / 2) / width) ** 2 + ((v - height / 2) / height) ** 2
        self.vignette = (1.0 - 0.35 * r2)[..., None].astype(np.float32)
        cx, cy = conditions.glint_at
        spot = np.exp(-(((u / width - cx) ** 2 + (v / height - cy) ** 2) / 0.05))
        self.glint_spot = spot.astype(np.float32)
        rng = np.random.default_rng([seed, 6])
        self.noise = SENSOR_NOISE * rng.standard_normal((height + 16, width + 16, 3), dtype=np.float32)

    def light_gain(self, t: float) -> float:
        """The light level at t: the day's gain, times the hard-normal light change once it has happened."""
        c = self.conditions
        if c.light_change_at is None:
            return c.gain
        ramp = float(smoothstep(c.light_change_at, c.light_change_at + 0.3, np.float64(t)))
        return c.gain * (1 + (c.light_change_factor - 1) * ramp)

    def render(self, t: float, index: int, *, skip: tuple[int, ...] = (),
               skip_fixtures: tuple[int, ...] = ()) -> tuple[np.ndarray, list]:
        """Frame `index` at `t` seconds: (H, W, 3) float32 and [(anomaly index, (H, W) bool mask), ...].

        Anomalies whose index is in `skip`, and fixtures in `skip_fixtures`, are left out (to compare a frame
        with and without one).
        """
        c = self.conditions
        height, width = self.size
        pose = self.flight.pose(t)
        wx, wy = view_grid(pose, self.size)
        active = [(i, a) for i, a in enumerate(self.anomalies) if i not in skip and a.active(t)]
        foreign = self.foreign is not None and any(a.anomaly_class == "foreign_scene" for _, a in active)
        texture = sample_rgba8((self.foreign if foreign else self.world).texture, wx, wy)
        rgb, water = np.ascontiguousarray(texture[..., :3]), np.ascontiguousarray(texture[..., 3])

        ripple = self._ripple(wx, wy, t)
        rgb *= (1 + c.wave_amplitude * water * ripple)[..., None]

        for i, fixture in enumerate(self.fixtures):
            if i not in skip_fixtures:
                self._draw_object(rgb, water, fixture, t, pose)
        masks = []
        for i, anomaly in active:
            if anomaly.anomaly_class == VANISHED:
                where = self._object_alpha(anomaly, t, pose)
                if where is not None and (where[1] >= MASK_ALPHA).any():
                    masks.append((i, self._full_mask(where[0], where[1])))
                continue
            if anomaly.is_frame_level:
                masks.append((i, np.ones(self.size, dtype=bool)))
                continue
            drawn = self._draw_object(rgb, water, anomaly, t, pose)
            if drawn is not None:
                masks.append((i, drawn))

        rgb += (smoothstep(0.8, 2.2, ripple) * water * self.glint_spot * c.glint_strength)[..., None]
        # Cloud cover is smooth: sample it on a coarse lattice and interpolate.
        cu = np.linspace(0, width - 1, width // 8 + 2, dtype=np.float32)
        cv = np.linspace(0, height - 1, height // 8 + 2, dtype=np.float32)
        cx, cy = frame_to_world(pose, cu[None, :], cv[:, None], self.size)
        cover = sample_periodic(self.textures.clouds, (cx + c.wind[0] * t) / 3.0, (cy + c.wind[1] * t) / 3.0)
        shadow = smoothstep(1.2 - 2.4 * c.cloud_cover, 1.8 - 2.4 * c.cloud_cover, cover) * c.cloud_strength
        light = upsample(1 - shadow, height, width) * self.vignette[..., 0] * (self.light_gain(t) * (1 - c.haze))
        rgb *= light[..., None]
        rgb *= np.asarray(c.tint, dtype=np.float32)
        rgb += (self.vignette * np.float32(0.75 * c.haze))
        for _, anomaly in active:
            if anomaly.anomaly_class == "colour":
                rgb = _recolour(rgb, anomaly.mode)
        # Sensor noise: a window of a fixed noise field, shifted differently each frame (cheaper than fresh noise).
        dy, dx = np.random.default_rng([self.seed, 6, index]).integers(0, 16, size=2)
        rgb += self.noise[dy : dy + height, dx : dx + width]
        return np.clip(rgb, 0, 1), masks

    def _ripple(self, wx: np.ndarray, wy: np.ndarray, t: float) -> np.ndarray:
        """The wave pattern on the view's world points (two ripple fields drifting with the wind)."""
        c, step = self.conditions, self.ripple_step
        if step > 1:
            wx, wy = wx[::step, ::step], wy[::step, ::step]
        dx, dy = np.cos(c.wave_angle), np.sin(c.wave_angle)
        ripple = sample_periodic(self.textures.waves, wx * 0.9 + dx * 9 * t, wy * 0.9 + dy * 9 * t)
        ripple *= 0.6
        ripple += 0.4 * sample_periodic(self.textures.waves, wy * 0.6 - dy * 5 * t + 97, wx * 0.6 + dx * 5 * t + 31)
        return ripple if step == 1 else upsample(ripple, *self.size)

    def _object_alpha(self, anomaly: Anomaly, t: float, pose):
        """(frame window, alpha (h, w), rgb (h, w, 3)) of one object's sprite in view, or None if out of view."""
        height, width = self.size
        x, y, angle = anomaly.pose_at(t)
        sprite = anomaly.sprite_at(t)
        u, v = world_to_frame(pose, x, y, self.size)
        reach = sprite.radius / pose[3] + 2
        u0, u1 = max(int(np.floor(u - reach)), 0), min(int(np.ceil(u + reach)) + 1, width)
        v0, v1 = max(int(np.floor(v - reach)), 0), min(int(np.ceil(v + reach)) + 1, height)
        if u0 >= u1 or v0 >= v1:
            return None
        vv, uu = np.mgrid[v0:v1, u0:u1].astype(np.float32)
        px, py = frame_to_world(pose, uu, vv, self.size)
        rgba = sample_sprite(sprite, px, py, x, y, angle)
        return (slice(v0, v1), slice(u0, u1)), rgba[..., 3], rgba[..., :3]

    def _full_mask(self, window, alpha) -> np.ndarray:
        """A frame-sized mask that is True inside `window` where the sprite's alpha reaches MASK_ALPHA."""
        mask = np.zeros(self.size, dtype=bool)
        mask[window] = alpha >= MASK_ALPHA
        return mask

    def _draw_object(self, rgb, water, anomaly: Anomaly, t: float, pose) -> np.ndarray | None:
        """Composite one object into `rgb` (and hide the water under it); its mask, or None if out of view."""
        where = self._object_alpha(anomaly, t, pose)
        if where is None:
            return None
        window, alpha, colour = where
        rgb[window] = rgb[window] * (1 - alpha[..., None]) + colour * alpha[..., None]
        water[window] = water[window] * (1 - alpha)
        mask = self._full_mask(window, alpha)
        return mask if mask.any() else None


def _recolour(rgb: np.ndarray, mode: str) -> np.ndarray:
    """The dataset 1 'wrong colour' frames: channels swapped, a magenta cast, or drained of colour."""
    if mode == "swap":
        return rgb[..., [2, 0, 1]]
    if mode == "magenta":
        return rgb * np.array([1.5, 0.55, 1.45], dtype=np.float32)
    grey = rgb.mean(axis=-1, keepdims=True)
    return np.repeat(grey * 1.2, 3, axis=-1)
