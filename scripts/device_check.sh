#!/bin/bash
# Issues 9–11's GPU checks in one script, for a lent device machine (see ../shared/device/): the
# [cuda] suite, memcheck, then full-resolution trainings, each with its own time limit, so the
# script ends in a known time and a failing step does not stop the next one.
#   here:   GSTRAIN_BUILD_DIR=build-h200 GSTRAIN_CUDA_ARCHS=90 scripts/build.sh
#           ../shared/device/pack.sh build-h200 && cp scripts/device_check.sh .device_carry/
#           cp -r ../shared/data/nerf_lego_train .device_carry/lego      # MODE=static (42 MB)
#           cp ../shared/data/splats/guitar.ply .device_carry/bench.ply      # render benchmark (4.9 MiB)
# Sizes (2026-11-29, sm_90 build): src.tar.xz 3.3 MiB + lib.tar.xz 12 MiB + lego 42 MiB + bench
# 4.9 MiB = 62 MiB of the 64 MiB carry; D-NeRF lego (20 MiB) does not fit beside the lego.
#           cp -r ../shared/data/dnerf_lego .device_carry/dnerf          # MODE=dnerf (20 MB)
#   there:  MODE=all RESULTS=$OUT bash .device_carry/device_check.sh   (everything in one call,
#           concurrently on the one GPU, under the 10-minute limit of a call; or one of:)
#           MODE=static RESULTS=$OUT bash .device_carry/device_check.sh
#           MODE=street: generates the large street scene there (gsgen, no data to carry) and
#           trains omnire_8gb … 24gb on it, LIMIT seconds each (default 100), nvidia-smi per run
# The 64 MiB carry holds one of the two datasets next to the binaries: one MODE per device call.
set -u
D=$PWD/.device_carry; ROOT=$(cat "$D/ROOT"); B=$ROOT/build-h200
MODE=${MODE:-static}; RESULTS=${RESULTS:-/tmp/results}; STEPS=${STEPS:-}
ALLOC=${ALLOC:-}  # memory.allocator for the trainings (empty: the preset's, cuda_malloc)
T0=$(date +%s); step() { echo; echo "=== [t=$(( $(date +%s) - T0 ))s] $*"; }
# The render benchmark (bench.ply from the carry, orbit camera 1280x720) with each allocator;
# the JSON of each into DIR/bench_<allocator>.json, the main figures printed.
render_bench() {
  [ -f "$D/bench.ply" ] || { echo "no bench.ply in the carry: skipped"; return; }
  for a in cuda_malloc stream_pool; do
    timeout -k 5 40 "$B/bin/bench_render" --ply "$D/bench.ply" --width 1280 --height 720 \
      --device cuda --repeats 50 --allocator $a > "$1/bench_$a.json" 2>&1
    grep -E '"(allocator|gaussians|instances|forward_ms_median|backward_ms_median|total_ms_median|peak_bytes)"' "$1/bench_$a.json"
  done
}
step "setup ($MODE)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
mkdir -p "$ROOT" && tar -xJf "$D/src.tar.xz" -C "$ROOT"
mkdir -p /tmp/gslib && tar -xJf "$D/lib.tar.xz" -C /tmp/gslib
export LD_LIBRARY_PATH=/tmp/gslib:/usr/local/cuda-13.0/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}
ldd "$B/bin/gstrain" | grep "not found"
cd "$ROOT"
if [ "$MODE" = all ]; then
  # Everything in one call of at most 10 minutes. First the [train][cuda] tests with the GPU to
  # themselves (they measure device-wide memory); then the trainings in the background (an H200
  # runs these scenes far below its capacity) while the other [cuda] tests, memcheck and the
  # render benchmark run in the foreground. Under this sharing ms/step are not benchmarks; PSNR,
  # Gaussians and accounted peaks are. nvidia-smi is sampled device-wide and per process (inside
  # a container its pids may not match ours: then the per-run peaks read 0; MODE=street measures
  # the tiers alone). The D-NeRF run needs $D/dnerf in the carry (lego + dnerf + binaries may
  # not fit in 64 MiB: then it is skipped and MODE=dnerf does it). Small results are copied to
  # $RESULTS every 30 s, so a call killed at its limit still returns them.
  RUNS=/tmp/runs; mkdir -p $RUNS "$RESULTS"; : > $RUNS/pids.txt; TPIDS=()
  save() { tar -czf "$RESULTS/results.tgz" -C /tmp --exclude='*.ckpt' --exclude='*.ply' runs 2>/dev/null; }
  ( while sleep 30; do save; done ) & SAVER=$!
  nvidia-smi --query-gpu=timestamp,memory.used --format=csv,noheader -lms 500 > $RUNS/smi.csv & SMI=$!
  nvidia-smi --query-compute-apps=pid,used_gpu_memory --format=csv,noheader,nounits -lms 500 \
    > $RUNS/smi_apps.csv & SMI_APPS=$!
  step "CUDA training tests, the GPU to themselves"
  timeout -k 10 150 "$B/tests/gstrain_tests" "[train][cuda]" -d yes > $RUNS/cuda_train_tests.log 2>&1
  echo "exit $?"; grep -E "FAILED|passed|failed|test cases" $RUNS/cuda_train_tests.log | tail -8
  launch() {  # name seconds gstrain-args...: one training in the background
    local name=$1 limit=$2; shift 2
    timeout -k 30 -s INT "$limit" "$B/bin/gstrain" "$@" --out $RUNS/$name --no-progress \
      ${ALLOC:+--set memory.allocator=$ALLOC} > $RUNS/$name.log 2>&1 &
    TPIDS+=($!); local t=$!; sleep 2; echo "$name $(pgrep -P $t)" >> $RUNS/pids.txt
  }
  step "trainings in the background: lego 800x800 static_24gb, D-NeRF lego deformable_24gb, street"
  launch static "${LIMIT_STATIC:-380}" --config static_24gb --data "$D/lego" \
    --set data.background=white --set data.test_every=8 --set train.test_every=2500
  [ -d "$D/dnerf" ] && launch dnerf "${LIMIT_DNERF:-380}" --config deformable_24gb --data "$D/dnerf" \
    --set train.test_every=2500
  ( timeout -k 10 120 "$B/bin/gsgen" --kind street --size large --out /tmp/street_large > $RUNS/gsgen.log 2>&1
    for gb in 8 12 16 24; do
      timeout -k 30 -s INT "${LIMIT_STREET:-55}" "$B/bin/gstrain" --config "omnire_${gb}gb" \
        --data /tmp/street_large --out $RUNS/omnire_${gb}gb --no-progress \
        --set train.test_every=1000 ${ALLOC:+--set memory.allocator=$ALLOC} \
        > $RUNS/omnire_${gb}gb.log 2>&1 &
      t=$!; sleep 2; echo "omnire_${gb}gb $(pgrep -P $t)" >> $RUNS/pids.txt; wait $t
    done ) & TPIDS+=($!)
  step "the other CUDA tests"
  timeout -k 10 150 "$B/tests/gstrain_tests" "[cuda]~[train]" -d yes > $RUNS/cuda_tests.log 2>&1
  echo "exit $?"; grep -E "FAILED|passed|failed|test cases" $RUNS/cuda_tests.log | tail -12
  step "memcheck"
  timeout -k 10 100 compute-sanitizer --tool memcheck --print-limit 10 "$B/tests/gstrain_tests" \
    "[cuda]~[train]" > $RUNS/memcheck.log 2>&1; tail -4 $RUNS/memcheck.log
  step "render benchmark: cudaMalloc against the stream-ordered pool (shared GPU: indicative)"
  render_bench $RUNS
  step "waiting for the trainings"
  wait "${TPIDS[@]}"; kill $SMI $SMI_APPS $SAVER
  echo "device-wide nvidia-smi peak: $(sort -t, -k2 -n $RUNS/smi.csv | tail -1)"
  while read -r name pid; do
    peak=$(awk -F', ' -v p="$pid" '$1 == p && $2 + 0 > m {m = $2 + 0} END {print m + 0}' $RUNS/smi_apps.csv)
    echo "--- $name (pid $pid): nvidia-smi peak ${peak} MiB"; tail -2 $RUNS/$name.log
    grep -h test_psnr $RUNS/$name/train.jsonl 2>/dev/null | cut -c1-160 | tail -4
  done < $RUNS/pids.txt
  step pack
  save
  exit 0
fi
if [ "$MODE" = static ]; then
  step "CUDA tests (realistic-size parity included)"
  timeout 240 "$B/tests/gstrain_tests" "[cuda]" -d yes 2>&1 | tail -60
  step "memcheck"
  timeout 120 compute-sanitizer --tool memcheck --print-limit 10 "$B/tests/gstrain_tests" \
    "[cuda]~[train]" 2>&1 | tail -8
  step "render benchmark: cudaMalloc against the stream-ordered pool (memory.allocator)"
  render_bench /tmp
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
