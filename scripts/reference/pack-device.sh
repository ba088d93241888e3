#!/usr/bin/env bash
# Packs .device/reference/ for the GPU machine: train.py, run-on-device.sh,
# unshuffle.py and data.tar.xz (the feature store, fp16 split into byte planes
# so xz compresses it better). Run build-data.sh first.
# On the device (carry [".device/reference"]):  bash .device/reference/run-on-device.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
STORE=.cache/reference/store
BUNDLE=.device/reference
LIMIT_MIB=${LIMIT_MIB:-50}
[ -f "$STORE/features.f16" ] || { echo "no feature store in $STORE: run scripts/reference/build-data.sh first" >&2; exit 1; }
rm -rf "$BUNDLE" "$BUNDLE.tmp"
mkdir -p "$BUNDLE.tmp/stage/store"
cp scripts/reference/train.py scripts/reference/run-on-device.sh scripts/reference/unshuffle.py "$BUNDLE.tmp/"
cp "$STORE"/*.json "$BUNDLE.tmp/stage/store/"
/usr/bin/python3 scripts/reference/unshuffle.py --split "$STORE/features.f16" "$BUNDLE.tmp/stage/store/features.f16.planes"
tar -C "$BUNDLE.tmp/stage" -cf - store | xz -6 -T2 > "$BUNDLE.tmp/data.tar.xz"
rm -rf "$BUNDLE.tmp/stage"
mv "$BUNDLE.tmp" "$BUNDLE"
bytes=$(du -sb "$BUNDLE" | cut -f1)
echo "packed $BUNDLE: $(du -sh "$BUNDLE" | cut -f1) ($bytes bytes)"; ls -l "$BUNDLE"
if [ "$bytes" -gt $((LIMIT_MIB * 1024 * 1024)) ]; then echo "bundle exceeds ${LIMIT_MIB} MiB: shrink the corpus (corpus.ts --train)" >&2; exit 1; fi
