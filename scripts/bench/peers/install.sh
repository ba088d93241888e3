#!/bin/sh
# Installs the bench peers that are too large for package.json (~0.5 GB) into .cache/peers/
# (ignored by git): transformers.js, the peer of scripts/bench/hf-ctc.bench.ts.
#
#   sh scripts/bench/peers/install.sh
#
# onnxruntime-node is pinned (npm "overrides") to the version rote itself uses, so the two
# run the same ONNX Runtime build in one process: the same kernels, and one libonnxruntime.so.1
# (the dynamic linker loads a library of that name only once per process; a second, newer
# binding would run against rote's older library). --ignore-scripts: onnxruntime-node's
# install script only downloads CUDA libraries (no network here); its CPU binaries are in
# the package itself. sharp (an image dependency, unused by speech) stays without its binaries.
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
peers="$root/.cache/peers"
ort=$(node -p "require('$root/package.json').dependencies['onnxruntime-node']")
mkdir -p "$peers"
cat > "$peers/package.json" <<JSON
{
  "private": true,
  "description": "bench peers of rote (scripts/bench/peers/install.sh)",
  "dependencies": { "@huggingface/transformers": "4.3.2" },
  "overrides": { "onnxruntime-node": "$ort" }
}
JSON
npm install --prefix "$peers" --ignore-scripts --no-audit --no-fund
version() { node -p "require('$peers/node_modules/$1/package.json').version"; }
echo "installed @huggingface/transformers $(version @huggingface/transformers) with onnxruntime-node $(version onnxruntime-node) in $peers"
