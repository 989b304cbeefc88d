"""Clip feature extractors for the MIL detector, pluggable by name, with an on-disk cache.

Extractors (each turns (N, H, W, 3) uint8 sampled frames into (C, D) clip features, see clips.py):
- `mobilenet_v2+cae` (the MIL default): the `mobilenet_v2` features below beside the area's CAE
  reconstruction-error statistics, each group normalised on its own (hybrid.py). Needs the packaged
  mobilenet_v2 file and a CAE trained on the area's normal videos (trained with the MIL detector, or given as
  a CAE detector file). Test frame ROC-AUC with the default MIL head on the generated benchmark (evaluate,
  seed 7): d2 0.848, d1 0.961; video F1 0.91 and 1.00 (BENCHMARKS.md, "MIL detector").
- `mobilenet_v2`: ImageNet mobilenet_v2 per frame, pooled per clip, plus frame-to-frame feature changes.
  Its real pretrained file ships in a package, so it works offline and in CI. Option
  `pooling` (MILConfig.pooling) says how each frame's 7 x 7 feature map is pooled over space, each with
  its own feature version (so cache entries and detector files never mix): "avg" (torchvision's global
  average), "max", or "max-avg" (max minus average: how much the strongest cell stands out; the MIL
  default, also inside `mobilenet_v2+cae`). All cost the same. Test frame ROC-AUC with the default MIL head on the generated benchmark
  (evaluate, seed 7): d2 (few-pixel objects) avg 0.736, max 0.749, max-avg 0.765; d1 0.969 / 0.961 / 0.960;
  video F1 0.83 on d2 and 1.00 on d1 for all three (BENCHMARKS.md, "MIL detector").
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
