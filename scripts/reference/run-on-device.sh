#!/usr/bin/env bash
# Trains the four reference variants (and the C search) in parallel on one GPU,
# exports them to ONNX, picks C, and leaves at most 7 files in $OUT:
#   baseline.onnx per-example-clip.onnx per-core-clip.onnx control.onnx
#   (a variant whose export failed comes back as <name>.pt instead)
#   results.tar.xz (tokens.txt, c-search.json, every run's metrics/transcripts/log)
#   summary.txt, progress.txt (rewritten every 20 s while training runs)
# Run from the repository root:  bash .device/reference/run-on-device.sh
# Knobs (environment): STEPS (2000), BUDGET_SEC (330: from start until every run
# is trained, evaluated and exported), DEVICE (cuda), THREADS (2 per run),
# C_MULTIPLIERS ("0.1 0.3 1": C = multiplier x median gradient norm at init),
# MICRO_BATCHES (4), PYTHON (python3), WORK (scratch dir), TRAIN_ARGS (extra
# train.py flags for every run, e.g. "--norm-batches 1 --calibration-steps 2").
# Round 3 (run-round3.sh sets these): STORE (a feature store already built
# here: data.tar.xz is not read), START_EPOCH (unix time BUDGET_SEC counts from;
# default now), BATCH_SIZE (16), PROBE_STEPS (0; > 0: first `train.py probe`
# trains the baseline recipe that many steps alone and measures gradient norms,
# then C = each of C_QUANTILES ("0.05 0.25 0.5") of those norms, replacing
# C_MULTIPLIERS), PROBE_ARGS (extra probe flags; give it the --lr/--warmup/
# --weight-decay of TRAIN_ARGS, if any), EXTRA_RESULTS (files added to
# results.tar.xz). SERIAL=1 (CPU dry runs): the self-test and the runs one after
# another, each run choosing its own step count (no barrier).
set -euo pipefail
export PYTHONUNBUFFERED=1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${OUT:?set OUT to the folder that receives the results}"
PY=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}
STEPS=${STEPS:-2000}
BUDGET_SEC=${BUDGET_SEC:-330}
BATCH_SIZE=${BATCH_SIZE:-16}
PROBE_STEPS=${PROBE_STEPS:-0}
C_QUANTILES=${C_QUANTILES:-"0.05 0.25 0.5"}
THREADS=${THREADS:-2}
C_MULTIPLIERS=${C_MULTIPLIERS:-"0.1 0.3 1"}
MICRO_BATCHES=${MICRO_BATCHES:-4}
WORK=${WORK:-$(mktemp -d /tmp/rote-reference.XXXXXX)}
START=${START_EPOCH:-$(date +%s)}
DEADLINE=$((START + BUDGET_SEC))
mkdir -p "$OUT" "$WORK/runs"
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS

echo "== rote reference training: device $DEVICE, steps $STEPS, batch $BATCH_SIZE, budget ${BUDGET_SEC}s ($(( DEADLINE - $(date +%s) ))s left), work $WORK"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$PY" -c 'import sys, torch; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available())'

if [ -n "${STORE:-}" ]; then
  [ -f "$STORE/features.f16" ] || { echo "STORE=$STORE holds no features.f16" >&2; exit 1; }
  [ "$STORE" -ef "$WORK/store" ] || { rm -rf "$WORK/store"; ln -s "$(cd "$STORE" && pwd)" "$WORK/store"; }
  echo "feature store $STORE: $(du -shL "$WORK/store" | cut -f1)"
else
  tar -xJf "$HERE/data.tar.xz" -C "$WORK"
  "$PY" "$HERE/unshuffle.py" "$WORK/store/features.f16.planes" "$WORK/store/features.f16"
  rm "$WORK/store/features.f16.planes"
  echo "data unpacked in $(( $(date +%s) - START ))s: $(du -sh "$WORK/store" | cut -f1)"
fi

# The self-test (CTC vs F.ctc_loss, padding invariance, vmap gradients) runs on
# the CPU beside the training; its log travels back in results.tar.xz.
( "$PY" "$HERE/train.py" selftest --threads 1 > "$WORK/runs/selftest.log" 2>&1 || echo "selftest FAILED" >> "$WORK/runs/selftest.log" ) &
SELFTEST_PID=$!
[ -z "${SERIAL:-}" ] || wait "$SELFTEST_PID" || true

RUNS=("baseline baseline train-injected.json" "control control train-corpus.json")
if [ "$PROBE_STEPS" -gt 0 ]; then
  # C from the norms of a partly trained baseline (round 3): the probe runs alone first.
  # shellcheck disable=SC2086
  if "$PY" "$HERE/train.py" probe --features "$WORK/store" --train-index train-injected.json --output "$WORK/probe.json" \
    --device "$DEVICE" --threads "$THREADS" --steps "$PROBE_STEPS" --schedule-steps "$STEPS" --batch-size "$BATCH_SIZE" \
    --micro-batches "$MICRO_BATCHES" ${PROBE_ARGS:-} > "$WORK/runs/probe.log" 2>&1 && [ -f "$WORK/probe.json" ]; then
    grep 'probe: per' "$WORK/runs/probe.log" || true
    echo "probe done at $(( $(date +%s) - START ))s"
  else
    # Better the round-1 rule than no clipped runs at all: the summary says so.
    echo "probe FAILED ($(tail -n 3 "$WORK/runs/probe.log")): C from the initial norms, multipliers $C_MULTIPLIERS" | tee "$WORK/probe-failed.txt"
    PROBE_STEPS=0
  fi
