#!/usr/bin/env bash
# Unpacks what a device run of run-on-device.sh / run-round3.sh returned ($OUT: the
# <model>.onnx files, results.tar.xz, summary.txt, console.txt) into run directories that
# adopt-run.ts reads: DEST/runs/<run>/{metrics.json,transcripts.json[,model.onnx,tokens.txt]}
# and DEST/runs/<run>.log; the .onnx of each chosen run (chosen.txt) goes into its directory.
#   bash scripts/reference/unpack-round.sh <the run's files (files_at)> .cache/reference/rounds/<round>
# Then, per run:  node --import tsx scripts/reference/adopt-run.ts record --round <round> DEST/runs/<run>
# and for the four chosen ones also `adopt-run.ts ship` (README.md, "Round 3").
set -euo pipefail
SRC=${1:?usage: unpack-round.sh <device OUT folder> <destination>}
DEST=${2:?usage: unpack-round.sh <device OUT folder> <destination>}
[ -f "$SRC/results.tar.xz" ] || { echo "$SRC/results.tar.xz missing" >&2; exit 1; }
[ -e "$DEST" ] && { echo "$DEST exists: remove it or pick another" >&2; exit 1; }
mkdir -p "$DEST"
tar -xJf "$SRC/results.tar.xz" -C "$DEST"
for f in summary.txt console.txt progress.txt; do [ -f "$SRC/$f" ] && cp "$SRC/$f" "$DEST/device-$f"; done
while read -r model dir; do
  run=$(basename "$dir")
  [ -d "$DEST/runs/$run" ] || { echo "chosen run $run has no records in results.tar.xz" >&2; exit 1; }
  if [ -f "$SRC/$model.onnx" ]; then
    cp "$SRC/$model.onnx" "$DEST/runs/$run/model.onnx"
    cp "$DEST/tokens.txt" "$DEST/runs/$run/tokens.txt"
    echo "$model: $run (model.onnx $(sha256sum "$DEST/runs/$run/model.onnx" | cut -c1-12))"
  else
    echo "$model: $run has no $model.onnx in $SRC (export failed? look for $model.pt)" >&2
  fi
done <"$DEST/chosen.txt"
ls "$DEST/runs"
