#!/usr/bin/env bash
# Trains the reference round on this machine's CPU from the feature store that
# build-data.sh wrote: the runs in priority order, SLOTS at a time, one thread each:
#   baseline, control, per-example-clip, per-core-clip, adaptive-per-example-clip, adaptive-per-core-clip
# and, when the C rule asks for the next candidate, runs named per-example-clip-q<Q>,
# per-core-clip-q<Q> (C = the probe's Q quantile), adaptive-per-example-clip-q<Q> or
# adaptive-per-core-clip-q<Q> (C = each batch's Q quantile of its own norms), e.g.
# RUNS=adaptive-per-example-clip-q0.5.
# The probe that sets C for the fixed-C clipped runs measures gradient norms with the
# baseline's weights after PROBE_STEPS steps (saved by the baseline run: the same model
# `train.py probe` would train by itself, not trained twice); the first fixed-C run makes
# probe.json, the other waits for it.
# CORPUS_LINES=K trains on the first K corpus utterances (by id) of the store plus every
# canary copy (the control: those K alone); the indexes train-injected-K.json and
# train-corpus-K.json are written into the store.
#
#   nohup bash scripts/reference/train-runs.sh > .cache/reference/round/train-runs.log 2>&1 &
#
# Resumable: a run whose metrics.json exists is skipped, a run with a checkpoint.pt
# resumes from it (train.py), a probe.json that exists is reused; so after a stop,
# start the same command again. Knobs (environment): STORE (.cache/reference/store),
# WORK (.cache/reference/round), RUNS (the list above, in order), SLOTS (2), NICE (5),
# CORPUS_LINES (all), PASSES (2: STEPS = PASSES passes over the injected lines at
# BATCH_SIZE), STEPS, BATCH_SIZE (16), WARMUP (150), PROBE_STEPS (300), C_QUANTILE (0.1),
# ADAPTIVE_QUANTILE (0.1), MICRO_BATCHES (4), PYTHON (/usr/bin/python3), DEVICE (cpu; cuda
# where a GPU is lent: the same script and train.py run there unchanged), TRAIN_ARGS
# (more train.py flags), EVAL_STORE (.cache/reference/store-eval: where build-data.sh put
# the evaluation set; each finished run is evaluated on it, train.py evaluate -> devEval in
# its metrics.json, the CER the C rule's bound uses; skipped when the store does not exist),
# SAVE_STEPS (none: comma-separated steps, e.g. 167,334,668,1336, after which each run keeps
# its weights and exports them with the final model as <run>/steps/step-<N>/model.onnx: the
# checkpoints of a trajectory; see "Reference trajectories" in README.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
STORE=${STORE:-.cache/reference/store}
WORK=${WORK:-.cache/reference/round}
RUNS=${RUNS:-"baseline control per-example-clip per-core-clip adaptive-per-example-clip adaptive-per-core-clip"}
SLOTS=${SLOTS:-2}
NICE=${NICE:-5}
CORPUS_LINES=${CORPUS_LINES:-}
PASSES=${PASSES:-2}
BATCH_SIZE=${BATCH_SIZE:-16}
WARMUP=${WARMUP:-150}
PROBE_STEPS=${PROBE_STEPS:-300}
C_QUANTILE=${C_QUANTILE:-0.1}
ADAPTIVE_QUANTILE=${ADAPTIVE_QUANTILE:-0.1}
MICRO_BATCHES=${MICRO_BATCHES:-4}
PY=${PYTHON:-/usr/bin/python3}
DEVICE=${DEVICE:-cpu}
TRAIN_ARGS=${TRAIN_ARGS:-}
EVAL_STORE=${EVAL_STORE:-.cache/reference/store-eval}
SAVE_STEPS=${SAVE_STEPS:-}
[ -f "$STORE/train-injected.json" ] || { echo "train-runs.sh: $STORE/train-injected.json not found: run build-data.sh first" >&2; exit 2; }
mkdir -p "$WORK/runs" "$WORK/logs"
log() { echo "[$(date -u +%H:%M:%S)] $*"; }

INJECTED=train-injected.json
CORPUS=train-corpus.json
if [ -n "$CORPUS_LINES" ]; then
  INJECTED=train-injected-$CORPUS_LINES.json
  CORPUS=train-corpus-$CORPUS_LINES.json
  "$PY" - "$STORE" "$CORPUS_LINES" "$INJECTED" "$CORPUS" <<'PYTHON'
import json, os, sys
store, k, injected_name, corpus_name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
corpus = json.load(open(os.path.join(store, 'train-corpus.json')))
keep = {u['id'] for u in sorted(corpus['utterances'], key=lambda u: u['id'])[:k]}
if len(keep) < k:
    sys.exit(f'CORPUS_LINES={k}: the store has only {len(keep)} corpus utterances')
injected = json.load(open(os.path.join(store, 'train-injected.json')))
texts = {u['text'] for u in corpus['utterances']}

def write(name, data, utterances, what):
    with open(os.path.join(store, name + '.tmp'), 'w') as f:
        json.dump({**data, 'utterances': utterances, 'subset': what}, f)
    os.replace(os.path.join(store, name + '.tmp'), os.path.join(store, name))

