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


def grid_for(width: int, height: int, grid_width: int) -> Grid:
    """The grid of `grid_width` cells across (fewer when the frame has fewer pixels)."""
    stride = max(1, round(width / grid_width))
    return Grid(width, height, stride)


def colour_detail(frame: np.ndarray, grid: Grid, background_sigma: float) -> np.ndarray:
    """(h2, w2, 3) float32 log intensity minus its large-scale component, at `grid.detail_cells`."""
    small = cv2.resize(frame, grid.detail_cells, interpolation=cv2.INTER_AREA).astype(np.float32)
    logs = np.log1p(small)
    sigma = max(0.5, background_sigma * grid.detail_cells[0])
    background = cv2.GaussianBlur(logs, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT)
    return logs - background


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
        self.trunk = fuse_batch_norms(network.features[: block + 1].eval()).to(self.device)
        self.mean = torch.tensor(preprocessing.mean, device=self.device).view(1, 3, 1, 1)
        self.std = torch.tensor(preprocessing.std, device=self.device).view(1, 3, 1, 1)

    @torch.inference_mode()
    def __call__(self, frames: np.ndarray, grid: Grid) -> torch.Tensor:
        cells_w, cells_h = grid.cells
        images = torch.from_numpy(np.ascontiguousarray(frames)).to(self.device).permute(0, 3, 1, 2).float()
        scale = self.input_scale
        size = (round(cells_h * CNN_STRIDE * scale), round(cells_w * CNN_STRIDE * scale))
        if tuple(images.shape[-2:]) != size:
            images = F.interpolate(images, size=size, mode="bilinear", align_corners=False, antialias=True)
        images = (images / 255.0 - self.mean) / self.std
        maps = self.trunk(images)
        if tuple(maps.shape[-2:]) != (cells_h, cells_w):
            maps = F.interpolate(maps, size=(cells_h, cells_w), mode="bilinear", align_corners=False)
        return maps.float()
