#!/usr/bin/env bash
# scripts/gpu/pack-cuda.sh (`scripts/gpu/check.sh pack-cuda`): ONNX Runtime's CUDA provider (as
# `npm run setup:cuda` installed it, sha256 checked against the pin in src/setup/cuda.ts) and
# models/baseline (for the CUDA-vs-CPU transcript check), as one xz-compressed tar split into
# as few equal parts as each fit a device call with the working tree (GPU_CHECK_PART_MIB sets the
# largest part by hand): .device/cuda-1 ... .device/cuda-N, each holding bundle.part and
# part.json (index, count, sha256 of the part and of the whole).
# The compressed bundle is cached in .cache/gpu-check/ (xz -9e of 230 MB takes minutes).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
cache="$repo/.cache/gpu-check"
limit_mib=64
ort=node_modules/onnxruntime-node/bin/napi-v6/linux/x64
python_bin=$(command -v /usr/bin/python3 || command -v python3)
for tool in xz tar split sha256sum; do
  command -v "$tool" >/dev/null || { echo "pack-cuda: '$tool' is needed" >&2; exit 1; }
done

# 1. The provider, checked against the pin (sha256 and size from src/setup/cuda.ts).
pins=$(node --import tsx -e "
import { CUDA_PROVIDER_PACKAGE as p } from './src/setup/cuda.ts';
for (const f of p.files) console.log(f.name + ' ' + f.sha256);")
while read -r name sha; do
  [ -f "$ort/$name" ] || { echo "pack-cuda: $ort/$name missing: run 'npm run setup:cuda -- --without-driver' first" >&2; exit 1; }
  echo "$sha  $ort/$name" | sha256sum -c --quiet - || { echo "pack-cuda: $ort/$name is not the pinned file: rerun npm run setup:cuda" >&2; exit 1; }
done <<<"$pins"

# 2. models/baseline (put aside by models-aside.sh? then from there, sha256 checked by that script).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bundle/provider" "$tmp/bundle/models/baseline" "$cache"
while read -r name _; do cp "$ort/$name" "$tmp/bundle/provider/"; done <<<"$pins"
cp models/baseline/* "$tmp/bundle/models/baseline/" 2>/dev/null || true
if [ ! -f "$tmp/bundle/models/baseline/model.onnx" ]; then
  aside=.cache/reference/models-aside/baseline.onnx
  [ -f "$aside" ] || { echo "pack-cuda: models/baseline/model.onnx not found (nor $aside)" >&2; exit 1; }
  cp "$aside" "$tmp/bundle/models/baseline/model.onnx"
fi

# 3. One tar, xz -9e (cached by content), split.
key=$(cd "$tmp/bundle" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
bundle="$cache/cuda-bundle-$key.tar.xz"
if [ ! -s "$bundle" ]; then
  echo "pack-cuda: xz -9e of $(du -sm "$tmp/bundle" | cut -f1) MB (minutes on one core)"
  tar -cf - -C "$tmp/bundle" . | nice xz -9e -T1 -c >"$bundle.part"
  mv "$bundle.part" "$bundle"
  find "$cache" -maxdepth 1 -name 'cuda-bundle-*.tar.xz' ! -name "$(basename "$bundle")" -delete
fi
bundle_sha=$(sha256sum "$bundle" | cut -d' ' -f1)
bundle_bytes=$(stat -c %s "$bundle")

# 4. Parts: as few as fit, equal in size. Each call carries one part plus the working tree as it
# will be for the device calls (models/*/model.onnx and canaries/demo aside: models-aside.sh).
tree=$(git ls-files -z --cached --others --exclude-standard | "$python_bin" -c '
import os, sys
names = set(n for n in sys.stdin.buffer.read().split(b"\0") if n)
aside = lambda n: (n.startswith(b"models/") and n.endswith(b"/model.onnx")) or n.startswith(b"canaries/demo/")
print(sum(os.path.getsize(n) for n in names if os.path.isfile(n) and not aside(n)))')
if [ -n "${GPU_CHECK_PART_MIB:-}" ]; then
  max_part=$((GPU_CHECK_PART_MIB * 1048576))
else
  max_part=$((limit_mib * 1048576 - tree - 1048576)) # 1 MiB to spare
fi
[ "$max_part" -gt 1048576 ] || { echo "pack-cuda: the working tree alone ($((tree / 1048576)) MiB) leaves no room for a part" >&2; exit 1; }
count=$(((bundle_bytes + max_part - 1) / max_part))
rm -rf .device/cuda-*
split -n "$count" -d -a 2 "$bundle" "$tmp/part-"
parts=("$tmp"/part-*)
[ "${#parts[@]}" = "$count" ] || { echo "pack-cuda: split made ${#parts[@]} parts, expected $count" >&2; exit 1; }
for i in $(seq 1 "$count"); do
  dir=".device/cuda-$i"
  mkdir -p "$dir"
  mv "${parts[$((i - 1))]}" "$dir/bundle.part"
  printf '{"index": %d, "count": %d, "sha256": "%s", "bundle_sha256": "%s", "bundle_bytes": %d}\n' \
    "$i" "$count" "$(sha256sum "$dir/bundle.part" | cut -d' ' -f1)" "$bundle_sha" "$bundle_bytes" >"$dir/part.json"
done

echo "pack-cuda: bundle $(awk -v b="$bundle_bytes" 'BEGIN { printf "%.1f", b / 1048576 }') MiB (sha256 ${bundle_sha:0:16}...) in $count parts; working tree for the device calls $(awk -v t="$tree" 'BEGIN { printf "%.1f", t / 1048576 }') MiB (models and demo canaries aside)"
for i in $(seq 1 "$count"); do
  size=$(stat -c %s ".device/cuda-$i/bundle.part")
  awk -v p="$size" -v t="$tree" -v l="$limit_mib" -v i="$i" 'BEGIN {
    printf "  call %d: carry [\".device/cuda-%d\"]  %.1f MiB + tree %.1f MiB = %.1f MiB of %d\n", i, i, p / 1048576, t / 1048576, (p + t) / 1048576, l }'
done
echo "  call $((count + 1)): carry [\".device/gpu\"]  bash scripts/gpu/check.sh run"
echo "pack-cuda: first 'bash scripts/reference/models-aside.sh out --with-demo'; calls 1..$count run 'bash scripts/gpu/check.sh receive'"
