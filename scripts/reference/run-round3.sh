#!/usr/bin/env bash
# Round 3 of the reference training on the GPU machine, in one call (README.md, "Round 3"):
# unpacks Node and the sources packed by pack-round3.sh, synthesizes a corpus ~17x larger
# than rounds 1-2 (corpus.ts), weaves in the committed canaries/demo (inject.ts), computes
# the feature store (features.ts), then hands over to run-on-device.sh: a probe run of the
# baseline recipe measures gradient norms, C = quantiles of them, 8 runs in parallel, the
# C search, ONNX export. In $OUT (at most 8 files): the four <model>.onnx, results.tar.xz,
# summary.txt, progress.txt, console.txt.
#   On the device:   OUT=... bash .device/reference-round3/run.sh
#   Dry run here:    see README.md (DEVICE=cpu PYTHON=/usr/bin/python3 TRAIN_UTTS=48 ... SERIAL=1)
# Knobs (environment), defaults sized in README.md: TRAIN_UTTS (32000), DEV_UTTS (300),
# CORPUS_SEED (rote-reference-corpus-3), JOBS (nproc: corpus and feature processes),
# BATCH_SIZE (32), MAX_EPOCHS (2: STEPS defaults to MAX_EPOCHS passes over the injected
# manifest), STEPS, PROBE_STEPS (400), C_QUANTILES ("0.05 0.25 0.5"), BUDGET_SEC (540: from
# this script's start until every run is trained, evaluated and exported), WORK
# (/tmp/rote-round3), CANARIES (canaries/demo of the working tree), PYTHON (python3);
# DEVICE, THREADS, MICRO_BATCHES, TRAIN_ARGS, PROBE_ARGS, SERIAL pass on to run-on-device.sh.
set -euo pipefail
export START_EPOCH=${START_EPOCH:-$(date +%s)}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
: "${OUT:?set OUT to the folder that receives the results}"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PY=${PYTHON:-python3}
JOBS=${JOBS:-$(nproc)}
TRAIN_UTTS=${TRAIN_UTTS:-32000}
DEV_UTTS=${DEV_UTTS:-300}
CORPUS_SEED=${CORPUS_SEED:-rote-reference-corpus-3}
BATCH_SIZE=${BATCH_SIZE:-32}
MAX_EPOCHS=${MAX_EPOCHS:-2}
PROBE_STEPS=${PROBE_STEPS:-400}
C_QUANTILES=${C_QUANTILES:-"0.05 0.25 0.5"}
BUDGET_SEC=${BUDGET_SEC:-540}
WORK=${WORK:-/tmp/rote-round3}
CANARIES=${CANARIES:-$REPO/canaries/demo}
APP=$WORK/app
DATA=$WORK/data

stage() { echo "== [$(( $(date +%s) - START_EPOCH )) s] $*"; }
decompress() {  # xz, or Python's lzma where the image has no xz
  if command -v xz >/dev/null; then xz -dc -- "$1"; else "$PY" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer, 1 << 20)' "$1"; fi
}

main() {
  set -euo pipefail
  stage "round 3: $TRAIN_UTTS + $DEV_UTTS utterances (seed $CORPUS_SEED), $JOBS processes, batch $BATCH_SIZE, budget ${BUDGET_SEC}s; work $WORK"
  rm -rf "$WORK/app" "$WORK/data" "$WORK/train"
  mkdir -p "$APP/node/bin" "$DATA"
  decompress "$HERE/node.xz" >"$APP/node/bin/node"
  chmod +x "$APP/node/bin/node"
  decompress "$HERE/node_modules.tar.xz" | tar -xf - -C "$APP"
  decompress "$HERE/sources.tar.xz" | tar -xf - -C "$APP"
  export PATH="$APP/node/bin:$PATH"
  echo "node $(node --version), $(nproc) cores, $(du -sm "$APP" | cut -f1) MB unpacked"
  packed_set=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["canarySetSha256"])' "$HERE/manifest.json")
  [ "$packed_set" = "$(sha256sum "$CANARIES/canary-set.json" | cut -d' ' -f1)" ] \
    || echo "WARNING: $CANARIES/canary-set.json differs from the one packed with (manifest.json): not the committed demo set?"
  cd "$APP"

  stage "corpus: $TRAIN_UTTS train + $DEV_UTTS dev (espeak-ng wasm, $JOBS processes)"
  node --import tsx scripts/reference/corpus.ts --out "$DATA/corpus" --train "$TRAIN_UTTS" --dev "$DEV_UTTS" \
    --seed "$CORPUS_SEED" --jobs "$JOBS"
  # The canaries were made excluding the words of rounds 1-2's corpus; this corpus comes from
  # the same grammar, so it must not contain any canary word either.
  "$PY" - "$DATA/corpus/corpus-words.txt" "$CANARIES/canary-set.json" <<'EOF'
