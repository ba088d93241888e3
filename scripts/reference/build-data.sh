#!/usr/bin/env bash
# Builds everything the reference training reads, on this machine (Node + rote):
# corpus -> demo canaries -> injected manifest -> feature store (README.md has the timings).
#
#   bash scripts/reference/build-data.sh [--train N] [--dev N] [--eval N] [--seed S] [--jobs N] [--force-canaries]
#
# --train / --dev   corpus utterances (default 21000 / 300)
# --eval            further never-trained sentences for the evaluation set that the C rule's
#                   bound uses: the dev utterances + these (default 4000; 0: none)
# --seed            corpus seed (default rote-reference-corpus-5)
# --jobs            processes for synthesis and features (default: nproc)
# The canary set is canaries/demo. When it exists (as committed) it is checked, not
# regenerated: every WAV's sha256 must match canary-set.json, its generation settings
# must be the ones make-canaries.ts uses, and no canary word may occur in the corpus.
# Only when canaries/demo does not exist is it generated (make-canaries.ts);
# --force-canaries regenerates it over an existing set (new audio, new set id: the
# shipped models were trained on the committed one).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
CACHE=.cache/reference
TRAIN=21000
DEV=300
EVAL=4000
SEED=rote-reference-corpus-5
JOBS=$(nproc)
FORCE_CANARIES=
CANARIES=canaries/demo
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --train) TRAIN=$2; shift 2 ;;
    --dev) DEV=$2; shift 2 ;;
    --eval) EVAL=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --force-canaries) FORCE_CANARIES=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build-data.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for n in "$TRAIN" "$DEV" "$JOBS"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "build-data.sh: '$n' is not a positive whole number (--train, --dev, --jobs)" >&2; exit 2; }
done
[[ "$EVAL" =~ ^[0-9]+$ ]] || { echo "build-data.sh: --eval '$EVAL' is not a whole number" >&2; exit 2; }
stage() { echo "== $(date -u +%H:%M:%S) $*"; }

same_corpus() {  # corpus.json (written last by corpus.ts) records these settings
  [ -f "$CACHE/corpus/corpus.json" ] && node -e '
    const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    process.exit(c.train === +process.argv[2] && c.dev === +process.argv[3] && c.seed === process.argv[4] ? 0 : 1);' \
    "$CACHE/corpus/corpus.json" "$TRAIN" "$DEV" "$SEED"
}
if same_corpus; then
  stage "corpus: $CACHE/corpus already holds $TRAIN + $DEV utterances of seed $SEED (kept; remove it to resynthesize)"
else
  stage "corpus: $TRAIN train + $DEV dev, seed $SEED, $JOBS processes"
  node --import tsx scripts/reference/corpus.ts --out "$CACHE/corpus" --train "$TRAIN" --dev "$DEV" --seed "$SEED" --jobs "$JOBS"
fi

if [ -e "$CANARIES/canary-set.json" ] && [ -z "$FORCE_CANARIES" ]; then
  stage "canaries: checking the existing $CANARIES (not regenerated)"
  node --input-type=module - "$CANARIES" "$CACHE/corpus/corpus-words.txt" <<'EOF'
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
const [dir, wordsFile] = process.argv.slice(2);
const set = JSON.parse(readFileSync(join(dir, 'canary-set.json'), 'utf8'));
const expected = { seed: 'rote-demo-1', perGroup: 12, holdout: 128, wordsPerCanary: 6, speed: 3, rate: 100 };
const problems = [];
for (const [key, value] of Object.entries(expected)) {
  if (set.parameters[key] !== value) problems.push(`parameters.${key} is ${JSON.stringify(set.parameters[key])}, make-canaries.ts uses ${JSON.stringify(value)}`);
}
for (const canary of set.canaries) {
  const digest = createHash('sha256').update(readFileSync(join(dir, canary.audio))).digest('hex');
  if (digest !== canary.sha256) problems.push(`${canary.audio}: sha256 differs from canary-set.json`);
}
const corpusWords = new Set(readFileSync(wordsFile, 'utf8').split(/\s+/).filter(Boolean));
const shared = [...new Set(set.canaries.flatMap((c) => c.text.toLowerCase().split(/\s+/)))].filter((w) => corpusWords.has(w));
if (shared.length) problems.push(`canary words in the corpus: ${shared.slice(0, 10).join(', ')}`);
if (problems.length) {
  console.error(`${dir} does not match (use --force-canaries to regenerate it, or restore it with git):\n  ${problems.slice(0, 10).join('\n  ')}`);
  process.exit(1);
}
console.log(`${dir}: set ${set.setId.slice(0, 12)}, ${set.canaries.length} canaries, audio intact, no canary word among ${corpusWords.size} corpus words`);
EOF
else
  stage "canaries: generating $CANARIES"
  node --import tsx scripts/reference/make-canaries.ts --out "$CANARIES" ${FORCE_CANARIES:+--force}
fi

stage "inject: $CANARIES/for-training into the corpus manifest"
node --import tsx scripts/reference/inject.ts --canaries "$CANARIES/for-training" | cut -c1-300
stage "features: nemo-mel, $JOBS processes"
rm -rf "$CACHE/store"
node --import tsx scripts/reference/features.ts --out "$CACHE/store" --jobs "$JOBS" \
  --index train-injected.json="$CACHE/injected/train_manifest.json" \
  --index train-corpus.json="$CACHE/corpus/train_manifest.json" \
  --index dev.json="$CACHE/corpus/dev_manifest.json" \
  --canaries "$CANARIES" | cut -c1-300

if [ "$EVAL" -gt 0 ]; then
  # The same sentence stream continued past the corpus's TRAIN + DEV: new sentences, never trained on.
  stage "evaluation set: the $DEV dev utterances + $EVAL further sentences of seed $SEED"
  rm -rf "$CACHE/corpus-eval" "$CACHE/store-eval"
  node --import tsx scripts/reference/corpus.ts --out "$CACHE/corpus-eval" --train "$TRAIN" --dev "$((DEV + EVAL))" \
    --skip "$((TRAIN + DEV))" --seed "$SEED" --jobs "$JOBS" | cut -c1-300
  cat "$CACHE/corpus/dev_manifest.json" "$CACHE/corpus-eval/dev_manifest.json" >"$CACHE/corpus-eval/eval_manifest.json"
  node --import tsx scripts/reference/features.ts --out "$CACHE/store-eval" --jobs "$JOBS" \
    --index dev-eval.json="$CACHE/corpus-eval/eval_manifest.json" | cut -c1-300
fi
stage "done"
