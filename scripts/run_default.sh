#!/usr/bin/env bash
# README command 1: installs what is missing, builds, and runs the main job on the embedded
# default. Until the trainer lands (issue 4) the main job is the memory plan of the OmniRe
# 12 GB preset.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
"${GSTRAIN_BUILD_DIR:-build}/trainer/gstrain" --config omnire_12gb.yaml --plan "$@"
