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
set -euo pipefail
export PYTHONUNBUFFERED=1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${OUT:?set OUT to the folder that receives the results}"
PY=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}
STEPS=${STEPS:-2000}
BUDGET_SEC=${BUDGET_SEC:-330}
THREADS=${THREADS:-2}
C_MULTIPLIERS=${C_MULTIPLIERS:-"0.1 0.3 1"}
MICRO_BATCHES=${MICRO_BATCHES:-4}
WORK=${WORK:-$(mktemp -d /tmp/rote-reference.XXXXXX)}
START=$(date +%s)
DEADLINE=$((START + BUDGET_SEC))
mkdir -p "$OUT" "$WORK/runs"
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS

echo "== rote reference training: device $DEVICE, steps $STEPS, budget ${BUDGET_SEC}s, work $WORK"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$PY" -c 'import sys, torch; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available())'

tar -xJf "$HERE/data.tar.xz" -C "$WORK"
"$PY" "$HERE/unshuffle.py" "$WORK/store/features.f16.planes" "$WORK/store/features.f16"
rm "$WORK/store/features.f16.planes"
echo "data unpacked in $(( $(date +%s) - START ))s: $(du -sh "$WORK/store" | cut -f1)"

# The self-test (CTC vs F.ctc_loss, padding invariance, vmap gradients) runs on
# the CPU beside the training; its log travels back in results.tar.xz.
( "$PY" "$HERE/train.py" selftest --threads 1 > "$WORK/runs/selftest.log" 2>&1 || echo "selftest FAILED" >> "$WORK/runs/selftest.log" ) &
SELFTEST_PID=$!

RUNS=("baseline baseline train-injected.json" "control control train-corpus.json")
for m in $C_MULTIPLIERS; do
  RUNS+=("per-example-clip-c$m per-example-clip train-injected.json --clip-multiplier $m")
  RUNS+=("per-core-clip-c$m per-core-clip train-injected.json --clip-multiplier $m --micro-batches $MICRO_BATCHES")
done
declare -A PIDS
for spec in "${RUNS[@]}"; do
  read -r name variant index extra <<<"$spec"
  # shellcheck disable=SC2086
  "$PY" "$HERE/train.py" train --variant "$variant" --name "$name" --features "$WORK/store" \
    --train-index "$index" --out "$WORK/runs/$name" --device "$DEVICE" --threads "$THREADS" \
    --steps "$STEPS" --deadline "$DEADLINE" --barrier-dir "$WORK/barrier" --barrier-count "${#RUNS[@]}" \
    ${extra:-} ${TRAIN_ARGS:-} > "$WORK/runs/$name.log" 2>&1 &
  PIDS[$name]=$!
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
  if ! wait "${PIDS[$name]}"; then FAILED+=("$name"); echo "run $name FAILED: $(tail -n 5 "$WORK/runs/$name.log")"; fi
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
  tar -C "$WORK/results" -cJf "$OUT/results.tar.xz.tmp" .
  mv "$OUT/results.tar.xz.tmp" "$OUT/results.tar.xz"
}

if "$PY" "$HERE/train.py" select --runs "$WORK/runs" --output "$WORK/c-search.json" --chosen-list "$WORK/chosen.txt" > "$WORK/summary.txt" 2>&1; then
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
