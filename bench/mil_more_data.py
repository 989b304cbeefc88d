"""Does MIL on the benchmark's d2 setting improve with more training flights? (BENCHMARKS.md, MIL section)

    .venv/bin/python -P bench/mil_more_data.py [--out bench/out/mil-more-data] [--seed 7]

Generates the `benchmark` preset (seed 7) with 16 more d2 training flights appended: 12 anomalous ones (every
object class, alone and in groups) and 4 normal ones with heavy clouds or a sudden light change (d1's training
split has such a hard normal, d2's had none). Appended flights leave every other flight byte for byte as
`python -m detection generate --preset benchmark --seed 7` writes it, so val and test are the benchmark's own.
Then runs the evaluate command with the default MIL detector on that d2 and prints its numbers.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import detection.synth.presets as presets
from detection.synth.generate import generate

COMBOS = (
    ("boat",), ("person", "car"), ("drone",), ("debris", "fire"), ("smoke",), ("car",), ("person",),
    ("boat", "drone"), ("fire", "smoke"), ("debris", "person"), ("car", "drone", "boat"), presets.OBJECT_CLASSES,
)


def extended_d2() -> presets.DatasetPlan:
    extra = [presets._angle(25 + i, "train", classes=classes) for i, classes in enumerate(COMBOS)]
    extra += [
        presets._angle(37, "train", heavy_clouds=True), presets._angle(38, "train", light_change=True),
        presets._angle(39, "train", heavy_clouds=True), presets._angle(40, "train", light_change=True),
    ]
    return replace(presets._D2, videos=presets._D2.videos + tuple(extra))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("bench/out/mil-more-data"))
    parser.add_argument("--seed", type=int, default=7, help="MIL training seed (the data's seed is always 7)")
    args = parser.parse_args()
    data = args.out / "data"
    if not (data / "d2" / "manifest.csv").is_file():
        # Only this process sees the extended preset; the dataset order (d1, d2) keeps every flight's seed.
        presets.PRESETS["benchmark"] = replace(presets.BENCHMARK, datasets=(presets._D1, extended_d2()))
        generate(data, preset="benchmark", seed=7)
    out = args.out / f"d2-seed{args.seed}"
    subprocess.run(
        [sys.executable, "-m", "detection", "evaluate", str(data / "d2" / "manifest.csv"), "--detectors", "mil",
         "--seed", str(args.seed), "--threads", "1", "--no-progress", "--out", str(out)],
        check=True,
    )
    metrics = json.loads((out / "metrics.json").read_text())
    entry, splits = metrics["detectors"]["mil"], metrics["splits"]
    print(f"train: {splits['train']['normal']} normal + {splits['train']['anomalous']} anomalous flights")
    print(
        f"MIL on d2 with more training flights: video F1 {entry['video_f1']:.3f}, frame AUC {entry['frame_auc']:.3f}, "
        f"video AUC {entry['video_auc']:.3f}, video confusion {entry['video_confusion']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
