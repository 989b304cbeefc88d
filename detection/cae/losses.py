"""Reconstruction losses and per-pixel reconstruction errors for (B, C, H, W) images in [0, 1].

SSIM uses a Gaussian window applied as a separable, grouped convolution (one pass over the batch, no loop),
with reflected borders so that the map keeps the image size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SSIM_C1 = 0.01**2
SSIM_C2 = 0.03**2


def gaussian_kernel(sigma: float, *, device: torch.device, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(K,) normalised 1-D Gaussian, K = 2 * ceil(3 sigma) + 1."""
    radius = max(1, int(torch.tensor(3.0 * sigma).ceil()))
    offsets = torch.arange(-radius, radius + 1, device=device, dtype=dtype)
    kernel = torch.exp(-(offsets**2) / (2.0 * sigma**2))
    return kernel / kernel.sum()


def separable_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur of (B, C, H, W) per channel, borders reflected; the same shape back."""
    kernel = gaussian_kernel(sigma, device=images.device, dtype=images.dtype)
    radius = kernel.numel() // 2
    channels = images.shape[1]
    radius_h = min(radius, images.shape[-2] - 1)
    radius_w = min(radius, images.shape[-1] - 1)
    padded = F.pad(images, (radius_w, radius_w, radius_h, radius_h), mode="reflect")
    horizontal = kernel[radius - radius_w : radius + radius_w + 1].view(1, 1, 1, -1).expand(channels, 1, 1, -1)
    vertical = kernel[radius - radius_h : radius + radius_h + 1].view(1, 1, -1, 1).expand(channels, 1, -1, 1)
    blurred = F.conv2d(padded, horizontal / horizontal.sum(-1, keepdim=True), groups=channels)
    return F.conv2d(blurred, vertical / vertical.sum(-2, keepdim=True), groups=channels)


def box_blur(images: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over a (2r+1)^2 window of (B, C, H, W), borders replicated, by running sums (cost independent of r)."""
    if radius <= 0:
        return images
    size = 2 * radius + 1
    padded = F.pad(images, (radius + 1, radius, radius + 1, radius), mode="replicate")
    rows = padded.cumsum(-1)
    rows = rows[..., size:] - rows[..., :-size]  # (B, C, H + 2r + 1, W): window sums along x
    cols = rows.cumsum(-2)
    return (cols[..., size:, :] - cols[..., :-size, :]) / (size * size)


def ssim_map(x: torch.Tensor, y: torch.Tensor, *, sigma: float = 1.5) -> torch.Tensor:
    """Structural similarity per pixel and channel, (B, C, H, W) in [-1, 1]; 1 where x and y agree."""
    x, y = x.float(), y.float()
    stacked = torch.cat([x, y, x * x, y * y, x * y], dim=1)  # (B, 5C, H, W): one blur for all five
    mu_x, mu_y, xx, yy, xy = separable_blur(stacked, sigma).chunk(5, dim=1)
    var_x, var_y, cov = xx - mu_x**2, yy - mu_y**2, xy - mu_x * mu_y
    numerator = (2 * mu_x * mu_y + SSIM_C1) * (2 * cov + SSIM_C2)
    denominator = (mu_x**2 + mu_y**2 + SSIM_C1) * (var_x + var_y + SSIM_C2)
    return numerator / denominator


def pixel_error(x: torch.Tensor, reconstruction: torch.Tensor, kind: str, *, ssim_weight: float = 0.85) -> torch.Tensor:
    """(B, H, W) error of each pixel averaged over channels: 'l2', 'l1', 'ssim_l1' (see reconstruction_loss)
    or 'blurred_l1' (absolute value of the 5x5 mean of the signed difference)."""
    x, reconstruction = x.float(), reconstruction.float()
    if kind == "l2":
        return (x - reconstruction).pow(2).mean(dim=1)
    if kind == "l1":
        return (x - reconstruction).abs().mean(dim=1)
    if kind == "ssim_l1":
        structural = (1.0 - ssim_map(x, reconstruction)) / 2.0
        return (ssim_weight * structural + (1.0 - ssim_weight) * (x - reconstruction).abs()).mean(dim=1)
    if kind == "blurred_l1":
        # The signed difference averaged over 5x5 before the absolute value: texture the decoder blurs
        # leaves errors of both signs that cancel; an object leaves errors of one sign that do not.
        return box_blur(x - reconstruction, 2).abs().mean(dim=1)
    raise ValueError(f"unknown pixel error {kind!r}")


def reconstruction_loss(
    x: torch.Tensor, reconstruction: torch.Tensor, kind: str, *, ssim_weight: float = 0.85
) -> torch.Tensor:
    """Scalar training loss: 'mse', 'bce', or 'ssim_l1' = w * (1 - SSIM) / 2 + (1 - w) * L1 (computed in float32)."""
    if kind == "mse":
        return F.mse_loss(reconstruction.float(), x.float())
    if kind == "bce":
        return F.binary_cross_entropy(reconstruction.float().clamp(1e-6, 1 - 1e-6), x.float())
    if kind == "ssim_l1":
        return pixel_error(x, reconstruction, "ssim_l1", ssim_weight=ssim_weight).mean()
    raise ValueError(f"unknown loss {kind!r}")
