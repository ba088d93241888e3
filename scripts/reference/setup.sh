#!/usr/bin/env bash
# Debian packages for the reference recipe (not needed by npm start / npm test).
# libopenblas0-openmp: ~7x faster matrix products than the reference BLAS.
set -euo pipefail
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
$SUDO apt-get update
$SUDO apt-get install -y python3-torch python3-torchaudio python3-onnx libopenblas0-openmp
/usr/bin/python3 -c 'import torch, torchaudio, onnx; print("torch", torch.__version__, "torchaudio", torchaudio.__version__, "onnx", onnx.__version__)'
