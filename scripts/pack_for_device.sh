#!/usr/bin/env bash
# Packs gstrain's executables and the shared libraries they need (besides glibc/libstdc++ and
# the CUDA driver) into one folder, so they run on a GPU machine that has no Debian packages:
#   scripts/pack_for_device.sh BUILD_DIR OUT_DIR
#   # on the GPU machine:
#   tar -xJf OUT_DIR/lib.tar.xz -C /tmp/gslib && LD_LIBRARY_PATH=/tmp/gslib OUT_DIR/bin/gstrain ...
# Build BUILD_DIR for the target GPU first, e.g.
#   GSTRAIN_BUILD_DIR=build-h100 GSTRAIN_CUDA_ARCHS=90 scripts/build.sh
set -euo pipefail
build=${1:?usage: pack_for_device.sh BUILD_DIR OUT_DIR}
out=${2:?usage: pack_for_device.sh BUILD_DIR OUT_DIR}
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib"
tools=(bin/gstrain bin/gsrender bin/bench_render bin/bench_deform bin/gsgen tests/gstrain_tests)
for t in "${tools[@]}"; do
  [ -x "$build/$t" ] || { echo "pack_for_device: $build/$t is not built" >&2; exit 1; }
  cp "$build/$t" "$out/bin/"
  strip --strip-unneeded "$out/bin/$(basename "$t")"
done
# Every resolved library except the C runtime, which the target has (and must match its kernel).
skip='^(linux-vdso|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|ld-linux|libstdc\+\+|libgcc_s)'
for t in "${tools[@]}"; do ldd "$build/$t"; done | awk '/=>/ {print $1, $3}' | sort -u |
  while read -r name path; do
    if [[ "$name" =~ $skip ]]; then continue; fi
    cp -L "$path" "$out/lib/$name"
  done
tar -cJf "$out/lib.tar.xz" -C "$out/lib" .
rm -rf "$out/lib"
du -sh "$out"
