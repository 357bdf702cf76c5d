#!/usr/bin/env bash
# Installs gstrain's build and test dependencies from Debian packages.
# Idempotent: packages already installed are skipped, and apt-get runs only when something is
# missing. Fails loudly (non-zero exit, naming the package) when a package cannot be installed.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libyaml-cpp-dev nlohmann-json3-dev libglm-dev catch2 libomp-dev
  # Only the OpenCV components gstrain uses: libopencv-dev drags in GUI and video stacks, and
  # imgcodecs GDAL with ~150 shared libraries. Images are decoded/encoded with stb (headers only).
  libopencv-core-dev libopencv-imgproc-dev libopencv-calib3d-dev
  libstb-dev
  # BLAS for the CPU deformation MLP (the CUDA build uses cuBLAS from the toolkit).
  libopenblas-dev
  # crc32 of checkpoints (a corrupted checkpoint is refused, not resumed)
  zlib1g-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! { $SUDO apt-get update -qq && \
       $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "install_deps: ERROR: apt-get could not install: ${missing[*]} (output above)" >&2
  exit 1
fi
rm -f "$log"
for p in "${missing[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    echo "install_deps: ERROR: package '$p' is still not installed" >&2
    exit 1
  fi
done
echo "install_deps: done"