fi
if [ "$PROBE_STEPS" -gt 0 ]; then
  for q in $C_QUANTILES; do
    RUNS+=("per-example-clip-q$q per-example-clip train-injected.json --clip-from $WORK/probe.json --clip-quantile $q")
    RUNS+=("per-core-clip-q$q per-core-clip train-injected.json --clip-from $WORK/probe.json --clip-quantile $q --micro-batches $MICRO_BATCHES")
  done
else
  for m in $C_MULTIPLIERS; do
    RUNS+=("per-example-clip-c$m per-example-clip train-injected.json --clip-multiplier $m")
    RUNS+=("per-core-clip-c$m per-core-clip train-injected.json --clip-multiplier $m --micro-batches $MICRO_BATCHES")
  done
fi
[ -n "${SERIAL:-}" ] && BARRIER_COUNT=1 || BARRIER_COUNT=${#RUNS[@]}
declare -A PIDS STATUS
for spec in "${RUNS[@]}"; do
  read -r name variant index extra <<<"$spec"
  # shellcheck disable=SC2086
  "$PY" "$HERE/train.py" train --variant "$variant" --name "$name" --features "$WORK/store" \
    --train-index "$index" --out "$WORK/runs/$name" --device "$DEVICE" --threads "$THREADS" \
    --steps "$STEPS" --batch-size "$BATCH_SIZE" --deadline "$DEADLINE" --barrier-dir "$WORK/barrier" --barrier-count "$BARRIER_COUNT" \
    ${extra:-} ${TRAIN_ARGS:-} > "$WORK/runs/$name.log" 2>&1 &
  PIDS[$name]=$!
  if [ -n "${SERIAL:-}" ]; then wait "${PIDS[$name]}" && STATUS[$name]=0 || STATUS[$name]=1; fi
done
echo "started ${#RUNS[@]} runs: ${!PIDS[*]}"

progress() {
  { date; for name in "${!PIDS[@]}"; do echo "--- $name"; tail -n 3 "$WORK/runs/$name.log" 2>/dev/null; done; } > "$OUT/progress.txt.tmp"
  mv "$OUT/progress.txt.tmp" "$OUT/progress.txt"
}
( while true; do progress; sleep 20; done ) &
PROGRESS_PID=$!

FAILED=()
for name in "${!PIDS[@]}"; do
  if [ -n "${STATUS[$name]:-}" ]; then status=${STATUS[$name]}; elif wait "${PIDS[$name]}"; then status=0; else status=1; fi
  if [ "$status" != 0 ]; then FAILED+=("$name"); echo "run $name FAILED: $(tail -n 5 "$WORK/runs/$name.log")"; fi
done
kill "$PROGRESS_PID" 2>/dev/null || true
progress
echo "training finished in $(( $(date +%s) - START ))s${FAILED:+; failed: ${FAILED[*]}}"

pack_results() {
  wait "$SELFTEST_PID" 2>/dev/null || true
  mkdir -p "$WORK/results/runs"
  for dir in "$WORK"/runs/*/; do
    name=$(basename "$dir")
    mkdir -p "$WORK/results/runs/$name"
    cp "$dir"/metrics.json "$dir"/transcripts.json "$WORK/results/runs/$name/" 2>/dev/null || true
  done
  cp "$WORK"/runs/*.log "$WORK/results/runs/" 2>/dev/null || true
  cp "$WORK/c-search.json" "$WORK/chosen.txt" "$WORK/summary.txt" "$WORK/results/" 2>/dev/null || true
  cp "$WORK"/store/store.json "$WORK/results/" 2>/dev/null || true
  cp "$WORK/probe.json" "$WORK/probe-failed.txt" "$WORK/results/" 2>/dev/null || true
  for extra in ${EXTRA_RESULTS:-}; do cp "$extra" "$WORK/results/" 2>/dev/null || echo "EXTRA_RESULTS: $extra missing"; done
  tar -C "$WORK/results" -cJf "$OUT/results.tar.xz.tmp" .
  mv "$OUT/results.tar.xz.tmp" "$OUT/results.tar.xz"
}

if "$PY" "$HERE/train.py" select --runs "$WORK/runs" --output "$WORK/c-search.json" --chosen-list "$WORK/chosen.txt" --probe "$WORK/probe.json" > "$WORK/summary.txt" 2>&1; then
  while read -r model dir; do
    if [ -f "$dir/model.onnx" ]; then
      cp "$dir/model.onnx" "$OUT/$model.onnx"
      cp "$dir/tokens.txt" "$WORK/results/tokens.txt" 2>/dev/null || { mkdir -p "$WORK/results"; cp "$dir/tokens.txt" "$WORK/results/tokens.txt"; }
    else
      cp "$dir/model.pt" "$OUT/$model.pt"
    fi
  done < "$WORK/chosen.txt"
else
  echo "select failed" >> "$WORK/summary.txt"
fi
mkdir -p "$WORK/results"
pack_results
cp "$WORK/summary.txt" "$OUT/summary.txt"
grep -h '^\(ok  \|FAIL\|skip\)' "$WORK/runs/selftest.log" || true
echo "== summary (total $(( $(date +%s) - START ))s)"
cat "$WORK/summary.txt"
ls -l "$OUT"
