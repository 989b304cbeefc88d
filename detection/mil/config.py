"""The MIL detector's configuration: one frozen dataclass, saved in the detector file and rebuilt from it.

Defaults follow Sultani et al. (2018) where the paper fixes them (32 segments, FC 512-32-1, dropout 0.6,
lambda 8e-5, batches of 30 + 30 bags, Adagrad) and our measurements elsewhere (BENCHMARKS.md, "MIL
detector"): the extractor `mobilenet_v2+cae` (mobilenet_v2 with its frame maps pooled by max minus average,
beside the area's CAE reconstruction-error statistics, each group normalised on its own), top-3 mean pooling
over segments with lr 0.01 (their code's rate), 400 steps. On the generated benchmark (evaluate, seed 7) this
scores d2's test frames at ROC-AUC 0.848 (mobilenet_v2 alone: 0.765; the preset "paper": 0.751) with video F1
0.91 (0.83), and d1's at 0.961 with video F1 1.00. Over training seeds 0, 1 and 7 the d2 frame AUC is
0.831-0.848 and the video F1 0.83-0.91: the d2 frame target (0.9) is not met. The preset "paper" (overrides
{"config": "paper"}) is the paper's head and loss as published, on average-pooled mobilenet_v2 frames.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class MILConfig:
    # features
    extractor: str = "mobilenet_v2+cae"
    clip_len: int = 0  # sampled frames per clip; 0 = the extractor's own default
    input_size: int = 0  # image backbones (mobilenet_v2): pixels per side; 0 = the weights' own (224)
    pooling: str = "max-avg"  # mobilenet_v2, a frame's map over space: "avg" (paper-like), "max", "max-avg"
    # extractors built on the area's CAE ("mobilenet_v2+cae", "cae"):
    cae_detector: str = ""  # a trained CAE detector file; "" = train one here on the normal training videos
    cae_epochs: int = 0  # when training it here: epochs; 0 = the CAE default's own (150, early stopping)
    # bags
    segments: int = 32
    # head
    hidden: int = 512
    hidden2: int = 32
    dropout: float = 0.6
    temporal_kernel: int = 1  # 1 = the paper's per-segment FC; 3 = a 1-D conv over neighbouring segments
    # loss
    pool: str = "topk"  # "topk" (measured better) or "max" (the paper)
    topk: int = 3
    lambda_smooth: float = 8e-5
    lambda_sparse: float = 8e-5
    # optimisation
    optimizer: str = "adagrad"
    lr: float = 0.01  # their released code's; the paper says 0.001
    weight_decay: float = 0.001  # the paper's L2 on the weights
    batch_bags: int = 30  # anomalous bags per batch, and as many normal ones
    iterations: int = 400
    epochs: int = 0  # if > 0, overrides iterations: passes over the larger class's bags
    device: str = ""  # "" = CUDA when present, else the CPU
    # threshold: "video" picks it on validation videos' bag scores against their labels (weak labels suffice);
    # "frames" on frame scores against interval labels where known.
    threshold_on: str = "video"
    feature_cache: str = ""  # directory; "" = the default (see detection.features.cache)

    def __post_init__(self) -> None:
        from detection.features import EXTRACTOR_NAMES

        problems = []
        if self.extractor not in EXTRACTOR_NAMES:
            problems.append(
                f"unknown feature extractor {self.extractor!r}; known: {', '.join(EXTRACTOR_NAMES)}"
            )
        if self.pooling not in ("avg", "max", "max-avg"):
            problems.append(f"pooling must be 'avg', 'max' or 'max-avg', got {self.pooling!r}")
        if self.segments < 1:
            problems.append(f"segments must be >= 1, got {self.segments}")
        if self.temporal_kernel < 1 or self.temporal_kernel % 2 == 0:
            problems.append(f"temporal_kernel must be odd and >= 1, got {self.temporal_kernel}")
        if self.pool not in ("max", "topk"):
            problems.append(f"pool must be 'max' or 'topk', got {self.pool!r}")
        if self.optimizer not in ("adagrad", "adam"):
            problems.append(f"optimizer must be 'adagrad' or 'adam', got {self.optimizer!r}")
        if self.threshold_on not in ("video", "frames"):
            problems.append(f"threshold_on must be 'video' or 'frames', got {self.threshold_on!r}")
        if not 0.0 <= self.dropout < 1.0:
            problems.append(f"dropout must be in [0, 1), got {self.dropout}")
        if self.batch_bags < 1 or self.iterations < 1 or self.lr <= 0:
            problems.append("batch_bags and iterations must be >= 1 and lr > 0")
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def from_overrides(cls, overrides: dict | None) -> MILConfig:
        """A preset (overrides["config"]: "default" or "paper") with field overrides; unknown fields are named."""
        overrides = dict(overrides or {})
        preset = overrides.pop("config", "default")
        if preset not in PRESETS:
            raise ValueError(f"unknown MIL preset {preset!r}; presets: {', '.join(PRESETS)}")
        if "features" in overrides:  # the CLI's --features
            overrides["extractor"] = overrides.pop("features")
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise ValueError(f"unknown MIL settings {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        typed = {name: _coerce(known[name], value) for name, value in overrides.items()}
        return dataclasses.replace(PRESETS[preset], **typed)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _coerce(field: dataclasses.Field, value):
    kind = {"int": int, "float": float, "str": str}.get(str(field.type), None)
    return kind(value) if kind is not None and value is not None else value


# "paper": Sultani et al. as published; "default": the variant measured better (BENCHMARKS.md).
PRESETS = {
    "default": MILConfig(),
    "paper": MILConfig(extractor="mobilenet_v2", pooling="avg", pool="max", temporal_kernel=1, lr=0.001),
}
