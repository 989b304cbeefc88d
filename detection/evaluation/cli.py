"""`python -m detection evaluate MANIFEST --detectors cae,mil,iforest,nearest,patchcore --out DIR`.

Trains every detector on the manifest's train split, picks each threshold on val, scores test only, and
writes DIR/metrics.json (schema: detection.evaluation.schema), DIR/report.md and DIR/report.html
(plotly.js inlined), plus DIR/errors.log with the traceback of any detector that failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from detection.atomic_files import write_text
from detection.evaluation.report_html import render_html
from detection.evaluation.report_md import render_markdown, summary_table
from detection.evaluation.runner import EvaluationSettings, evaluate, file_specs, parse_detectors
from detection.json_values import json_text

DEFAULT_DETECTORS = "cae,mil,iforest,nearest,patchcore"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="train, threshold and measure detectors and baselines on a manifest's splits",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("manifest", type=Path, help="manifest CSV (video,label,split,intervals,classes)")
    parser.add_argument(
        "--detectors",
        default=DEFAULT_DETECTORS,
        help=f"comma-separated NAME or NAME=KIND (default {DEFAULT_DETECTORS}); '' with --detector-file only",
    )
    parser.add_argument(
        "--detector-file",
        type=Path,
        action="append",
        default=[],
        help="an already trained detector file (repeatable)",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--epochs", type=int, help="training epochs of each CAE detector")
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="NAME.key=value",
        help="a training setting of one detector, e.g. cae.batch_size=64 or mil.iterations=500 (repeatable)",
    )
    parser.add_argument("--fps", type=float, default=2.0, help="frames sampled per second (default 2)")
    parser.add_argument(
        "--size", type=int, nargs=2, default=(124, 124), metavar=("W", "H"), help="frame size"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of every detector (default 0)")
    parser.add_argument(
        "--cache-dir", type=Path, help="sampled-frame cache (default: MANIFEST's folder/.frame-cache)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "--threads", type=int, default=0,
        help="torch CPU threads (default: torch's own); 1 when several evaluations share the cores",
    )
    parser.set_defaults(func=run_evaluate)


def read_records(manifest: Path):
    """The manifest's VideoRecords (detection.datasets.manifest validates it and names bad rows)."""
    from detection.datasets.manifest import read_manifest

    result = read_manifest(manifest)
    return list(getattr(result, "records", result))


def run_evaluate(args: argparse.Namespace) -> int:
    specs = (
        parse_detectors(args.detectors, epochs=args.epochs, settings=args.settings) if args.detectors else []
    )
    specs += file_specs(args.detector_file)
    if not specs:
        raise SystemExit("error: no detectors: give --detectors or --detector-file")
    settings = EvaluationSettings(
        detectors=tuple(specs),
        fps=args.fps,
        size=tuple(args.size),
        seed=args.seed,
        manifest=str(args.manifest),
        cache_dir=args.cache_dir or args.manifest.resolve().parent / ".frame-cache",
    )
    if args.threads > 0:
        import torch

        # For the whole run: training, scoring and the baselines alike.
        torch.set_num_threads(args.threads)
    result = evaluate(read_records(args.manifest), settings, show_progress=not args.no_progress)
    write_outputs(args.out, result)
    print(summary_table(result.metrics["detectors"]))
    for name, entry in result.metrics["detectors"].items():
        if entry["status"] != "ok":
            print(f"{name} failed: {entry['error']}", file=sys.stderr)
    print(f"wrote {args.out / 'metrics.json'}, report.md, report.html")
    return 0


def write_outputs(out: Path, result) -> None:
    """metrics.json, report.md, report.html and (when a detector failed) errors.log under `out`."""
    write_text(out / "metrics.json", json_text(result.metrics, indent=1))
    write_text(out / "report.md", render_markdown(result.metrics))
    write_text(out / "report.html", render_html(result.metrics, result.curves))
    errors = "\n\n".join(f"== {name}\n{text}" for name, text in result.errors.items())
    if errors:
        write_text(out / "errors.log", errors)
