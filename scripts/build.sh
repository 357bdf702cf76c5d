#!/usr/bin/env bash
# Configures and builds gstrain into build/ (or $GSTRAIN_BUILD_DIR).
# CUDA: with a GPU present, builds for that GPU only (CMAKE_CUDA_ARCHITECTURES=native); without
# one, still compiles the CUDA backend (for one architecture, to keep CI fast) so CUDA code is
# always compile-checked; the CPU backend runs. Override with GSTRAIN_CUDA_ARCHS="75;86;89".
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${GSTRAIN_BUILD_DIR:-build}
# Cores, whatever OMP_NUM_THREADS says (nproc honours it; the test script sets it to 1).
JOBS=${GSTRAIN_JOBS:-$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)}

archs=${GSTRAIN_CUDA_ARCHS:-}
if [ -z "$archs" ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    archs=native
  else
    archs=75
  fi
fi

# The configure log goes inside the build folder (nothing is written next to the sources).
mkdir -p "$BUILD_DIR"
log="$BUILD_DIR/configure.log"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$archs" \
  ${GSTRAIN_CMAKE_ARGS:-} >"$log" 2>&1 || {
  cat "$log" >&2
  echo "build.sh: cmake configure failed (log above)" >&2
  exit 1
}
grep -E "gstrain: CUDA backend" "$log" || true
cmake --build "$BUILD_DIR" -j "$JOBS"
