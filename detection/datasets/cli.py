"""Manifest commands: `check-manifest`, `split-manifest`, `import-folder`, `import-ucf-crime`."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from detection.datasets.importers import import_folder, import_ucf_crime
from detection.datasets.manifest import read_manifest, write_manifest
from detection.datasets.splits import assign_splits


def register(subparsers) -> None:
    check = subparsers.add_parser("check-manifest", help="validate a manifest and summarise it")
    check.add_argument("manifest", type=Path)
    check.add_argument("--no-probe", action="store_true", help="do not open videos to check interval ends")
    check.set_defaults(func=run_check)

    split = subparsers.add_parser("split-manifest", help="fill empty splits (80/10/10 by video, by label)")
    split.add_argument("manifest", type=Path)
    split.add_argument("--seed", type=int, default=0)
    split.add_argument("--out", type=Path, help="write here instead of over the manifest")
    split.set_defaults(func=run_split)

    folder = subparsers.add_parser("import-folder", help="write ROOT/manifest.csv from ROOT/normal and ROOT/anomalous")
    folder.add_argument("root", type=Path)
    folder.set_defaults(func=lambda args: _report(import_folder(args.root)))

    ucf = subparsers.add_parser("import-ucf-crime", help="write ROOT/manifest.csv for a UCF-Crime copy")
    ucf.add_argument("root", type=Path)
    ucf.set_defaults(func=lambda args: _report(import_ucf_crime(args.root)))


def _summary(records) -> str:
    counts = Counter((r.label or "unlabelled", r.split or "unsplit") for r in records)
    parts = [f"{n} {label}/{split}" for (label, split), n in sorted(counts.items())]
    return f"{len(records)} videos: " + ", ".join(parts)


def run_check(args: argparse.Namespace) -> int:
    records = read_manifest(args.manifest, probe_durations=not args.no_probe)
    print(f"{args.manifest}: ok, {_summary(records)}")
    return 0


def run_split(args: argparse.Namespace) -> int:
    records = assign_splits(read_manifest(args.manifest, probe_durations=False), seed=args.seed)
    out = write_manifest(args.out or args.manifest, records)
    print(f"wrote {out}: {_summary(records)}")
    return 0


def _report(manifest: Path) -> int:
    records = read_manifest(manifest, probe_durations=False)
    print(f"wrote {manifest}: {_summary(records)}")
    return 0
