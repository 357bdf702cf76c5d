#!/usr/bin/env bash
# Each omnire preset on the embedded street scene (CPU) with its budget shrunk until the caps
# bind: prints one JSON line per preset with the peak against the budget on every memory.jsonl
# line, the per-node counts at the end, and whether every node is present and none emptied.
# The shared MLP switches on at step 500 so its activations are part of the peak. The budget is
# per tier (the 16/24 GB presets' 1024² sky alone needs 288 MiB with its Adam state).
# Usage: scripts/bench_omnire_budgets.sh [build_dir] [budget_gb for 8/12 GB] [steps]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
BUDGET_SMALL=${2:-0.16}
STEPS=${3:-800}
OUT=${GSTRAIN_BENCH_OUT:-/tmp/gstrain_omnire_budgets}
mkdir -p "$OUT"
for gb in 8 12 16 24; do
  run="$OUT/omnire_${gb}gb"
  BUDGET=$BUDGET_SMALL
  if [ "$gb" -ge 16 ]; then BUDGET=${GSTRAIN_BENCH_BIG_BUDGET:-0.45}; fi
  rm -rf "$run"
  start=$(date +%s)
  "$BUILD/bin/gstrain" --config "omnire_${gb}gb.yaml" --device cpu --no-progress --out "$run" \
    --set memory.budget_gb="$BUDGET" --set train.iterations="$STEPS" --set deform.warmup_steps=500 \
    --set train.test_every="$STEPS" >"$run.log" 2>&1 || { echo "{\"preset\": \"omnire_${gb}gb\", \"rc\": $?}"; continue; }
  secs=$(( $(date +%s) - start ))
  python3 - "$run" "$gb" "$secs" <<'PY'
import json, sys
run, gb, secs = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = [json.loads(l) for l in open(run + "/memory.jsonl")]
over = [l["step"] for l in lines if l["peak_bytes"] > l["budget_bytes"]]
nodes = lines[-1]["gaussians"]
caps = {}
for l in lines:
    for e in l.get("events", []):
        if "cap" in e or "limit" in e or "threshold" in e:
            caps.setdefault(e.split("'")[1] if "'" in e else "?", 0)
            caps[e.split("'")[1] if "'" in e else "?"] += 1
m = json.load(open(run + "/metrics.json"))
emptied = [n for n in nodes if any(l["gaussians"].get(n, 1) == 0 for l in lines)]
print(json.dumps({"preset": f"omnire_{gb}gb", "seconds": secs, "lines": len(lines),
                  "budget_bytes": lines[-1]["budget_bytes"],
                  "max_peak_bytes": max(l["peak_bytes"] for l in lines),
                  "lines_over_budget": over, "final_gaussians": nodes,
                  "nodes_emptied": emptied, "capacity_events": caps,
                  "test_psnr": m["test"]["psnr"],
                  "vehicle_psnr": m["test"].get("vehicle_psnr"),
                  "human_psnr": m["test"].get("human_psnr")}))
PY
done