# corpus lines kept by id; every canary copy (a text not in the corpus) stays, in the injected order
write(injected_name, injected, [u for u in injected['utterances'] if u['id'] in keep or u['text'] not in texts],
      f'first {k} corpus utterances by id + every canary copy')
write(corpus_name, corpus, [u for u in corpus['utterances'] if u['id'] in keep], f'first {k} corpus utterances by id')
PYTHON
fi
injected=$("$PY" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["utterances"]))' "$STORE/$INJECTED")
STEPS=${STEPS:-$(( (PASSES * injected + BATCH_SIZE - 1) / BATCH_SIZE ))}
log "round: $injected injected lines ($INJECTED), $STEPS steps of $BATCH_SIZE ($PASSES passes), warm-up $WARMUP, $SLOTS at a time, nice $NICE; runs: $RUNS"

common=(--features "$STORE" --threads 1 --batch-size "$BATCH_SIZE" --device "$DEVICE" --warmup "$WARMUP")
weights="$WORK/runs/baseline/weights-step$PROBE_STEPS.pt"
probe() {  # under a lock: the first fixed-C run measures, the other waits and reuses probe.json
  (
    flock 9
    if [ ! -f "$WORK/probe.json" ]; then
      while [ ! -f "$weights" ]; do sleep 10; done
      log "probe: gradient norms with the baseline's weights after $PROBE_STEPS steps"
      nice -n "$NICE" "$PY" scripts/reference/train.py probe "${common[@]}" --train-index "$INJECTED" \
        --steps "$PROBE_STEPS" --schedule-steps "$STEPS" --micro-batches "$MICRO_BATCHES" --weights "$weights" \
        --output "$WORK/probe.json" >"$WORK/logs/probe.log" 2>&1
      log "probe: done ($(tail -n 2 "$WORK/logs/probe.log" | cut -c1-200 | tr '\n' ' '))"
    fi
  ) 9>"$WORK/probe.lock"
}

evaluate_run() {  # the evaluation-set CER (devEval), once per finished run
  local name=$1 out="$WORK/runs/$1"
  [ -f "$EVAL_STORE/dev-eval.json" ] || return 0
  grep -q '"devEval"' "$out/metrics.json" && return 0
  if nice -n "$NICE" "$PY" scripts/reference/train.py evaluate "$out" --features "$EVAL_STORE" --index dev-eval.json \
      --label "dev-eval-$("$PY" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["utterances"]))' "$EVAL_STORE/dev-eval.json")" \
      --threads 1 >>"$WORK/logs/$name.log" 2>&1; then
    log "$name: $(tail -n 1 "$WORK/logs/$name.log" | cut -c1-240)"
  else
    log "$name: evaluation FAILED (see $WORK/logs/$name.log)"
  fi
}

train_run() {
  local name=$1 args=()
  local out="$WORK/runs/$name"
  if [ -f "$out/metrics.json" ]; then log "$name: finished before, skipped"; evaluate_run "$name"; return 0; fi
  case "$name" in
    baseline) args=(--variant baseline --train-index "$INJECTED" --save-weights-at "$PROBE_STEPS") ;;
    control) args=(--variant control --train-index "$CORPUS") ;;
    per-example-clip|per-core-clip)
      probe
      args=(--variant "$name" --train-index "$INJECTED" --clip-from "$WORK/probe.json" --clip-quantile "$C_QUANTILE") ;;
    adaptive-per-example-clip)
      args=(--variant "$name" --train-index "$INJECTED" --adaptive-quantile "$ADAPTIVE_QUANTILE") ;;
    adaptive-per-core-clip)  # C = the smallest of the batch's micro-batch norms
      args=(--variant "$name" --train-index "$INJECTED") ;;
    per-example-clip-q*|per-core-clip-q*)  # the C rule's next candidate: C from another quantile of the probe
      probe
      args=(--variant "${name%-q*}" --train-index "$INJECTED" --clip-from "$WORK/probe.json" --clip-quantile "${name##*-q}") ;;
    adaptive-per-example-clip-q*|adaptive-per-core-clip-q*)  # C = another quantile of each batch's own norms
      args=(--variant "${name%-q*}" --train-index "$INJECTED" --adaptive-quantile "${name##*-q}") ;;
    *) echo "train-runs.sh: unknown run '$name'" >&2; return 2 ;;
  esac
  log "$name: started"
  if nice -n "$NICE" "$PY" scripts/reference/train.py train "${common[@]}" "${args[@]}" --name "$name" \
      --steps "$STEPS" --micro-batches "$MICRO_BATCHES" --out "$out" ${SAVE_STEPS:+--save-steps "$SAVE_STEPS"} $TRAIN_ARGS >>"$WORK/logs/$name.log" 2>&1; then
    log "$name: $(tail -n 1 "$WORK/logs/$name.log" | cut -c1-240)"
    evaluate_run "$name"
  else
    log "$name: FAILED (see $WORK/logs/$name.log)"
  fi
}

# A queue in a file: each slot takes the next run under a lock.
queue="$WORK/queue"
printf '%s\n' $RUNS >"$queue"
slot() {
  while true; do
    local next
    next=$(flock "$queue.lock" sh -c 'head -1 "$1"; sed -i 1d "$1"' _ "$queue")
    [ -n "$next" ] || return 0
    train_run "$next"
  done
}
for _ in $(seq "$SLOTS"); do slot & done
wait
log "round done"
