#!/bin/bash
# Issues 9–11's GPU checks in one script, for a lent device machine (see ../shared/device/): the
# [cuda] suite, memcheck, then full-resolution trainings, each with its own time limit, so the
# script ends in a known time and a failing step does not stop the next one.
#   here:   GSTRAIN_BUILD_DIR=build-h200 GSTRAIN_CUDA_ARCHS=90 scripts/build.sh
#           ../shared/device/pack.sh build-h200 && cp scripts/device_check.sh .device_carry/
#           cp -r ../shared/data/nerf_lego_train .device_carry/lego      # MODE=static (42 MB)
#           cp ../shared/data/splats/biker.ply .device_carry/                # render benchmark (8.6 MB)
#           cp -r ../shared/data/dnerf_lego .device_carry/dnerf          # MODE=dnerf (20 MB)
#   there:  MODE=static RESULTS=$OUT bash .device_carry/device_check.sh
#           MODE=street: generates the large street scene there (gsgen, no data to carry) and
#           trains omnire_8gb … 24gb on it, LIMIT seconds each (default 100), nvidia-smi per run
# The 64 MiB carry holds one of the two datasets next to the binaries: one MODE per device call.
set -u
D=$PWD/.device_carry; ROOT=$(cat "$D/ROOT"); B=$ROOT/build-h200
MODE=${MODE:-static}; RESULTS=${RESULTS:-/tmp/results}; STEPS=${STEPS:-}
ALLOC=${ALLOC:-}  # memory.allocator for the trainings (empty: the preset's, cuda_malloc)
T0=$(date +%s); step() { echo; echo "=== [t=$(( $(date +%s) - T0 ))s] $*"; }
step "setup ($MODE)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
mkdir -p "$ROOT" && tar -xJf "$D/src.tar.xz" -C "$ROOT"
mkdir -p /tmp/gslib && tar -xJf "$D/lib.tar.xz" -C /tmp/gslib
export LD_LIBRARY_PATH=/tmp/gslib:/usr/local/cuda-13.0/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}
ldd "$B/bin/gstrain" | grep "not found"
cd "$ROOT"
if [ "$MODE" = static ]; then
  step "CUDA tests (realistic-size parity included)"
  timeout 240 "$B/tests/gstrain_tests" "[cuda]" -d yes 2>&1 | tail -60
  step "memcheck"
  timeout 120 compute-sanitizer --tool memcheck --print-limit 10 "$B/tests/gstrain_tests" \
    "[cuda]~[train]" 2>&1 | tail -8
  step "render benchmark: cudaMalloc against the stream-ordered pool (memory.allocator)"
  for a in cuda_malloc stream_pool; do
    timeout 60 "$B/bin/bench_render" --ply "$D/biker.ply" --cameras tests/fixtures/biker_cameras.json \
      --device cuda --repeats 50 --allocator $a 2>&1 | grep -E '"(allocator|gaussians|instances|forward_ms_median|backward_ms_median|total_ms_median|peak_bytes)"'
  done
  data=$D/lego; preset=static_24gb; extra="--set data.background=white --set data.test_every=8"
  limit=${LIMIT:-300}
elif [ "$MODE" = street ]; then
  step "generate the large street scene (960x640, 60 frames x 3 cameras)"
  "$B/bin/gsgen" --kind street --size large --out /tmp/street_large 2>&1 | tail -1
  mkdir -p /tmp/runs
  for gb in 8 12 16 24; do
    step "omnire_${gb}gb on the large street scene (memory.enforce caps at the tier)"
    nvidia-smi --query-gpu=timestamp,memory.used --format=csv,noheader -lms 500 > /tmp/runs/smi_${gb}.csv & SMI=$!
    timeout -s INT "${LIMIT:-100}" "$B/bin/gstrain" --config "omnire_${gb}gb" --data /tmp/street_large \
      --out /tmp/runs/omnire_${gb}gb --no-progress --set train.test_every=2000 \
      ${STEPS:+--set train.iterations=$STEPS} ${ALLOC:+--set memory.allocator=$ALLOC} > /tmp/runs/omnire_${gb}gb.log 2>&1; echo "exit $?"
    kill $SMI; tail -2 /tmp/runs/omnire_${gb}gb.log; sort -t, -k2 -n /tmp/runs/smi_${gb}.csv | tail -1
  done
  step pack
  mkdir -p "$RESULTS"; tar -czf "$RESULTS/results.tgz" -C /tmp --exclude='*.ckpt' --exclude='*.ply' runs
  exit 0
else
  data=$D/dnerf; preset=deformable_24gb; extra=""; limit=${LIMIT:-420}
fi
step "$preset on $(basename "$data") at 800x800 (SIGINT after ${limit}s still writes metrics.json)"
nvidia-smi --query-gpu=timestamp,memory.used --format=csv,noheader -lms 500 > /tmp/smi.csv & SMI=$!
timeout -s INT "$limit" "$B/bin/gstrain" --config "$preset" --data "$data" --out /tmp/run \
  --no-progress --set train.test_every=1000 ${STEPS:+--set train.iterations=$STEPS} ${ALLOC:+--set memory.allocator=$ALLOC} $extra \
  > /tmp/run.log 2>&1; echo "exit $?"
kill $SMI; tail -5 /tmp/run.log; sort -t, -k2 -n /tmp/smi.csv | tail -1
grep test_psnr /tmp/run/train.jsonl | cut -c1-120
step pack
mkdir -p "$RESULTS"; tar -czf "$RESULTS/results.tgz" -C /tmp --exclude='*.ckpt' run run.log smi.csv
