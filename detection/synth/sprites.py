"""Small RGBA pictures of things seen from above (boats with wakes, people, cars, drones, debris, fire, smoke,
cottages), and the one function that samples a sprite placed in world coordinates.

A sprite is (h, w, 4) float32, straight alpha, drawn with its forward direction along +x; `anchor` is the
sprite pixel (x, y) that sits on the object's world position.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detection.synth.noise import fractal_noise, sample_clamped, smoothstep

HULL_COLOURS = np.array([[0.93, 0.93, 0.92], [0.80, 0.12, 0.10], [0.10, 0.16, 0.35], [0.95, 0.80, 0.15]])
JACKET_COLOURS = np.array([[0.95, 0.35, 0.05], [0.90, 0.10, 0.10], [0.98, 0.85, 0.10], [0.15, 0.35, 0.85]])
CAR_COLOURS = np.array([[0.85, 0.85, 0.86], [0.07, 0.07, 0.08], [0.65, 0.08, 0.08], [0.15, 0.30, 0.65]])


@dataclass(frozen=True)
class Sprite:
    rgba: np.ndarray  # (h, w, 4) float32
    anchor: tuple[float, float]

    @property
    def radius(self) -> float:
        """Distance from the anchor to the farthest corner, in sprite pixels (for culling)."""
        h, w = self.rgba.shape[:2]
        ax, ay = self.anchor
        return float(np.hypot(max(ax, w - ax), max(ay, h - ay)))


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return xs, ys


def _paint(layers: list[tuple[np.ndarray, np.ndarray]], shape: tuple[int, int]) -> np.ndarray:
    """Stack (alpha (h, w), rgb (3,) or (h, w, 3)) layers, first at the bottom, into one RGBA sprite."""
    rgba = np.zeros(shape + (4,), dtype=np.float32)
    for alpha, rgb in layers:
        a = np.clip(alpha, 0, 1)[..., None].astype(np.float32)
        out_a = a + rgba[..., 3:] * (1 - a)
        rgb_sum = np.asarray(rgb, np.float32) * a + rgba[..., :3] * rgba[..., 3:] * (1 - a)
        rgba[..., :3] = np.where(out_a > 0, rgb_sum / np.maximum(out_a, 1e-6), 0)
        rgba[..., 3:] = out_a
    return rgba


def boat_sprite(rng: np.random.Generator, length: float, *, wake: bool) -> Sprite:
    """A hull pointing along +x with a cabin, and behind it (if moving) a V-shaped foam wake."""
    beam = max(length * 0.32, 1.5)
    wake_length = length * 2.5 if wake else 0.0
    w = int(np.ceil(length + wake_length + 4))
    h = int(np.ceil(max(beam, wake_length * 0.55) + 4))
    xs, ys = _grid(h, w)
    bow_x = w - 2.0
    cy = (h - 1) / 2
    stern_x = bow_x - length
    t = (xs - stern_x) / length  # 0 at the stern, 1 at the bow
    half = 0.5 * beam * np.sqrt(np.clip(1 - np.clip((t - 0.55) / 0.45, 0, 1) ** 2, 0, 1))
    hull = smoothstep(0.5, -0.5, np.abs(ys - cy) - half) * ((t >= -0.02) & (t <= 1.0))
    hull_rgb = HULL_COLOURS[rng.integers(len(HULL_COLOURS))]
    cabin = (np.abs(ys - cy) < beam * 0.25) & (t > 0.25) & (t < 0.55)
    layers = []
    if wake:
        behind = np.clip(stern_x - xs, 0, None)
        arms = np.abs(np.abs(ys - cy) - 0.36 * behind)
        fade = np.exp(-behind / (0.45 * wake_length))
        foam = np.exp(-((arms / (0.6 + 0.08 * behind)) ** 2)) * fade * (behind > 0)
        wash = np.exp(-(((ys - cy) / (0.35 * beam + 0.05 * behind)) ** 2)) * np.exp(-behind / (0.25 * wake_length))
        wash = wash * (behind > 0)
        layers.append((0.85 * np.maximum(foam, wash), np.array([0.85, 0.90, 0.90])))
    layers.append((hull, hull_rgb))
    layers.append((cabin * 0.9, np.array([0.35, 0.38, 0.42])))
    return Sprite(_paint(layers, (h, w)), anchor=(stern_x + length / 2, cy))


def person_sprite(rng: np.random.Generator, size: float) -> Sprite:
    """A person from above: a bright jacket with a darker head, `size` pixels across."""
    n = int(np.ceil(size + 4))
    xs, ys = _grid(n, n)
    c = (n - 1) / 2
    body = smoothstep(0.5, -0.5, np.hypot((xs - c) / 0.7, ys - c) - size / 2)
    head = smoothstep(0.5, -0.5, np.hypot(xs - c - size * 0.1, ys - c) - size * 0.22)
    jacket = JACKET_COLOURS[rng.integers(len(JACKET_COLOURS))]
    return Sprite(_paint([(body, jacket), (head, np.array([0.25, 0.18, 0.12]))], (n, n)), anchor=(c, c))


def car_sprite(rng: np.random.Generator, length: float) -> Sprite:
    """A car along +x: body, dark windscreens, lighter roof."""
    width = length * 0.48
    w, h = int(np.ceil(length + 4)), int(np.ceil(width + 4))
    xs, ys = _grid(h, w)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    rounded = np.hypot(np.clip(np.abs(xs - cx) - (length / 2 - 1.2), 0, None),
                       np.clip(np.abs(ys - cy) - (width / 2 - 1.2), 0, None))
    body = smoothstep(1.7, 0.7, rounded)
    glass = (np.abs(ys - cy) < width * 0.36) & (np.abs(xs - cx - length * 0.12) < length * 0.28)
    roof = (np.abs(ys - cy) < width * 0.30) & (np.abs(xs - cx - length * 0.05) < length * 0.16)
    paint = CAR_COLOURS[rng.integers(len(CAR_COLOURS))]
    layers = [(body, paint), (glass * 0.95, np.array([0.08, 0.10, 0.12])), (roof * 1.0, paint * 0.9 + 0.08)]
    return Sprite(_paint(layers, (h, w)), anchor=(cx, cy))


def drone_sprite(span: float) -> Sprite:
    """A quadcopter from above: X-shaped arms, a body, four rotor discs blurred by spinning."""
    n = int(np.ceil(span + 4))
    xs, ys = _grid(n, n)
    c = (n - 1) / 2
    u, v = (xs - c + ys - c) / np.sqrt(2), (xs - c - (ys - c)) / np.sqrt(2)
    arm_w = max(span * 0.06, 0.6)
    arms = ((np.abs(u) < arm_w) | (np.abs(v) < arm_w)) & (np.hypot(xs - c, ys - c) < span * 0.36)
    body = np.hypot(xs - c, ys - c) < span * 0.14
    rotor_r = span * 0.17
    rotors = np.zeros_like(xs)
    for sx in (-1, 1):
        for sy in (-1, 1):
            d = np.hypot(xs - c - sx * span * 0.30, ys - c - sy * span * 0.30)
            rotors = np.maximum(rotors, smoothstep(0.6, -0.6, d - rotor_r))
    layers = [(rotors * 0.55, np.array([0.75, 0.75, 0.78])), (arms * 1.0, np.array([0.12, 0.12, 0.13])),
              (body * 1.0, np.array([0.85, 0.85, 0.88]))]
    return Sprite(_paint(layers, (n, n)), anchor=(c, c))


def debris_sprite(rng: np.random.Generator, size: float) -> Sprite:
    """Floating debris: a cluster of planks, barrels and buoys in drab or signal colours."""
    n = int(np.ceil(size + 4))
    xs, ys = _grid(n, n)
    palette = np.array([[0.45, 0.32, 0.18], [0.95, 0.45, 0.05], [0.10, 0.30, 0.75], [0.92, 0.92, 0.90]])
    layers = []
    for _ in range(int(rng.integers(1, 5))):
        px, py = rng.uniform(2, n - 2, size=2)
        half_l, half_w = rng.uniform(0.2, 0.5) * size, rng.uniform(0.1, 0.25) * size
        a = rng.uniform(0, np.pi)
        u = (xs - px) * np.cos(a) + (ys - py) * np.sin(a)
        v = -(xs - px) * np.sin(a) + (ys - py) * np.cos(a)
        piece = smoothstep(0.5, -0.5, np.maximum(np.abs(u) - half_l, np.abs(v) - max(half_w, 0.6)))
        layers.append((piece, palette[rng.integers(len(palette))]))
    return Sprite(_paint(layers, (n, n)), anchor=((n - 1) / 2, (n - 1) / 2))


def house_sprite(rng: np.random.Generator) -> Sprite:
    """A small cottage roof with a lit and a shaded side."""
    length, width = rng.uniform(7, 12), rng.uniform(5, 7)
    w, h = int(np.ceil(length + 2)), int(np.ceil(width + 2))
    xs, ys = _grid(h, w)
    cy = (h - 1) / 2
    roof = (np.abs(xs - (w - 1) / 2) <= length / 2) & (np.abs(ys - cy) <= width / 2)
    roof_rgb = np.array([0.55, 0.16, 0.12]) if rng.random() < 0.6 else np.array([0.35, 0.35, 0.37])
    shade = np.where(ys < cy, 1.1, 0.75)[..., None] * roof_rgb
    return Sprite(_paint([(roof * 1.0, shade)], (h, w)), anchor=((w - 1) / 2, cy))


class FireSprite:
    """Flames flickering over time: a bright core inside an orange and red flicker, `size` pixels across."""

    def __init__(self, rng: np.random.Generator, size: float):
        self.size = size
        self.n = int(np.ceil(size * 1.3 + 4))
        self.noise = fractal_noise(rng, 64, 64, beta=1.6)

    def at(self, t: float) -> Sprite:
        n, c = self.n, (self.n - 1) / 2
        xs, ys = _grid(n, n)
        flicker = self.noise[(ys.astype(int) * 3 + int(t * 25)) % 64, (xs.astype(int) * 3) % 64]
        r = np.hypot(xs - c, ys - c) / (self.size / 2) - 0.25 * flicker
        flames = smoothstep(1.0, 0.6, r)
        core = smoothstep(0.55, 0.1, r)
        layers = [(flames, np.array([0.90, 0.25, 0.05])), (core, np.array([1.0, 0.85, 0.35]))]
        return Sprite(_paint(layers, (n, n)), anchor=(c, c))


class SmokeSprite:
    """A smoke plume drifting along +x from its source, widening downwind; the texture scrolls with the wind."""

    def __init__(self, rng: np.random.Generator, length: float, *, dark: bool = False):
        self.length = length
        self.width = length * 0.45
        self.w, self.h = int(np.ceil(length + 4)), int(np.ceil(self.width + 4))
        self.noise = fractal_noise(rng, 128, 128, beta=2.2)
        self.rgb = np.array([0.30, 0.29, 0.28]) if dark else np.array([0.82, 0.82, 0.80])

    def at(self, t: float) -> Sprite:
        xs, ys = _grid(self.h, self.w)
        cy = (self.h - 1) / 2
        along = (xs - 2) / self.length  # 0 at the source
        spread = 0.08 + 0.42 * np.clip(along, 0, 1)
        envelope = np.exp(-(((ys - cy) / (self.width * spread + 1e-3)) ** 2)) * smoothstep(1.0, 0.55, along)
        envelope = envelope * smoothstep(-0.02, 0.04, along)
        scale = 128.0 / max(self.length, 1.0)
        texture = sample_clamped(self.noise[..., None], ((xs - 6 * t) * scale) % 127, (ys * scale) % 127)[..., 0]
        density = envelope * smoothstep(-1.2, 1.0, texture)
        return Sprite(_paint([(0.85 * density, self.rgb)], (self.h, self.w)), anchor=(2.0, cy))


def sample_sprite(sprite: Sprite, px: np.ndarray, py: np.ndarray, x: float, y: float, angle: float) -> np.ndarray:
    """RGBA of `sprite` (anchor at world (x, y), forward along `angle` radians) at world points px, py: S + (4,)."""
    cos, sin = np.cos(angle), np.sin(angle)
    dx, dy = px - x, py - y
    ax, ay = sprite.anchor
    lx = cos * dx + sin * dy + ax + 1  # +1: the zero border added below
    ly = -sin * dx + cos * dy + ay + 1
    padded = np.pad(sprite.rgba, ((1, 1), (1, 1), (0, 0)))
    inside = (lx >= 0) & (ly >= 0) & (lx <= padded.shape[1] - 1) & (ly <= padded.shape[0] - 1)
    rgba = sample_clamped(padded, lx, ly)
    return rgba * inside[..., None]


def stamp_sprite(canvas: np.ndarray, sprite: Sprite, x: float, y: float, angle: float) -> None:
    """Composite `sprite` into an (H, W, 3) canvas in place, anchor at canvas point (x, y)."""
    r = sprite.radius + 1
    x0, x1 = max(int(x - r), 0), min(int(x + r) + 2, canvas.shape[1])
    y0, y1 = max(int(y - r), 0), min(int(y + r) + 2, canvas.shape[0])
    if x0 >= x1 or y0 >= y1:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    rgba = sample_sprite(sprite, xs, ys, x, y, angle)
    alpha = rgba[..., 3:]
    canvas[y0:y1, x0:x1] = canvas[y0:y1, x0:x1] * (1 - alpha) + rgba[..., :3] * alpha


def buoy_sprite(size: float) -> Sprite:
    """A mooring buoy from above: a red disc with a white band and a dark top, `size` pixels across."""
    n = int(np.ceil(size + 4))
    xs, ys = _grid(n, n)
    c = (n - 1) / 2
    r = np.hypot(xs - c, ys - c)
    disc = smoothstep(0.5, -0.5, r - size / 2)
    band = smoothstep(0.5, -0.5, np.abs(r - size * 0.3) - max(size * 0.08, 0.4))
    top = smoothstep(0.5, -0.5, r - max(size * 0.12, 0.5))
    layers = [(disc, np.array([0.85, 0.12, 0.08])), (band, np.array([0.95, 0.95, 0.93])),
              (top, np.array([0.15, 0.12, 0.12]))]
    return Sprite(_paint(layers, (n, n)), anchor=(c, c))


def jetty_sprite(length: float, width: float) -> Sprite:
    """A wooden jetty along +x, anchored at its landward end: weathered planks with dark seams."""
    w, h = int(np.ceil(length + 2)), int(np.ceil(width + 2))
    xs, ys = _grid(h, w)
    deck = (xs >= 1) & (xs <= length + 1) & (np.abs(ys - (h - 1) / 2) <= width / 2)
    seams = 0.82 + 0.18 * (np.cos(xs * np.pi / 1.5) > -0.7)
    wood = np.array([0.52, 0.46, 0.38])[None, None, :] * seams[..., None]
    return Sprite(_paint([(deck * 1.0, wood)], (h, w)), anchor=(1.0, (h - 1) / 2))
