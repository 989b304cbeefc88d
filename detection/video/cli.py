"""`python -m detection probe VIDEO` (JSON facts) and `python -m detection ingest VIDEO OUTDIR` (with tqdm)."""

from __future__ import annotations

import argparse
import dataclasses
import json

from tqdm import tqdm

from detection.video.ingest import ingest_video
from detection.video.probe import probe


def parse_size(text: str) -> tuple[int, int]:
    """'124' or '124x124' -> (width, height)."""
    width, _, height = text.lower().partition("x")
    try:
        size = (int(width), int(height or width))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 124 or 160x120, got {text!r}") from None
    if min(size) < 1:
        raise argparse.ArgumentTypeError(f"size must be positive, got {text!r}")
    return size


def run_probe(args: argparse.Namespace) -> int:
    """`probe VIDEO`: print the VideoInfo as JSON."""
    print(json.dumps(dataclasses.asdict(probe(args.video)), indent=2))
    return 0


def run_ingest(args: argparse.Namespace) -> int:
    """`ingest VIDEO OUTDIR`: ingest with a tqdm bar, then print a JSON summary."""
    with tqdm(total=1000, unit="‰", desc="ingest", disable=args.quiet) as bar:

        def progress(fraction: float, stage: str) -> None:
            bar.set_description(stage[:40], refresh=False)
            bar.update(int(fraction * 1000) - bar.n)

        result = ingest_video(
            args.video,
            args.outdir,
            fps=args.fps,
            size=args.size,
            proxy=not args.no_proxy,
            thumbnails=not args.no_thumbnails,
            progress=progress,
        )
    summary = {
        "sha256": result.sha256,
        "frames": result.frame_count,
        "frames_path": str(result.frames_path),
        "proxy_path": str(result.proxy_path) if result.proxy_path else None,
        "proxy_method": result.proxy_method,
        "vtt": str(result.thumbnails.vtt) if result.thumbnails else None,
        "warning": result.warning,
        "seconds": round(result.seconds, 2),
        "realtime_factor": round(result.realtime_factor, 2),
    }
    print(json.dumps(summary, indent=2))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `probe` and `ingest` subcommands."""
    probe_parser = subparsers.add_parser("probe", help="print what a video file holds, as JSON")
    probe_parser.add_argument("video")
    probe_parser.set_defaults(func=run_probe)

    ingest_parser = subparsers.add_parser("ingest", help="sample frames, make a proxy and thumbnails")
    ingest_parser.add_argument("video")
    ingest_parser.add_argument("outdir")
    ingest_parser.add_argument("--fps", type=float, default=2.0, help="frames sampled per second (default 2)")
    ingest_parser.add_argument("--size", type=parse_size, default=(124, 124), help="WxH or N (default 124)")
    ingest_parser.add_argument("--no-proxy", action="store_true", help="skip the browser proxy")
    ingest_parser.add_argument("--no-thumbnails", action="store_true", help="skip poster and thumbnails")
    ingest_parser.add_argument("--quiet", action="store_true", help="no progress bar")
    ingest_parser.set_defaults(func=run_ingest)