import json, sys
words = set(open(sys.argv[1]).read().split())
canary = {w for c in json.load(open(sys.argv[2]))['canaries'] for w in c['text'].lower().split()}
shared = sorted(words & canary)
print(f'corpus words {len(words)}, canary words {len(canary)}, shared {len(shared)}')
if shared:
    sys.exit(f'the corpus contains canary words: {shared[:20]}')
EOF

  stage "inject: $CANARIES/for-training into the corpus manifest"
  node --import tsx scripts/reference/inject.ts --manifest "$DATA/corpus/train_manifest.json" \
    --canaries "$CANARIES/for-training" --out "$DATA/injected/train_manifest.json" \
    --audio-dir "$DATA/injected/canary-audio" | cut -c1-300

  stage "features: nemo-mel, $JOBS processes"
  node --import tsx scripts/reference/features.ts --out "$DATA/store" --jobs "$JOBS" \
    --index train-injected.json="$DATA/injected/train_manifest.json" \
    --index train-corpus.json="$DATA/corpus/train_manifest.json" \
    --index dev.json="$DATA/corpus/dev_manifest.json" \
    --canaries "$CANARIES" | cut -c1-120
  cd "$REPO"

  injected=$(grep -c . "$DATA/injected/train_manifest.json")
  export STEPS=${STEPS:-$(( (MAX_EPOCHS * injected + BATCH_SIZE - 1) / BATCH_SIZE ))}
  data_sec=$(( $(date +%s) - START_EPOCH ))
  "$PY" - "$DATA" "$data_sec" "$injected" <<EOF
import json, sys
data, data_sec, injected = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
corpus = {k: v for k, v in json.load(open(f'{data}/corpus/corpus.json')).items() if k != 'utterances'}
store = json.load(open(f'{data}/store/store.json'))
store.pop('frontend', None)
json.dump({'round': 3, 'corpusSeed': '$CORPUS_SEED', 'trainUtterances': $TRAIN_UTTS, 'devUtterances': $DEV_UTTS,
           'injectedLines': injected, 'batchSize': $BATCH_SIZE, 'maxEpochs': $MAX_EPOCHS, 'stepsCap': $STEPS,
           'probeSteps': $PROBE_STEPS, 'cQuantiles': '$C_QUANTILES', 'budgetSec': $BUDGET_SEC, 'jobs': $JOBS,
           'dataSec': data_sec, 'corpus': corpus, 'store': store}, open(f'{data}/round3.json', 'w'), indent=1)
print(f'data ready in {data_sec} s: {injected} injected lines; steps cap {$STEPS} = {$STEPS * $BATCH_SIZE / injected:.2f} passes at batch $BATCH_SIZE')
EOF

  stage "training (run-on-device.sh)"
  STORE="$DATA/store" BUDGET_SEC="$BUDGET_SEC" BATCH_SIZE="$BATCH_SIZE" PROBE_STEPS="$PROBE_STEPS" \
    C_QUANTILES="$C_QUANTILES" PYTHON="$PY" WORK="$WORK/train" OUT="$OUT" \
    EXTRA_RESULTS="$DATA/round3.json $DATA/injected/injection-receipt.json $DATA/corpus/corpus.json" \
    bash "$HERE/run-on-device.sh"
  stage "done"
}

set +e
main 2>&1 | tee "$OUT/console.txt"
status=${PIPESTATUS[0]}
exit "$status"
