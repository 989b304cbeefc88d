"""The MIL scoring head: segment features in, one anomaly score in 0..1 per segment out.

Sultani et al.'s network: FC 512 + ReLU, dropout 0.6, FC 32, dropout 0.6, FC 1 + sigmoid, applied to each
segment alone. With `temporal_kernel` > 1 the first layer becomes a 1-D convolution over neighbouring
segments (replicate-padded), so a segment's score sees its context; this is the "stronger variant" measured
in BENCHMARKS.md.
"""

from __future__ import annotations

import torch
from torch import nn


class MILHead(nn.Module):
    """Scores segments. Input (B, S, D) float segment features; output (B, S) scores in 0..1."""

    def __init__(
        self,
        *,
        in_features: int,
        hidden: int = 512,
        hidden2: int = 32,
        dropout: float = 0.6,
        temporal_kernel: int = 1,
    ):
        super().__init__()
        self.temporal_kernel = temporal_kernel
        if temporal_kernel == 1:
            self.first = nn.Linear(in_features, hidden)
        else:
            self.first = nn.Conv1d(
                in_features,
                hidden,
                kernel_size=temporal_kernel,
                padding=temporal_kernel // 2,
                padding_mode="replicate",
            )
        self.rest = nn.Sequential(
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden2),
            nn.Dropout(dropout),
            nn.Linear(hidden2, 1),
        )
        self._init_weights()

    def _init_weights(self) -> None:
        # Glorot-normal as in the paper's Keras code.
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Conv1d)):
                nn.init.xavier_normal_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, segments: torch.Tensor) -> torch.Tensor:
        if self.temporal_kernel == 1:
            hidden = self.first(segments)  # (B, S, hidden)
        else:
            # (B, S, D) -> (B, D, S) -> conv -> (B, hidden, S) -> (B, S, hidden)
            hidden = self.first(segments.transpose(1, 2)).transpose(1, 2)
        return torch.sigmoid(self.rest(hidden)).squeeze(-1)  # (B, S)


def build_head(*, in_features: int, config) -> MILHead:
    """The head a MILConfig describes, for features of width `in_features`."""
    return MILHead(
        in_features=in_features,
        hidden=config.hidden,
        hidden2=config.hidden2,
        dropout=config.dropout,
        temporal_kernel=config.temporal_kernel,
    )
