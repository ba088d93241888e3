#!/usr/bin/env bash
# scripts/gpu/run.sh (called as `scripts/gpu/check.sh run`, on the device machine): unpacks
# .device/gpu/ (see pack.sh) into $GPU_CHECK_WORK, copies the project's current sources next
# to it, makes the Vulkan loader available for WebGPU, then hands over to check.py (model,
# canaries, one `rote transcribe` per provider, the table). Everything goes to $OUT.
#
# Environment: OUT (default /tmp/gpu-check-out), GPU_CHECK_WORK (default /tmp/rote-gpu),
# GPU_CHECK_PACK (default .device/gpu), GPU_CHECK_PYTHON (default python3),
# GPU_CHECK_SMALL=1 (dry run: small model, few canaries), GPU_CHECK_BUDGET_S (whole run),
# the CUDA bundle: .device/cuda-*/ (scripts/gpu/pack-cuda.sh; scripts/gpu/cuda_bundle.py assembles it),
# GPU_CHECK_VULKAN=private (unpack the Vulkan loader under $GPU_CHECK_WORK, not into /).
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
pack="${GPU_CHECK_PACK:-$repo/.device/gpu}"
work="${GPU_CHECK_WORK:-/tmp/rote-gpu}"
out="${OUT:-/tmp/gpu-check-out}"
python_bin="${GPU_CHECK_PYTHON:-python3}"
mkdir -p "$out"
log="$out/gpu-check.log"
: >"$log"
started=$(date +%s)

# xz, or Python's lzma where the image has no xz.
decompress() {
  if command -v xz >/dev/null; then xz -dc -- "$1"; else "$python_bin" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer, 1 << 20)' "$1"; fi
}
# dpkg -x, or scripts/gpu/debx.py where the image has no dpkg.
debx() {
  if command -v dpkg >/dev/null; then dpkg -x "$1" "$2"; else "$python_bin" "$repo/scripts/gpu/debx.py" "$1" "$2"; fi
}
stage() { echo "== [$(($(date +%s) - started)) s] $*"; }
fail() { echo "gpu-check: $*" >&2; exit 1; }

prepare() {
  stage "unpack $pack -> $work"
  [ -f "$pack/manifest.json" ] || fail "no pack at $pack: run 'bash scripts/gpu/check.sh pack' on the build machine and carry .device/gpu"
  rm -rf "$work"
  mkdir -p "$work/node/bin" || fail "cannot create $work"
  decompress "$pack/node.xz" >"$work/node/bin/node" || fail "cannot unpack node.xz"
  chmod +x "$work/node/bin/node"
  decompress "$pack/node_modules.tar.xz" | tar -xf - -C "$work" || fail "cannot unpack node_modules.tar.xz"
  for item in src bin package.json package-lock.json tsconfig.json canaries; do
    [ -e "$repo/$item" ] && cp -r "$repo/$item" "$work/"
  done
  "$work/node/bin/node" --version >/dev/null || fail "the carried node does not run here"
  packed_lock=$("$python_bin" -c 'import json,sys; print(json.load(open(sys.argv[1]))["package_lock_sha256"])' "$pack/manifest.json")
  current_lock=$(sha256sum "$repo/package-lock.json" | cut -d' ' -f1)
  if [ "$packed_lock" != "$current_lock" ]; then
    echo "WARNING: package-lock.json changed since the pack was made: node_modules may be stale (re-run pack)"
  fi
  echo "node $("$work/node/bin/node" --version), $(du -sm "$work" | cut -f1) MB unpacked, $(nproc) cores"

  stage "CUDA bundle (.device/cuda-*, carried in parts by earlier calls)"
  # The provider goes next to the carried libonnxruntime.so.1, as `npm run setup:cuda` places it;
  # models/baseline to $work/shipped-models for the CUDA-vs-CPU transcripts. The CUDA 13 runtime
  # libraries are NOT set up here: rote finds them itself (bin/rote.js, src/setup/cuda.ts).
  if "$python_bin" "$repo/scripts/gpu/cuda_bundle.py" assemble "$repo/.device" "$work/cuda-bundle" >"$work/cuda-bundle.json"; then
    cat "$work/cuda-bundle.json"
    cp "$work"/cuda-bundle/provider/*.so "$work/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/"
    mkdir -p "$work/shipped-models"
    cp -r "$work/cuda-bundle/models/baseline" "$work/shipped-models/"
    rm -rf "$work/cuda-bundle"
  else
    echo "no CUDA provider: $(cat "$work/cuda-bundle.json")"
  fi

  stage "Vulkan loader for WebGPU"
  # prepare runs in a pipeline (a subshell): what the check needs in its environment goes to env.sh.
  : >"$work/env.sh"
  if [ "${GPU_CHECK_VULKAN:-}" != private ] && ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' && ldconfig -p 2>/dev/null | grep -q 'libasound.so.2'; then
    echo "libvulkan.so.1 and libasound.so.2 already installed"
  elif [ "${GPU_CHECK_VULKAN:-}" != private ] && command -v nvidia-smi >/dev/null && [ "$(id -u)" = 0 ]; then
    # The device README's recipe: these GL/Vulkan loader packages are safe to unpack into /.
    for f in "$pack"/gl/*.deb; do debx "$f" / || echo "unpacking $f failed"; done
    ldconfig
    ldconfig -p | grep 'libvulkan.so.1' || echo "libvulkan.so.1 still not found after unpacking"
    ldconfig -p | grep 'libasound.so.2' || echo "libasound.so.2 still not found after unpacking"
  else
    # A dry run (or GPU_CHECK_VULKAN=private): unpack privately, never into /.
    mkdir -p "$work/gl-root"
    for f in "$pack"/gl/*.deb; do debx "$f" "$work/gl-root" || echo "unpacking $f failed"; done
    echo "export LD_LIBRARY_PATH=\"$work/gl-root/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\"" >>"$work/env.sh"
    echo "loader unpacked privately into $work/gl-root (LD_LIBRARY_PATH)"
  fi
  nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -f "$nvidia_icd" ] && ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
    echo "export VK_DRIVER_FILES=$nvidia_icd __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json" >>"$work/env.sh"
  fi
  cat "$work/env.sh"
}

prepare 2>&1 | tee -a "$log"
[ "${PIPESTATUS[0]}" = 0 ] || exit 1
# shellcheck source=/dev/null
source "$work/env.sh"

elapsed=$(($(date +%s) - started))
PYTHONUNBUFFERED=1 "$python_bin" "$repo/scripts/gpu/check.py" --repo "$repo" --work "$work" --out "$out" --elapsed "$elapsed" 2>&1 | tee -a "$log"
exit "${PIPESTATUS[0]}"
