"""The MIL detector's configuration: one frozen dataclass, saved in the detector file and rebuilt from it.

Defaults follow Sultani et al. (2018) where the paper fixes them (32 segments, FC 512-32-1, dropout 0.6,
lambda 8e-5, batches of 30 + 30 bags, Adagrad) and our measurements elsewhere (BENCHMARKS.md, "MIL
detector", has the numbers and how the choices were made): the extractor `mobilenet_v2+cae` (mobilenet_v2
with its frame maps pooled by max minus average, beside the area's CAE reconstruction-error statistics, each
group normalised on its own), because on the generated benchmark the head was limited by the representation,
not by its own settings, and the area's reconstruction error added what ImageNet features miss; top-3 mean
pooling over segments with learning rate 0.01 (their code's rate), 400 steps. The preset "paper" (overrides
{"config": "paper"}) is the paper's head and loss as published, on average-pooled mobilenet_v2 frames.

Names are the ones the CAE uses for the same things (`learning_rate`, `threshold_method`,
`threshold_quantile`, `threshold_se`; a `*_pooling` choice with its `topk_*` size), and `None` means "not
set": the extractor's own clip length and input size, a CAE trained here, the default feature cache. The
training length is `iterations` (steps); the trainer's run option `epochs` converts passes over the bags into
steps. Files and overrides under the names used before (LEGACY) still work.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from detection import configs
from detection.thresholds import threshold_setting_problems

SPATIAL_POOLINGS = ("avg", "max", "max-avg")
SEGMENT_POOLINGS = ("max", "topk")
THRESHOLD_SOURCES = ("video", "frames")
# Trainer's options besides the config's fields: where to train, and a length in passes over the bags.
RUN_OPTIONS = ("device", "epochs")
LEGACY = configs.Legacy(
    renamed={
        "lr": "learning_rate",
        "pool": "segment_pooling",
        "topk": "topk_segments",
        "pooling": "spatial_pooling",
        "features": "extractor",  # the CLI's --features
    },
    unset={"clip_len": 0, "input_size": 0, "cae_detector": "", "cae_epochs": 0, "feature_cache": ""},
    # Saved files only: `epochs` (0 = iterations; > 0 replaced them) only shaped training, and scoring reads
    # neither; the device is never taken from a file (detection.configs).
    dropped=frozenset({"epochs"}),
)


@dataclass(frozen=True)
class MILConfig:
    # features
    extractor: str = "mobilenet_v2+cae"
    clip_len: int | None = None  # sampled frames per clip; None = the extractor's own
    input_size: int | None = None  # image backbones (mobilenet_v2): pixels per side; None = the weights' own
    spatial_pooling: str = "max-avg"  # mobilenet_v2, a frame's map over space: "avg" (paper-like), "max", "max-avg"
    # extractors built on the area's CAE ("mobilenet_v2+cae", "cae"):
    cae_detector: str | None = None  # a trained CAE detector file; None = train one here on the normal videos
    cae_epochs: int | None = None  # when training it here: epochs; None = the CAE default's own (early stopping)
    # bags
    segments: int = 32
    # head
    hidden: int = 512
    hidden2: int = 32
    dropout: float = 0.6
    temporal_kernel: int = 1  # 1 = the paper's per-segment FC; 3 = a 1-D conv over neighbouring segments
    # loss: a bag's score from its segments' (the ranking loss compares bags)
    segment_pooling: str = "topk"  # "topk": mean of the topk_segments highest (measured better); "max": the paper
    topk_segments: int = 3
    lambda_smooth: float = 8e-5
    lambda_sparse: float = 8e-5
    # optimisation
    optimizer: str = "adagrad"
    learning_rate: float = 0.01  # their released code's; the paper says 0.001
    weight_decay: float = 0.001  # the paper's L2 on the weights
    batch_bags: int = 30  # anomalous bags per batch, and as many normal ones
    iterations: int = 400  # training steps
    # threshold: "video" picks it on validation videos' bag scores against their labels (weak labels suffice);
    # "frames" on frame scores against interval labels where known. Method, quantile and standard-error rule
    # as the CAE's (detection.thresholds); the defaults are the plain best F1.
    threshold_on: str = "video"
    threshold_method: str = "best_f1"
    threshold_quantile: float = 0.99
    threshold_se: float = 0.0
    feature_cache: str | None = None  # directory; None = the default (detection.features.cache); "none" = off

    def __post_init__(self) -> None:
        from detection.features import EXTRACTOR_NAMES

        problems = []
        if self.extractor not in EXTRACTOR_NAMES:
            problems.append(
                f"unknown feature extractor {self.extractor!r}; known: {', '.join(EXTRACTOR_NAMES)}"
            )
        choices = (
            ("spatial_pooling", SPATIAL_POOLINGS),
            ("segment_pooling", SEGMENT_POOLINGS),
            ("optimizer", ("adagrad", "adam")),
            ("threshold_on", THRESHOLD_SOURCES),
        )
        for name, allowed in choices:
            if getattr(self, name) not in allowed:
                problems.append(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        for name in ("clip_len", "input_size", "cae_epochs"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1, or None (not set), got {getattr(self, name)}")
        if self.segments < 1:
            problems.append(f"segments must be >= 1, got {self.segments}")
        if self.temporal_kernel < 1 or self.temporal_kernel % 2 == 0:
            problems.append(f"temporal_kernel must be odd and >= 1, got {self.temporal_kernel}")
        if self.topk_segments < 1:
            problems.append(f"topk_segments must be >= 1, got {self.topk_segments}")
        if not 0.0 <= self.dropout < 1.0:
            problems.append(f"dropout must be in [0, 1), got {self.dropout}")
        if self.batch_bags < 1 or self.iterations < 1 or self.learning_rate <= 0:
            problems.append("batch_bags and iterations must be >= 1 and learning_rate > 0")
        problems += threshold_setting_problems(self.threshold_method, self.threshold_quantile, self.threshold_se)
        if problems:
            raise ValueError("invalid MIL config: " + "; ".join(problems))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> MILConfig:
        """The config a detector file saved, old field names and "not set" values included."""
        return configs.from_saved(cls, values, kind="MIL", legacy=LEGACY)


# "paper": Sultani et al. as published; "default": the variant measured better (BENCHMARKS.md).
PRESETS = {
    "default": MILConfig(),
    "paper": MILConfig(
        extractor="mobilenet_v2", spatial_pooling="avg", segment_pooling="max", temporal_kernel=1, learning_rate=0.001
    ),
}


def make_config(overrides: dict | None = None) -> MILConfig:
    """The preset `overrides["config"]` names ("default" or "paper") with the other overrides applied
    (detection.configs.make_config); the run options `device` and `epochs` are left to the trainer."""
    return configs.make_config(PRESETS, overrides, kind="MIL", legacy=LEGACY, run_options=RUN_OPTIONS)
