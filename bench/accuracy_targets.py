"""The issues' accuracy targets, checked against the metrics.json files `bench/accuracy.sh` wrote.

    .venv/bin/python bench/accuracy_targets.py bench/out/accuracy

For each setting (d1, d2): each CAE (the default is the detector named `cae`) against frame ROC-AUC >= 0.95 and F1 >= 0.85 on
normal frames plus anomalies covering at least 0.5% of the frame (issue 5); MIL (`mil`) against video F1 >= 0.9
and frame ROC-AUC >= 0.9 (issue 6); and every baseline whose frame AUC beats the CAE default's, by name.
Prints one line per check, "met" or "MISSED", so that BENCHMARKS.md can quote it as it is. The patrol stage has
no target yet (its numbers are the baseline that CHANGE must beat): one line per detector with what it measured.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

BASELINES = ("iforest", "nearest", "patchcore")


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return "not measured"
    return "met" if value >= target else "MISSED"


def check(setting: str, metrics: dict) -> list[str]:
    detectors = metrics["detectors"]
    lines = []
    for name, entry in detectors.items():
        if entry.get("kind") != "cae" or entry.get("status") != "ok":
            continue
        large = entry.get("large_anomalies") or {}
        auc, f1 = large.get("frame_auc"), large.get("f1")
        lines.append(
            f"{setting}: {name}, normal frames + anomalies >= 0.5% of the frame ({large.get('positives')} "
            f"anomalous frames): frame AUC {auc:.3f} (target >= 0.95: {verdict(auc, 0.95)}), F1 {f1:.3f} "
            f"(target >= 0.85: {verdict(f1, 0.85)}); over all test frames: AUC {entry['frame_auc']:.3f}, "
            f"F1 {entry['f1']:.3f}"
        )
    cae = detectors.get("cae")
    if cae and cae.get("status") == "ok":
        better = [
            f"{name} ({detectors[name]['frame_auc']:.3f})"
            for name in BASELINES
            if detectors.get(name, {}).get("status") == "ok" and detectors[name]["frame_auc"] > cae["frame_auc"]
        ]
        lines.append(
            f"{setting}: baselines above the CAE default's frame AUC ({cae['frame_auc']:.3f}): "
            + (", ".join(better) + ": candidate detectors" if better else "none")
        )
    mil = detectors.get("mil")
    if mil and mil.get("status") == "ok":
        lines.append(
            f"{setting}: MIL video F1 {mil['video_f1']:.3f} (target >= 0.9: {verdict(mil['video_f1'], 0.9)}), "
            f"frame AUC {mil['frame_auc']:.3f} (target >= 0.9: {verdict(mil['frame_auc'], 0.9)})"
        )
    for name, entry in detectors.items():
        if entry.get("status") != "ok":
            lines.append(f"{setting}: {name} failed: {entry.get('error')}")
    return lines


def patrol_lines(metrics: dict) -> list[str]:
    """Per detector on the patrol stage: frame AUC, false events per flight hour, objects found by size."""
    lines = []
    for name, entry in metrics["detectors"].items():
        if entry.get("status") != "ok":
            lines.append(f"patrol: {name} failed: {entry.get('error')}")
            continue
        events = entry.get("events") or {}
        objects = entry.get("object_recall") or {}
        sizes = ", ".join(f"{bucket} px {row['found']}/{row['objects']}"
                          for bucket, row in (entry.get("per_object_size") or {}).items() if row.get("objects"))
        lines.append(
            f"patrol: {name}: frame AUC {shown(entry.get('frame_auc'))}, video F1 {shown(entry.get('video_f1'))}, "
            f"false events per flight hour {shown(events.get('false_events_per_flight_hour'), '.0f')}, objects "
            f"{objects.get('found')}/{objects.get('objects')} ({sizes or 'no sized objects'}) "
            f"(no target: the baseline to beat)"
        )
    return lines


def shown(value: float | None, spec: str = ".3f") -> str:
    return "n/a" if value is None else format(value, spec)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, nargs="?", default=Path("bench/out/accuracy"))
    args = parser.parse_args()
    found = False
    for setting in ("d1", "d2"):
        path = args.out / setting / "metrics.json"
        if path.is_file():
            found = True
            for line in check(setting, json.loads(path.read_text())):
                print("- " + line)
    patrol = args.out / "patrol" / "metrics.json"
    if patrol.is_file():
        found = True
        for line in patrol_lines(json.loads(patrol.read_text())):
            print("- " + line)
    if not found:
        print(f"no metrics.json under {args.out}/d1, {args.out}/d2 or {args.out}/patrol: run bench/accuracy.sh first")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
