#!/usr/bin/env bash
# The GPU check: rote transcribe on a real GPU (CUDA, WebGPU) against the CPU, on the same model
# and canaries (utterances/s, RTFx, share of time in session.run), plus CUDA-vs-CPU transcripts
# on a shipped model. A device call carries at most 64 MiB (working tree included) but files
# from earlier calls stay while the machine is warm, so ONNX Runtime's CUDA provider travels in
# parts, one call each (docs/cuda.md, "The device run").
#
# Here (build machine, npm registry reachable):
#   npm run setup:cuda -- --without-driver    # the provider from the npm registry (once)
#   bash scripts/gpu/check.sh pack            # .device/gpu/: Node, linux-x64 node_modules, Vulkan
#                                             # loader debs (~47 MiB)
#   bash scripts/gpu/check.sh pack-cuda       # .device/cuda-1 .. cuda-N: the CUDA provider and
#                                             # models/baseline, xz, split to fit one call each
#   bash scripts/reference/models-aside.sh out --with-demo   # the tree must be small for every call
# On the device, in one warm session (each call short; nothing from this list is run by tests):
#   call k = 1..N:  carry [".device/cuda-k"]  bash scripts/gpu/check.sh receive   (checks part k)
#   call N+1:       carry [".device/gpu"]     bash scripts/gpu/check.sh run       (the check)
# Afterwards here: bash scripts/reference/models-aside.sh back
#
#   bash scripts/gpu/check.sh run    # on the device machine: unpacks, puts the CUDA provider next
#                                    # to the carried libonnxruntime.so.1 (rote itself finds the
#                                    # CUDA 13 libraries of the machine's PyTorch wheels), builds a
#                                    # ~121M-parameter random-weight Conformer-CTC with its PyTorch,
#                                    # synthesizes canaries with `rote generate`, runs `rote
#                                    # transcribe` on cuda, webgpu, cpu (baseline subset) and auto,
#                                    # then CUDA vs CPU transcripts of models/baseline; table + JSON
#                                    # + log into $OUT
#
# Dry run on a machine without a GPU (small model, 40 canaries, Debian's torch):
#   OUT=/tmp/gpu-out GPU_CHECK_SMALL=1 GPU_CHECK_PYTHON=/usr/bin/python3 GPU_CHECK_EXERCISE=cpu bash scripts/gpu/check.sh run
# Other knobs (run): GPU_CHECK_WORK (default /tmp/rote-gpu), GPU_CHECK_BUDGET_S (300),
# GPU_CHECK_CANARIES (2000), GPU_CHECK_FIRST_UTTERANCES (200: each GPU provider's first run,
# whose rate sizes the full run to the budget), GPU_CHECK_CPU_UTTERANCES (400),
# GPU_CHECK_AUTO_UTTERANCES (64), GPU_CHECK_PARITY_UTTERANCES (64), GPU_CHECK_THREADS,
# GPU_CHECK_BATCH_FRAMES (passed to rote transcribe), GPU_CHECK_EXERCISE=cpu (dry runs: walk the
# GPU code path on the CPU). pack-cuda: GPU_CHECK_PART_MIB (50).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
case "${1:-}" in
  pack) exec bash "$here/pack.sh" ;;
  pack-cuda) exec bash "$here/pack-cuda.sh" ;;
  receive) exec bash "$here/receive.sh" ;;
  run) exec bash "$here/run.sh" ;;
  *)
    sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
