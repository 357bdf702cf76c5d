#!/usr/bin/env bash
# README command 1: installs what is missing, builds, and runs the main job on the embedded
# default: gstrain trains the static 12 GB preset on the generated scene (rendered by the
# independent mesh renderer into out/default/generated_scene_static on first use). The schedule
# is shortened to 3000 steps so that it finishes in a few minutes on a 2-core CPU; on a GPU
# (device: auto picks CUDA when present) it takes seconds. Extra arguments go to gstrain, e.g.
#   bash scripts/run_default.sh --set train.iterations=30000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
build="${GSTRAIN_BUILD_DIR:-build}"
"$build/bin/gstrain" --config static_12gb.yaml --out out/default \
  --set train.iterations=3000 --set train.test_every=1000 "$@"
echo "run_default: outputs in out/default (metrics.json, memory.jsonl, test_renders/, point_cloud/)"
echo "run_default: the memory plan of the OmniRe 12 GB preset:"
"$build/bin/gstrain" --config omnire_12gb.yaml --plan
