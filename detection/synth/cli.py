"""`python -m detection generate OUTDIR --preset demo --seed 0`: write a synthetic labelled patrol dataset."""

from __future__ import annotations

import argparse
import os

from tqdm import tqdm

from detection.synth.presets import PRESETS, parse_size


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "generate", help="generate synthetic archipelago patrol videos with ground truth and a manifest",
        description=__doc__,
    )
    parser.add_argument("out_dir", help="folder to write into (created if missing)")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="demo")
    parser.add_argument("--seed", type=int, default=0, help="the area and everything in it follow from this")
    parser.add_argument("--size", type=parse_size, help="frame size WIDTHxHEIGHT, e.g. 320x240 (even numbers)")
    parser.add_argument("--fps", type=int, help="frames per second")
    parser.add_argument("--seconds", type=float, help="length of each video in seconds")
    parser.add_argument("--world-size", type=int, help="side of the world texture in world pixels")
    parser.add_argument("--footprint", type=float, help="world pixels across the frame width (altitude)")
    parser.add_argument("--flights", type=lambda text: tuple(filter(None, text.split(","))),
                        help="only these videos of the preset, comma-separated as the manifest names them "
                             "(day01/patrol.mp4,...); each is the same file the whole preset writes")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from detection.synth.generate import generate

    with tqdm(total=1000, unit="‰", desc=args.preset) as bar:
        def progress(fraction: float, stage: str) -> None:
            bar.set_postfix_str(stage, refresh=False)
            bar.update(max(0, int(fraction * 1000) - bar.n))

        manifest = generate(
            args.out_dir, preset=args.preset, seed=args.seed, progress=progress, jobs=args.jobs,
            size=args.size, fps=args.fps, seconds=args.seconds, world_size=args.world_size,
            footprint=args.footprint, flights=args.flights,
        )
    print(f"wrote {manifest}")
    return 0
