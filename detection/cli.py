"""`python -m detection ...`: each subcommand lives beside the code it runs and registers itself here."""

from __future__ import annotations

import argparse
import importlib
import sys

from detection.errors import DetectionError

# Each module has `register(subparsers)`, which adds its subcommands with `set_defaults(func=...)`.
COMMAND_MODULES = (
    "detection.video.cli",
    "detection.synth.cli",
    "detection.datasets.cli",
    "detection.training_cli",
    "detection.evaluation.cli",
    "detection.features.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m detection", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # that part is not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DetectionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
