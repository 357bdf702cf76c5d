#!/usr/bin/env bash
# The test command (README command 2; .ci/run runs exactly this): installs what is missing,
# builds, and runs the whole Catch2 suite through CTest. Needs no GPU and no ../shared data:
# tests that need them report themselves as skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
cd "${GSTRAIN_BUILD_DIR:-build}"
ctest --output-on-failure -j "${GSTRAIN_JOBS:-$(nproc)}"
