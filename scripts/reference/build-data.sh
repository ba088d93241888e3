#!/usr/bin/env bash
# Builds everything the reference training reads, on this machine (Node + rote):
# corpus -> demo canaries -> injected manifest -> feature store. Then run
# pack-device.sh and run the bundle on a GPU (or on the CPU: README.md). See README.md for timings.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
CACHE=.cache/reference
FORCE=${FORCE:-}
node --import tsx scripts/reference/corpus.ts --out "$CACHE/corpus"
node --import tsx scripts/reference/make-canaries.ts --out canaries/demo ${FORCE:+--force}
node --import tsx scripts/reference/inject.ts
rm -rf "$CACHE/store"
node --import tsx scripts/reference/features.ts --out "$CACHE/store" \
  --index train-injected.json="$CACHE/injected/train_manifest.json" \
  --index train-corpus.json="$CACHE/corpus/train_manifest.json" \
  --index dev.json="$CACHE/corpus/dev_manifest.json" \
  --canaries canaries/demo
