#!/usr/bin/env bash
# Trains the reference round on this machine's CPU from the feature store that
# build-data.sh wrote: a probe of the baseline recipe (sets C for the fixed-C clipped
# runs), then the runs in priority order, SLOTS at a time, one thread each:
#   baseline, per-example-clip, control, per-core-clip, adaptive-per-example-clip, adaptive-per-core-clip
#
#   nohup bash scripts/reference/train-runs.sh > .cache/reference/round/train-runs.log 2>&1 &
#
# Resumable: a run whose metrics.json exists is skipped, a run with a checkpoint.pt
# resumes from it (train.py), a probe.json that exists is reused; so after a stop,
# start the same command again. Knobs (environment): STORE (.cache/reference/store),
# WORK (.cache/reference/round), RUNS (the list above, in order), SLOTS (2),
# NICE (5), PASSES (2: STEPS = PASSES passes over the injected lines at BATCH_SIZE),
# STEPS, BATCH_SIZE (16), PROBE_STEPS (300), C_QUANTILE (0.1), ADAPTIVE_QUANTILE (0.1),
# MICRO_BATCHES (4), PYTHON (/usr/bin/python3), TRAIN_ARGS (more train.py flags).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
STORE=${STORE:-.cache/reference/store}
WORK=${WORK:-.cache/reference/round}
RUNS=${RUNS:-"baseline per-example-clip control per-core-clip adaptive-per-example-clip adaptive-per-core-clip"}
SLOTS=${SLOTS:-2}
NICE=${NICE:-5}
PASSES=${PASSES:-2}
BATCH_SIZE=${BATCH_SIZE:-16}
PROBE_STEPS=${PROBE_STEPS:-300}
C_QUANTILE=${C_QUANTILE:-0.1}
ADAPTIVE_QUANTILE=${ADAPTIVE_QUANTILE:-0.1}
MICRO_BATCHES=${MICRO_BATCHES:-4}
PY=${PYTHON:-/usr/bin/python3}
TRAIN_ARGS=${TRAIN_ARGS:-}
[ -f "$STORE/train-injected.json" ] || { echo "train-runs.sh: $STORE/train-injected.json not found: run build-data.sh first" >&2; exit 2; }
mkdir -p "$WORK/runs" "$WORK/logs"
injected=$("$PY" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["utterances"]))' "$STORE/train-injected.json")
STEPS=${STEPS:-$(( (PASSES * injected + BATCH_SIZE - 1) / BATCH_SIZE ))}
log() { echo "[$(date -u +%H:%M:%S)] $*"; }
log "round: $injected injected lines, $STEPS steps of $BATCH_SIZE ($PASSES passes), $SLOTS at a time, nice $NICE; runs: $RUNS"

common=(--features "$STORE" --threads 1 --batch-size "$BATCH_SIZE")
probe() {
  if [ -f "$WORK/probe.json" ]; then return 0; fi
  log "probe: $PROBE_STEPS baseline steps, then gradient norms"
  nice -n "$NICE" "$PY" scripts/reference/train.py probe "${common[@]}" --train-index train-injected.json \
    --steps "$PROBE_STEPS" --schedule-steps "$STEPS" --micro-batches "$MICRO_BATCHES" \
    --output "$WORK/probe.json" >"$WORK/logs/probe.log" 2>&1
  log "probe: done ($(tail -2 "$WORK/logs/probe.log" | cut -c1-200 | tr '\n' ' '))"
}

train_run() {
  local name=$1 args=()
  local out="$WORK/runs/$name"
  if [ -f "$out/metrics.json" ]; then log "$name: finished before, skipped"; return 0; fi
  case "$name" in
    baseline) args=(--variant baseline --train-index train-injected.json) ;;
    control) args=(--variant control --train-index train-corpus.json) ;;
    per-example-clip|per-core-clip)
      while [ ! -f "$WORK/probe.json" ]; do sleep 10; done
      args=(--variant "$name" --train-index train-injected.json --clip-from "$WORK/probe.json" --clip-quantile "$C_QUANTILE") ;;
    adaptive-per-example-clip|adaptive-per-core-clip)
      args=(--variant "$name" --train-index train-injected.json --adaptive-quantile "$ADAPTIVE_QUANTILE") ;;
    *) echo "train-runs.sh: unknown run '$name'" >&2; return 2 ;;
  esac
  log "$name: started"
  if nice -n "$NICE" "$PY" scripts/reference/train.py train "${common[@]}" "${args[@]}" --name "$name" \
      --steps "$STEPS" --micro-batches "$MICRO_BATCHES" --out "$out" $TRAIN_ARGS >>"$WORK/logs/$name.log" 2>&1; then
    log "$name: $(tail -1 "$WORK/logs/$name.log" | cut -c1-240)"
  else
    log "$name: FAILED (see $WORK/logs/$name.log)"
  fi
}

# A queue in a file: each slot takes the next run under a lock; the probe goes first,
# so the fixed-C runs can start as soon as it is done.
queue="$WORK/queue"
printf '%s\n' probe $RUNS >"$queue"
slot() {
  while true; do
    local next
    next=$(flock "$queue.lock" sh -c 'head -1 "$1"; sed -i 1d "$1"' _ "$queue")
    [ -n "$next" ] || return 0
    if [ "$next" = probe ]; then probe; else train_run "$next"; fi
  done
}
for _ in $(seq "$SLOTS"); do slot & done
wait
log "round done"
