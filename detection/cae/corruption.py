"""Synthetic anomalies pasted into training frames, so that the CAE learns to remove what does not belong.

A plain autoencoder reconstructs whatever it is shown as long as it is smooth enough: on the generated
benchmark it copied smoke plumes and boat wakes (large, soft, bright shapes) into its output, and their
error stayed below that of the coastline's texture. Trained instead to map a frame with blobs pasted in back
to the clean frame (a denoising autoencoder, as in DRAEM's reconstructive network), it has to replace
unfamiliar content with the normal scene, and the error then rises where an object was.

Each corrupted image gets 1 to 3 soft elliptical blobs (radius 2 px to a quarter of the side, random
angle and opacity 0.35 to 1), each filled with one of: a flat random colour, a haze towards light grey
(smoke, glare), a patch of another frame of the batch (land on water, water on land), or a brightness
change. Only training inputs are corrupted; targets, validation and scoring use the frames as they are.
"""

from __future__ import annotations

import torch

FILLS = ("colour", "haze", "patch", "brightness")


def blob_masks(count: int, size: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """(count, 1, size, size) soft masks in [0, 1], one elliptical blob each, edges one or two pixels wide."""
    rand = torch.rand(count, 6, generator=generator).to(device)
    centre = rand[:, 0:2] * size  # (count, 2): x, y
    radius = 2.0 + rand[:, 2:4] * (size / 4 - 2)  # (count, 2)
    angle = rand[:, 4] * torch.pi
    coords = torch.arange(size, device=device, dtype=torch.float32) + 0.5
    dy = coords.view(1, size, 1) - centre[:, 1].view(-1, 1, 1)
    dx = coords.view(1, 1, size) - centre[:, 0].view(-1, 1, 1)
    cos, sin = torch.cos(angle).view(-1, 1, 1), torch.sin(angle).view(-1, 1, 1)
    u = (cos * dx + sin * dy) / radius[:, 0].view(-1, 1, 1)
    v = (-sin * dx + cos * dy) / radius[:, 1].view(-1, 1, 1)
    distance = torch.sqrt(u * u + v * v)  # 1 on the ellipse
    edge = 1.5 / radius.min(dim=1).values.view(-1, 1, 1)  # about 1.5 px of soft edge
    return ((1 + edge - distance) / (2 * edge)).clamp(0, 1).unsqueeze(1)


def corrupt(x: torch.Tensor, probability: float, generator: torch.Generator) -> torch.Tensor:
    """A copy of the batch x (B, C, S, S) in [0, 1] (C = 3 per frame) with blobs pasted into a random
    `probability` share of its images; the rest are returned unchanged. Draws come from `generator` only."""
    if probability <= 0 or len(x) == 0:
        return x
    batch, channels, size = x.shape[0], x.shape[1], x.shape[-1]
    chosen = torch.rand(batch, generator=generator) < probability
    blobs = torch.randint(1, 4, (batch,), generator=generator) * chosen
    out = x.clone()
    for image in chosen.nonzero().flatten().tolist():
        count = int(blobs[image])
        masks = blob_masks(count, size, generator, x.device)  # (count, 1, S, S)
        opacity = (0.35 + 0.65 * torch.rand(count, generator=generator)).to(x.device).view(-1, 1, 1, 1)
        kinds = torch.randint(0, len(FILLS), (count,), generator=generator).tolist()
        colours = torch.rand(count, 3, generator=generator).to(x.device)
        donors = torch.randint(0, batch, (count,), generator=generator).tolist()
        shifts = torch.randint(-size // 2, size // 2 + 1, (count, 2), generator=generator).tolist()
        gains = (0.5 + torch.rand(count, generator=generator)).tolist()  # 0.5x to 1.5x
        for blob in range(count):
            target = out[image]
            fill = FILLS[kinds[blob]]
            if fill == "colour":
                content = colours[blob].repeat(channels // 3).view(channels, 1, 1).expand_as(target)
            elif fill == "haze":
                content = torch.full_like(target, 0.8)
            elif fill == "patch":
                content = torch.roll(x[donors[blob]], shifts=shifts[blob], dims=(-2, -1))
            else:
                content = (target * gains[blob]).clamp(0, 1)
            alpha = masks[blob] * opacity[blob]  # (1, S, S)
            out[image] = target * (1 - alpha) + content * alpha
    return out
