"""Tileable fractal noise (spectral synthesis with numpy FFTs) and periodic bilinear sampling.

Everything the renderer draws from (terrain height, wave ripples, cloud cover, smoke density) is made of
this noise, so one seeded generator decides the whole look of an area.
"""

from __future__ import annotations

import numpy as np


def fractal_noise(
    rng: np.random.Generator, height: int, width: int, *, beta: float = 2.0, cutoff: float = 1.0
) -> np.ndarray:
    """(height, width) float32 tileable noise with a 1/f^beta power spectrum, scaled to mean 0, std 1.

    Larger `beta` gives smoother noise (2 is terrain-like); frequencies above `cutoff` (cycles per pixel
    relative to Nyquist, 0..1) are removed.
    """
    white = rng.standard_normal((height, width))
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    radius = np.sqrt(fx * fx + fy * fy)
    radius[0, 0] = 1.0
    amplitude = radius ** (-beta / 2.0)
    amplitude[0, 0] = 0.0
    amplitude[radius > 0.5 * cutoff] = 0.0
    field = np.fft.irfft2(np.fft.rfft2(white) * amplitude, s=(height, width))
    field -= field.mean()
    field /= field.std() + 1e-12
    return field.astype(np.float32)


def sample_periodic(texture: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear samples of a tileable 2-D float32 `texture` (sides powers of two) at float coordinates, wrapping."""
    height, width = texture.shape
    x0f, y0f = np.floor(x), np.floor(y)
    fx, fy = (x - x0f).astype(np.float32), (y - y0f).astype(np.float32)
    x0 = x0f.astype(np.int32) & (width - 1)
    y0 = y0f.astype(np.int32) & (height - 1)
    x1 = (x0 + 1) & (width - 1)
    row0, row1 = y0 * width, ((y0 + 1) & (height - 1)) * width
    flat = texture.ravel()
    return _lerp_corners(flat[row0 + x0], flat[row0 + x1], flat[row1 + x0], flat[row1 + x1], fx, fy)


def _lerp_corners(top, top_right, bottom, bottom_right, fx, fy) -> np.ndarray:
    """Bilinear blend of four float32 corner samples (fresh arrays: updated in place to save memory)."""
    top_right -= top
    top_right *= fx
    top += top_right
    bottom_right -= bottom
    bottom_right *= fx
    bottom += bottom_right
    bottom -= top
    bottom *= fy
    top += bottom
    return top


def _bilinear(gather, x: np.ndarray, y: np.ndarray, width: int, height: int) -> np.ndarray:
    x = np.clip(x, 0, width - 1.001).astype(np.float32)
    y = np.clip(y, 0, height - 1.001).astype(np.float32)
    x0, y0 = x.astype(np.int32), y.astype(np.int32)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    index = y0 * width + x0
    return _lerp_corners(gather(index), gather(index + 1), gather(index + width), gather(index + width + 1), fx, fy)


def sample_clamped(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear samples of an (H, W, C) float image at float coordinates (any shape S), clamped: S + (C,)."""
    height, width = image.shape[:2]
    flat = image.reshape(height * width, -1)
    return _bilinear(lambda index: flat[index].astype(np.float32), x, y, width, height)


def sample_rgba8(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear samples of an (H, W, 4) uint8 image, clamped, as float32 in 0..1: S + (4,).

    Each pixel is gathered as one 32-bit word, several times faster than gathering float rows.
    """
    height, width = image.shape[:2]
    words = np.ascontiguousarray(image).reshape(-1).view(np.uint32)

    def gather(index):
        return words[index].view(np.uint8).reshape(index.shape + (4,)).astype(np.float32)

    return _bilinear(gather, x, y, width, height) * np.float32(1 / 255)


def upsample(coarse: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize of a 2-D array to (height, width), corners aligned."""
    ch, cw = coarse.shape
    ry = np.linspace(0, ch - 1, height, dtype=np.float32)
    rx = np.linspace(0, cw - 1, width, dtype=np.float32)
    y0 = np.minimum(ry.astype(np.int32), ch - 2)
    x0 = np.minimum(rx.astype(np.int32), cw - 2)
    fy, fx = (ry - y0)[:, None], (rx - x0)[None, :]
    rows = coarse[y0] * (1 - fy) + coarse[y0 + 1] * fy
    return rows[:, x0] * (1 - fx) + rows[:, x0 + 1] * fx


def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    """0 below edge0, 1 above edge1, a smooth cubic between."""
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3 - 2 * t)
