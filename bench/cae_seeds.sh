#!/usr/bin/env bash
# How much the CAE default's d2 result moves with the training seed, with and without the one-standard-error
# threshold rule: `evaluate` on the benchmark's d2 setting once per seed, detectors `cae` (the default,
# threshold_se=1) and `cae_plain` (threshold_se=0, the plain best validation F1), then one table.
#
#   bash bench/cae_seeds.sh                      # seeds 0 1 2 7; data from bench/accuracy.sh's folder
#   OUT=/tmp/acc SEEDS="0 1" bash bench/cae_seeds.sh
#   SUMMARY_ONLY=1 bash bench/cae_seeds.sh       # the table again, from the runs already there
#
# Two seeds run side by side (one torch thread each, 2 cores); about 4-8 minutes per pair on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
OUT=${OUT:-bench/out/accuracy}
SEEDS=${SEEDS:-0 1 2 7}
SETTING=${SETTING:-d2}

if [ ! -f "$OUT/data/$SETTING/manifest.csv" ]; then
  echo "== generate (preset benchmark, seed 7)"
  "$PY" -m detection generate "$OUT/data" --preset benchmark --seed 7
fi

run() {
  "$PY" -m detection evaluate "$OUT/data/$SETTING/manifest.csv" --detectors cae,cae_plain=cae \
    --set cae_plain.threshold_se=0 --seed "$1" --threads 1 --no-progress \
    --out "$OUT/seeds/$SETTING-seed$1" > "$OUT/seeds/$SETTING-seed$1.log" 2>&1
}

mkdir -p "$OUT/seeds"
if [ -z "${SUMMARY_ONLY:-}" ]; then  # SUMMARY_ONLY=1: only the table, from the runs already there
  started=$(date +%s)
  set -- $SEEDS
  while [ $# -gt 0 ]; do
    run "$1" & first=$!
    if [ $# -gt 1 ]; then run "$2" & second=$!; wait "$second"; shift; fi
    wait "$first"; shift
  done
  echo "== total $(( $(date +%s) - started )) s"
fi

"$PY" - "$OUT/seeds" "$SETTING" $SEEDS <<'EOF'
import json, sys
from pathlib import Path

folder, setting, seeds = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
print("| seed | detector | threshold | >=0.5%: AUC | >=0.5%: F1 | all frames: AUC | all frames: F1 "
      "| false alarms (of the test normal frames) | intervals found | false events |")
print("|---|---|---|---|---|---|---|---|---|---|")
for seed in seeds:
    metrics = json.loads((folder / f"{setting}-seed{seed}" / "metrics.json").read_text())
    for name in ("cae", "cae_plain"):
        entry = metrics["detectors"][name]
        if entry.get("status") != "ok":
            print(f"| {seed} | {name} | failed: {entry.get('error')} |")
            continue
        large = entry["large_anomalies"]
        print(
            f"| {seed} | {name} | {entry['threshold']:.3f} | {large['frame_auc']:.3f} | {large['f1']:.3f} | "
            f"{entry['frame_auc']:.3f} | {entry['f1']:.3f} | {entry['confusion']['fp']} | "
            f"{entry['events']['found']} of {entry['events']['intervals']} | {entry['events']['false_events']} |"
        )
EOF
