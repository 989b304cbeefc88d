"""Clip feature extractors for the MIL detector, pluggable by name, with an on-disk cache.

Extractors (each turns (N, H, W, 3) uint8 sampled frames into (C, D) clip features, see clips.py):
- `mobilenet_v2+cae` (the MIL default): the `mobilenet_v2` features below beside the area's CAE
  reconstruction-error statistics, each group normalised on its own (hybrid.py). Needs the packaged
  mobilenet_v2 file and a CAE trained on the area's normal videos (trained with the MIL detector, or given as
  a CAE detector file). It scored best of these with the MIL head on the generated benchmark
  (BENCHMARKS.md, "MIL detector").
- `mobilenet_v2`: ImageNet mobilenet_v2 per frame, pooled per clip, plus frame-to-frame feature changes.
  Its real pretrained file ships in a package, so it works offline and in CI. Option
  `pooling` (MILConfig.spatial_pooling) says how each frame's 7 x 7 feature map is pooled over space, each
  with its own feature version (so cache entries and detector files never mix): "avg" (torchvision's global
  average), "max", or "max-avg" (max minus average: how much the strongest cell stands out; the MIL
  default, also inside `mobilenet_v2+cae`, because few-pixel objects fill a fraction of one cell and the
  average drowns them). All cost the same.
- `s3d` (the origin report's choice), `r2plus1d_18`, `r3d_18`, `mc3_18`, `mvit_v1_b`, `mvit_v2_s`,
  `swin3d_t`: frozen torchvision Kinetics backbones; their weights must be on the machine (weights.py).
- `cae`: the area's convolutional autoencoder: encoder features, reconstruction-error statistics and
  motion energy; needs no pretrained weights at all.
The `cae` extractor is the cheapest and the Kinetics backbones the dearest. How fast and how well each
scores: BENCHMARKS.md.
"""

from __future__ import annotations

from detection.features.clips import FeatureExtractor

EXTRACTOR_NAMES = (
    "mobilenet_v2+cae",
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
    if name == "mobilenet_v2+cae":
        from detection.features.hybrid import HybridExtractor

        return HybridExtractor(**options)
    if name in EXTRACTOR_NAMES:
        from detection.features.video_backbones import VideoBackboneExtractor

        return VideoBackboneExtractor(name, **options)
    raise ValueError(f"unknown feature extractor {name!r}; known: {', '.join(EXTRACTOR_NAMES)}")
