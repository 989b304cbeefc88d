"""What the CHANGE detector compares: frames at the analysis size, their colour detail and their CNN features.

- `analysis_frame`: a frame resized (area interpolation) so it is at most `analysis_width` wide.
- `Grid`: the comparison grid, one cell per `stride` analysis pixels; both branches produce maps on it.
- `colour_detail`: log intensity per channel minus its large-scale component (a Gaussian blur of a fraction
  of the frame width), at twice the grid's resolution. Light and cloud shadows change the large-scale
  component (a multiplicative change is an additive one in log intensity); smoke, debris and cars change the
  detail.
- `CNNFeatures`: MobileNetV2 (ImageNet, the offline file) truncated after an early block (block 6: stride 8,
  32 channels), so an object of a few grid cells still has its own feature vector. Inputs are resized to
  `grid width * 8 * input_scale` pixels wide (input_scale 1: the feature map lands on the grid; 0.5: half the
  cost per side, the map upsampled to the grid), whatever the frame size.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval
from torchvision import models

from detection.features.weights import load_state_dict, weights_info

CNN_STRIDE = 8


@dataclass(frozen=True)
class Grid:
    """The comparison grid of frames of `width` x `height` analysis pixels: `cells` (w, h) and their stride."""

    width: int
    height: int
    stride: int

    @property
    def cells(self) -> tuple[int, int]:
        return max(1, round(self.width / self.stride)), max(1, round(self.height / self.stride))

    @property
    def detail_cells(self) -> tuple[int, int]:
        """Colour detail resolution: twice the grid's, never above the frame's own."""
        w, h = self.cells
        return min(self.width, 2 * w), min(self.height, 2 * h)


def analysis_size(width: int, height: int, analysis_width: int) -> tuple[int, int]:
    """(w, h) of a `width` x `height` frame capped at `analysis_width` wide (aspect kept)."""
    if width <= analysis_width:
        return width, height
    return analysis_width, max(1, round(height * analysis_width / width))


def analysis_frame(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(h, w, 3) uint8 RGB at `size` (w, h)."""
    frame = np.ascontiguousarray(frame)
    if (frame.shape[1], frame.shape[0]) == tuple(size):
        return frame
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def resized(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`frame` at `size` (w, h): area interpolation when shrinking (no aliasing), bilinear when enlarging."""
    if (frame.shape[1], frame.shape[0]) == tuple(size):
        return np.ascontiguousarray(frame)
    shrink = size[0] < frame.shape[1]
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def grid_for(width: int, height: int, grid_width: int) -> Grid:
    """The grid of `grid_width` cells across (fewer when the frame has fewer pixels)."""
    stride = max(1, round(width / grid_width))
    return Grid(width, height, stride)


def colour_detail(frame: np.ndarray, grid: Grid, background_sigma: float, support: np.ndarray | None = None
                  ) -> np.ndarray:
    """(h2, w2, 3) float32 log intensity minus its large-scale component, at `grid.detail_cells`.

    With `support` ((h2, w2) bool: the pixels both frames of a pair show), the large-scale component is the
    Gaussian-weighted mean of the supported pixels only (normalised convolution), so two frames compared on the
    same support have their detail measured against the same neighbourhoods: near the edge of the part they
    share, neither frame's background borrows from pixels the other does not have (a padded or reflected edge),
    which would otherwise show as a change along every frame and coverage edge. Unsupported pixels are 0."""
    small = frame if (frame.shape[1], frame.shape[0]) == tuple(grid.detail_cells) else \
        cv2.resize(frame, grid.detail_cells, interpolation=cv2.INTER_AREA)
    logs = np.log1p(small.astype(np.float32))
    sigma = max(0.5, background_sigma * grid.detail_cells[0])
    if support is None:
        background = cv2.GaussianBlur(logs, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT)
        return logs - background
    weight = support.astype(np.float32)
    blurred = cv2.GaussianBlur(logs * weight[..., None], (0, 0), sigmaX=sigma, borderType=cv2.BORDER_CONSTANT)
    total = cv2.GaussianBlur(weight, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_CONSTANT)
    background = blurred / np.maximum(total, 1e-6)[..., None]
    return np.where(support[..., None], logs - background, np.float32(0.0)).astype(np.float32)


def jpeg_bytes(frame: np.ndarray, quality: int) -> bytes:
    """RGB uint8 frame -> JPEG bytes."""
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return encoded.tobytes()


def decode_jpeg(data: bytes | np.ndarray) -> np.ndarray | None:
    """JPEG bytes -> (h, w, 3) uint8 RGB, or None when they do not decode."""
    buffer = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else np.asarray(data, dtype=np.uint8)
    image = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    return None if image is None else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def fuse_batch_norms(module: nn.Module) -> nn.Module:
    """Fold every BatchNorm2d that follows a Conv2d into the convolution (eval only: same outputs, fewer passes)."""
    for child in module.children():
        fuse_batch_norms(child)
    if isinstance(module, nn.Sequential):
        names = list(module._modules)
        for first, second in zip(names, names[1:]):
            conv, norm = module._modules[first], module._modules[second]
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                module._modules[first] = fuse_conv_bn_eval(conv, norm)
                module._modules[second] = nn.Identity()
    return module


class CNNFeatures:
    """Early MobileNetV2 feature maps on the comparison grid: (B, H, W, 3) uint8 -> (B, C, gh, gw) float32."""

    def __init__(self, block: int = 6, *, device: torch.device | str = "cpu", pretrained: bool = True,
                 input_scale: float = 1.0):
        self.input_scale = float(input_scale)
        network = models.mobilenet_v2(weights=None)
        if pretrained:
            state, _ = load_state_dict("mobilenet_v2")
            network.load_state_dict(state)
        preprocessing = weights_info("mobilenet_v2").weights.transforms()
        self.device = torch.device(device)
        # channels-last runs the depthwise convolutions of MobileNetV2 markedly faster on the CPU
        self.trunk = fuse_batch_norms(network.features[: block + 1].eval()).to(self.device,
                                                                               memory_format=torch.channels_last)
        self.mean = torch.tensor(preprocessing.mean, device=self.device).view(1, 3, 1, 1)
        self.std = torch.tensor(preprocessing.std, device=self.device).view(1, 3, 1, 1)

    def input_size(self, grid: Grid) -> tuple[int, int]:
        """(h, w) pixels the CNN sees for frames on `grid`."""
        cells_w, cells_h = grid.cells
        return round(cells_h * CNN_STRIDE * self.input_scale), round(cells_w * CNN_STRIDE * self.input_scale)

    @torch.inference_mode()
    def native(self, frames: np.ndarray, grid: Grid) -> torch.Tensor:
        """(B, C, fh, fw) float32 feature maps at the network's own stride (before resampling to the grid)."""
        height, width = self.input_size(grid)
        frames = np.stack([resized(frame, (width, height)) for frame in frames])
        images = torch.from_numpy(frames).to(self.device).permute(0, 3, 1, 2).float()  # channels last in memory
        images = (images / 255.0 - self.mean) / self.std
        return self.trunk(images).float().contiguous()

    @staticmethod
    def to_grid(maps: torch.Tensor, grid: Grid) -> torch.Tensor:
        """(B, C, fh, fw) native maps resampled (bilinear) to (B, C, gh, gw) on `grid`."""
        cells_w, cells_h = grid.cells
        if tuple(maps.shape[-2:]) != (cells_h, cells_w):
            maps = F.interpolate(maps, size=(cells_h, cells_w), mode="bilinear", align_corners=False)
        return maps

    def __call__(self, frames: np.ndarray, grid: Grid) -> torch.Tensor:
        return self.to_grid(self.native(frames, grid), grid)


def quantise_maps(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(C, h, w) float feature maps -> ((C, h, w) uint8, (C, 2) float32 [offset, step]) per channel, so that
    offset + step * code reproduces each value to within half a step of its channel's range / 255."""
    maps = np.asarray(maps, dtype=np.float32)
    flat = maps.reshape(len(maps), -1)
    low, high = flat.min(axis=1), flat.max(axis=1)
    step = np.maximum(high - low, 1e-6) / 255.0
    codes = np.rint((maps - low[:, None, None]) / step[:, None, None])
    return np.clip(codes, 0, 255).astype(np.uint8), np.stack([low, step], axis=1).astype(np.float32)


def dequantise_maps(codes: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """Inverse of `quantise_maps`, channels last: (h, w, C) float32."""
    ranges = np.asarray(ranges, dtype=np.float32)
    return np.moveaxis(codes, 0, -1).astype(np.float32) * ranges[:, 1] + ranges[:, 0]
