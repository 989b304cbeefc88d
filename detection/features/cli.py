"""`python -m detection weights list|fetch NAME` and `python -m detection features VIDEO --extractor NAME`.

`weights list` shows, per backbone, the file expected in torch's hub cache and whether it is present.
`weights fetch NAME` downloads it there (on a machine with internet) with torchvision's hash check.
`features VIDEO` samples the video (detection.video.sampling), extracts clip features through the cache,
prints their shape and speed, and with --out writes them to a .npy file.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from detection.features import EXTRACTOR_NAMES, build_extractor
from detection.features.cache import FeatureCache
from detection.features.weights import BACKBONES, fetch_weights, weights_status


def run_weights_list(args: argparse.Namespace) -> int:
    for row in weights_status():
        where = (
            f"present: {row['found']}" if row["found"] else f"MISSING: put {row['file']} at {row['expected']}"
        )
        print(f"{row['name']:<14} {where}")
    return 0


def run_weights_fetch(args: argparse.Namespace) -> int:
    path = fetch_weights(args.name, timeout=args.timeout)
    print(f"{args.name}: saved and hash-checked {path}")
    return 0


def run_features(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from detection.video.sampling import sample_frames

    options = {"clip_len": args.clip_len} if args.clip_len else {}
    extractor = build_extractor(args.extractor, **options)
    sampled = sample_frames(args.video, fps=args.fps, size=(args.size, args.size))
    cache = FeatureCache(args.cache_dir or None)
    started = time.monotonic()
    with tqdm(total=100, desc=args.extractor, unit="%") as bar:

        def progress(fraction: float, stage: str) -> None:
            bar.update(round(fraction * 100) - bar.n)

        features = cache.clip_features(extractor, sampled.frames, sampled.times, progress)
    seconds = time.monotonic() - started
    state = "cached" if cache.hits else f"{len(features) / max(seconds, 1e-9):.2f} clips/s"
    print(
        f"{args.video}: {len(sampled.times)} frames -> {features.shape[0]} clips x {features.shape[1]} ({state})"
    )
    if args.out:
        np.save(Path(args.out), features)
        print(f"wrote {args.out}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    weights = subparsers.add_parser("weights", help="pretrained backbone weights: list, fetch")
    actions = weights.add_subparsers(dest="weights_command", required=True)
    listing = actions.add_parser("list", help="which backbone weights are present or missing, and where")
    listing.set_defaults(func=run_weights_list)
    fetch = actions.add_parser(
        "fetch", help="download a backbone's weights into torch's cache (needs internet)"
    )
    fetch.add_argument("name", choices=sorted(BACKBONES))
    fetch.add_argument("--timeout", type=float, default=30.0, help="network timeout in seconds")
    fetch.set_defaults(func=run_weights_fetch)

    features = subparsers.add_parser("features", help="extract (and cache) MIL clip features of one video")
    features.add_argument("video", type=Path)
    features.add_argument(
        "--extractor", choices=[name for name in EXTRACTOR_NAMES if name != "cae"], default="mobilenet_v2"
    )
    features.add_argument(
        "--clip-len", type=int, default=0, help="sampled frames per clip (0: the extractor's)"
    )
    features.add_argument("--fps", type=float, default=2.0, help="sampling rate, frames per second")
    features.add_argument("--size", type=int, default=124, help="sampled frame width and height")
    features.add_argument("--cache-dir", default="", help="feature cache (default: $SKERRY_FEATURE_CACHE)")
    features.add_argument("--out", type=Path, help="write the (clips, dims) features to this .npy")
    features.set_defaults(func=run_features)
