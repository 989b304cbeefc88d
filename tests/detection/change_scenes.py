"""Generated aerial-like scenes with known camera poses, for the CHANGE detector's alignment tests."""

from __future__ import annotations

import cv2
import numpy as np


def textured_world(seed: int = 0, size: int = 900) -> np.ndarray:
    """(size, size, 3) uint8: multi-scale colour noise with scattered rectangles, like fields, roofs and roads."""
    rng = np.random.default_rng(seed)
    image = np.full((size, size, 3), 120, np.float32)
    for sigma, amplitude in ((40, 60), (10, 40), (3, 25)):
        noise = cv2.GaussianBlur(rng.normal(0, 1, (size, size, 3)).astype(np.float32), (0, 0), sigma)
        image += amplitude * noise / (noise.std() + 1e-6)
    for _ in range(150):
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        x, y = (int(v) for v in rng.integers(0, size, 2))
        w, h = (int(v) for v in rng.integers(5, 40, 2))
        cv2.rectangle(image, (x, y), (x + w, y + h), colour, -1)
    return np.clip(image, 0, 255).astype(np.uint8)


def water(seed: int, size: tuple[int, int]) -> np.ndarray:
    """(H, W, 3) uint8 open water: a flat blue with faint waves and sensor noise, different for every seed."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    waves = 2.0 * np.sin((x * np.cos(angle) + y * np.sin(angle)) / 3.0 + rng.uniform(0, 6.3))
    noise = cv2.GaussianBlur(rng.normal(0, 1.5, (height, width)).astype(np.float32), (0, 0), 1.0)
    grey = waves + noise
    base = np.array([40, 80, 120], np.float32)
    return np.clip(base + grey[..., None], 0, 255).astype(np.uint8)


def camera(centre: tuple[float, float], angle_deg: float, scale: float, size: tuple[int, int]) -> np.ndarray:
    """(3, 3) map from frame pixel to world pixel of a nadir camera over `centre`, turned by `angle_deg`,
    `scale` world pixels per frame pixel."""
    width, height = size
    angle = np.radians(angle_deg)
    c, s = np.cos(angle) * scale, np.sin(angle) * scale
    to_centre = np.array([[1, 0, -(width - 1) / 2], [0, 1, -(height - 1) / 2], [0, 0, 1]])
    return np.array([[c, -s, centre[0]], [s, c, centre[1]], [0, 0, 1]]) @ to_centre


def render(world: np.ndarray, frame_to_world: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.warpPerspective(world, frame_to_world, size, flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR)


def reprojection_error(estimated: np.ndarray, true: np.ndarray, size: tuple[int, int]) -> float:
    """Largest distance (pixels) between the two homographies' images of a grid of reference pixels that land
    inside today's frame."""
    width, height = size
    ys, xs = np.mgrid[0:height:4, 0:width:4]
    points = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64).reshape(-1, 1, 2)
    a, b = cv2.perspectiveTransform(points, estimated), cv2.perspectiveTransform(points, true)
    inside = (b[..., 0] >= 0) & (b[..., 0] < width) & (b[..., 1] >= 0) & (b[..., 1] < height)
    return float(np.linalg.norm(a - b, axis=-1)[inside].max())


def pan_east(scene: np.ndarray, rng, count: int, size: tuple[int, int], step: int) -> list[np.ndarray]:
    """`count` (h, w, 3) uint8 frames of `size` (w, h) from `scene`, the camera moving `step` world pixels east
    per frame from (200, 200), each with its own sensor noise (drawn from `rng` frame by frame)."""
    frames = []
    for i in range(count):
        left = 200 + step * i
        frame = scene[200 : 200 + size[1], left : left + size[0]].astype(np.float32) + rng.normal(0, 2, (*size[::-1], 3))
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return frames


def pan_east_poses(path, times: np.ndarray, size: tuple[int, int], step: int):
    """A .npz pose sidecar at `path` for `pan_east`'s flight (1 world pixel = 1 m, 100 m up); returns its path."""
    from detection.telemetry import GeoOrigin, PoseTable

    count = len(times)
    east = 200 + step * np.arange(count, dtype=float) + size[0] / 2
    latitude, longitude = GeoOrigin(50.0, 4.0).to_latlon(east, np.full(count, -248.0))
    return PoseTable.from_columns(times, latitude, longitude, rel_alt=np.full(count, 100.0)).save(path)
