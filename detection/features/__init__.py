"""Clip feature extractors for the MIL detector, pluggable by name, with an on-disk cache.

Extractors (each turns (N, H, W, 3) uint8 sampled frames into (C, D) clip features, see clips.py):
- `mobilenet_v2`: ImageNet mobilenet_v2 per frame, pooled per clip, plus frame-to-frame feature changes.
  Its real pretrained file ships in a package, so it works offline and in CI; the default (it measured no
  worse than `cae` on the synthetic MIL set, though neither beat chance there: BENCHMARKS.md).
- `s3d` (the origin report's choice), `r2plus1d_18`, `r3d_18`, `mc3_18`, `mvit_v1_b`, `mvit_v2_s`,
  `swin3d_t`: frozen torchvision Kinetics backbones; their weights must be on the machine (weights.py).
- `cae`: the area's convolutional autoencoder: encoder features, reconstruction-error statistics and
  motion energy; needs no pretrained weights at all.
Cost on a loaded 2-core CPU (clips/s): cae 5.6, mobilenet_v2 1.1 (1.7 at 112 px), r3d_18 0.30, s3d 0.19.
How well each scores: BENCHMARKS.md.
"""

from __future__ import annotations

from detection.features.clips import FeatureExtractor

EXTRACTOR_NAMES = (
    "mobilenet_v2",
    "cae",
    "s3d",
    "r2plus1d_18",
    "r3d_18",
    "mc3_18",
    "mvit_v1_b",
    "mvit_v2_s",
    "swin3d_t",
)


def build_extractor(name: str, **options) -> FeatureExtractor:
    """The extractor called `name`; `options` are its keyword arguments (clip_len, weights_path, ...)."""
    if name == "mobilenet_v2":
        from detection.features.mobilenet import MobileNetExtractor

        return MobileNetExtractor(**options)
    if name == "cae":
        from detection.features.cae import CAEExtractor

        return CAEExtractor(**options)
    if name in EXTRACTOR_NAMES:
        from detection.features.video_backbones import VideoBackboneExtractor

        return VideoBackboneExtractor(name, **options)
    raise ValueError(f"unknown feature extractor {name!r}; known: {', '.join(EXTRACTOR_NAMES)}")
