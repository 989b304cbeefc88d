"""The autoencoder networks and their builders.

Both take (B, C, H, W) float in [0, 1], C = 3 * sequence_length (RGB frames stacked oldest first), and
return a reconstruction of the same shape through a sigmoid.

`ReportCAE` is the origin report's network (section 3.2.2, Appendix 1) built as closely as it adds up.
Its appendix table is not self-consistent; the deviations, each the nearest consistent choice:
1. MaxPool2d: the table gives kernel (3,3) stride (1,1) padding (1,1) for the 2nd and 3rd pools, which
   keeps the size, yet its Dim column halves it (62 -> 31 -> 15). We use MaxPool2d(2) three times,
   which gives exactly the Dim column: 124 -> 62 -> 31 -> 15.
2. Bottleneck: the table has Flatten (15*15*60) -> Linear (15*15) -> Linear (15*15) -> Unflatten (15x15),
   but the next layer, ConvTranspose2d(60, 30), needs 60 channels. We use Linear(13500 -> 225), the
   225-wide bottleneck, then Linear(225 -> 13500) unflattened to (60, 15, 15).
3. Output: the table ends ConvTranspose2d -> ReLU -> BatchNorm2d(3) with no sigmoid, the text says the
   network ends with a sigmoid "to be able to calculate the loss". We keep the table's layers and add the
   sigmoid. (The BatchNorm rows' "0 3 8" / "0 2 10" kernel/stride/padding entries mean nothing for a
   BatchNorm and are ignored.)
4. The decoder's transposed convolutions (stride 2, padding 0 / 1 / 0, output padding 0 / 0 / 1) give the
   table's 31 -> 61 -> 124. For another input size the sizes do not come out exactly and the output is
   resized (bilinear) to the input size; at 124 no resize happens.
5. Sequence mode: the report stacks 10 frames; here as 30 input and output channels (3 * 10).

`ConvCAE` is the default: a patchifying stem, stride-2 conv stages with batch norm, a 1x1 convolutional
bottleneck at 1/8 resolution (no linear layer, so it works at any input size and keeps where things are),
and a mirrored transposed-conv decoder that returns exactly the input size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from detection.cae.config import CAEConfig


class ReportCAE(nn.Module):
    """The origin report's CAE. Input (B, C, S, S) in [0, 1] with S = input_size; output the same shape."""

    def __init__(self, *, in_channels: int = 3, input_size: int = 124, latent_dim: int = 225):
        super().__init__()
        encoded = input_size // 8  # three MaxPool2d(2)
        self.encoded_shape = (60, encoded, encoded)
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels, 15, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),
            nn.Conv2d(15, 30, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),
            nn.Conv2d(30, 60, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),
        )  # fmt: skip
        flat = 60 * encoded * encoded
        self.bottleneck = nn.Sequential(nn.Flatten(), nn.Linear(flat, latent_dim), nn.Linear(latent_dim, flat))
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(60, 30, 3, stride=2, padding=0), nn.ReLU(), nn.BatchNorm2d(30),
            nn.ConvTranspose2d(30, 15, 3, stride=2, padding=1), nn.ReLU(), nn.BatchNorm2d(15),
            nn.ConvTranspose2d(15, in_channels, 3, stride=2, padding=0, output_padding=1), nn.ReLU(),
            nn.BatchNorm2d(in_channels), nn.Sigmoid(),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        latent = self.bottleneck(self.encoder(x))  # (B, 60 * e * e)
        out = self.decoder(latent.view(x.shape[0], *self.encoded_shape))  # (B, C, ~S, ~S)
        if out.shape[-2:] != x.shape[-2:]:
            out = F.interpolate(out, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return out


class ConvCAE(nn.Module):
    """Fully convolutional CAE. Input (B, C, H, W) in [0, 1], any H, W >= 2 * stem_stride; output the same shape.

    A patchifying stem (kernel = stride = stem_stride) keeps it cheap enough for hundreds of frames per
    second on a CPU; stride-2 stages follow, then a 1x1 bottleneck of `latent_channels`.
    """

    def __init__(
        self,
        *,
        in_channels: int = 3,
        widths: tuple[int, ...] = (32, 64),
        latent_channels: int = 16,
        stem_stride: int = 4,
    ):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, widths[0], stem_stride, stride=stem_stride, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        )
        self.stages = nn.ModuleList(_conv_block(a, b, stride=2) for a, b in zip(widths[:-1], widths[1:]))
        self.to_latent = nn.Sequential(nn.Conv2d(widths[-1], latent_channels, 1), nn.ReLU(inplace=True))
        self.from_latent = _conv_block(latent_channels, widths[-1], stride=1)
        self.ups = nn.ModuleList(
            nn.ConvTranspose2d(b, a, 3, stride=2, padding=1, bias=False) for a, b in zip(widths[:-1], widths[1:])
        )
        self.up_norms = nn.ModuleList(nn.Sequential(nn.BatchNorm2d(a), nn.ReLU(inplace=True)) for a in widths[:-1])
        self.refine = _conv_block(widths[0], widths[0], stride=1)
        self.head = nn.ConvTranspose2d(widths[0], in_channels, stem_stride, stride=stem_stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)  # (B, w0, H / s, W / s)
        sizes = []
        for stage in self.stages:
            sizes.append(h.shape[-2:])
            h = stage(h)  # (B, w_i, size / 2)
        h = self.from_latent(self.to_latent(h))  # the bottleneck: (B, latent, H / (s * 2^k)) and back
        for up, norm, size in zip(reversed(self.ups), reversed(self.up_norms), reversed(sizes)):
            h = norm(up(h, output_size=size))
        h = self.refine(h)  # (B, w0, H / s, W / s)
        return torch.sigmoid(self.head(h, output_size=x.shape[-2:]))


def _conv_block(in_channels: int, out_channels: int, *, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


def report_cae(*, in_channels: int = 3, input_size: int = 124, latent_dim: int = 225) -> ReportCAE:
    """The origin report's network (see the module docstring for its deviations from Appendix 1)."""
    return ReportCAE(in_channels=in_channels, input_size=input_size, latent_dim=latent_dim)


def conv_cae(
    *, in_channels: int = 3, widths: tuple[int, ...] = (32, 64), latent_channels: int = 16, stem_stride: int = 4
) -> ConvCAE:
    """The default fully convolutional CAE."""
    return ConvCAE(
        in_channels=in_channels, widths=tuple(widths), latent_channels=latent_channels, stem_stride=stem_stride
    )


def build_model(config: CAEConfig) -> nn.Module:
    """The network a config describes."""
    if config.architecture == "report":
        return report_cae(in_channels=config.in_channels, input_size=config.input_size, latent_dim=config.latent_dim)
    return conv_cae(
        in_channels=config.in_channels,
        widths=config.widths,
        latent_channels=config.latent_channels,
        stem_stride=config.stem_stride,
    )
