"""`python -m detection ...`: each subcommand lives beside the code it runs and registers itself here."""

from __future__ import annotations

import argparse
import sys

from detection import training_cli
from detection.datasets import cli as datasets_cli
from detection.errors import DetectionError
from detection.evaluation import cli as evaluation_cli
from detection.features import cli as features_cli
from detection.synth import cli as synth_cli
from detection.video import cli as video_cli

# Each module has `register(subparsers)`, which adds its subcommands with `set_defaults(func=...)`.
COMMAND_MODULES = (video_cli, synth_cli, datasets_cli, training_cli, evaluation_cli, features_cli)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m detection", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DetectionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
