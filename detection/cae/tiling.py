"""Tiled mode: a high-resolution frame cut into overlapping tiles of the model's input size, and the
tiles' error maps stitched back into one full-resolution map (overlaps averaged).

Objects of about 16x16 pixels in 1080p footage are a few pixels wide once the frame is shrunk to
124x124; at full resolution in 128x128 tiles they stay 16 pixels wide. A 1920x1080 frame with 128-pixel
tiles overlapping by 25% (stride 96) gives 20 x 11 = 220 tiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class TileGrid:
    """Where the tiles of a (height, width) frame start; every pixel lies in at least one tile."""

    height: int
    width: int
    tile: int
    ys: tuple[int, ...]
    xs: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.ys) * len(self.xs)


def tile_origins(length: int, tile: int, overlap: float) -> tuple[int, ...]:
    """Start offsets along one axis: a stride of tile * (1 - overlap), the last tile flush with the end."""
    if length <= tile:
        return (0,)
    stride = max(1, round(tile * (1.0 - overlap)))
    origins = list(range(0, length - tile, stride))
    origins.append(length - tile)
    return tuple(origins)


def tile_grid(height: int, width: int, tile: int, overlap: float) -> TileGrid:
    """The grid for a frame; frames smaller than a tile are padded up to it (see cut_tiles)."""
    return TileGrid(height, width, tile, tile_origins(height, tile, overlap), tile_origins(width, tile, overlap))


def cut_tiles(images: torch.Tensor, grid: TileGrid) -> torch.Tensor:
    """(B, C, H, W) -> (B * T, C, tile, tile), frame-major (the T tiles of frame 0 first), row-major tiles."""
    tile = grid.tile
    pad_h, pad_w = max(0, tile - images.shape[-2]), max(0, tile - images.shape[-1])
    if pad_h or pad_w:
        images = F.pad(images, (0, pad_w, 0, pad_h), mode="replicate")
    tiles = [images[:, :, y : y + tile, x : x + tile] for y in grid.ys for x in grid.xs]
    return torch.stack(tiles, dim=1).flatten(0, 1)  # (B, T, C, t, t) -> (B * T, C, t, t)


def stitch(tile_maps: torch.Tensor, grid: TileGrid) -> torch.Tensor:
    """(B * T, tile, tile) per-tile maps -> (B, H, W), averaging where tiles overlap."""
    tile = grid.tile
    maps = tile_maps.view(-1, grid.count, tile, tile)  # (B, T, t, t)
    height, width = max(grid.height, tile), max(grid.width, tile)
    total = maps.new_zeros(maps.shape[0], height, width)
    cover = maps.new_zeros(height, width)
    positions = [(y, x) for y in grid.ys for x in grid.xs]
    for index, (y, x) in enumerate(positions):
        total[:, y : y + tile, x : x + tile] += maps[:, index]
        cover[y : y + tile, x : x + tile] += 1
    return (total / cover)[:, : grid.height, : grid.width]
