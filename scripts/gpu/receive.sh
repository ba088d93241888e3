#!/usr/bin/env bash
# scripts/gpu/receive.sh (`scripts/gpu/check.sh receive`, on the device, one call per part): checks
# the CUDA bundle parts that have arrived so far (.device/cuda-*/part.json: sha256 of each part)
# and says which are still missing. Seconds; the parts stay while the machine is warm.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python_bin="${GPU_CHECK_PYTHON:-python3}"
command -v "$python_bin" >/dev/null || python_bin=python3
exec "$python_bin" "$repo/scripts/gpu/cuda_bundle.py" check "$repo/.device"
