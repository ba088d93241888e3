#!/usr/bin/env bash
# The GPU check of issue 4: rote transcribe on a real GPU (CUDA, WebGPU) against the CPU.
#
#   bash scripts/gpu-check.sh pack   # here: builds .device/gpu/ (Node, linux-x64 node_modules,
#                                    # Vulkan loader debs), prints sizes; needs npm + network
#   bash scripts/gpu-check.sh run    # on the device machine (carry [".device/gpu"]): builds a
#                                    # ~121M-parameter random-weight Conformer-CTC with its
#                                    # PyTorch, synthesizes 2000 canaries with `rote generate`,
#                                    # runs `rote transcribe` on cuda, webgpu, cpu (baseline
#                                    # subset) and auto; table + JSON + log into $OUT
#
# Dry run on a machine without a GPU (small model, 40 canaries, Debian's torch):
#   OUT=/tmp/gpu-out GPU_CHECK_SMALL=1 GPU_CHECK_PYTHON=/usr/bin/python3 bash scripts/gpu-check.sh run
# Other knobs (run): GPU_CHECK_WORK (default /tmp/rote-gpu), GPU_CHECK_BUDGET_S (330),
# GPU_CHECK_CANARIES (2000), GPU_CHECK_FIRST_UTTERANCES (200: each GPU provider's first run,
# whose rate sizes the full run to the budget), GPU_CHECK_CPU_UTTERANCES (400),
# GPU_CHECK_AUTO_UTTERANCES (64), GPU_CHECK_THREADS, GPU_CHECK_BATCH_FRAMES (passed to rote
# transcribe), GPU_CHECK_EXERCISE=cpu (dry runs: walk the GPU code path on the CPU).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
case "${1:-}" in
  pack) exec bash "$here/gpu/pack.sh" ;;
  run) exec bash "$here/gpu/run.sh" ;;
  *)
    sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
