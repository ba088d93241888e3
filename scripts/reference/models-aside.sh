#!/usr/bin/env bash
# The shipped models/*/model.onnx (4 x 12 MB) make the working tree too big to travel with
# a round-3 bundle (64 MiB per device call, tree included). Around that one call:
#   bash scripts/reference/models-aside.sh out    # moves them to .cache/reference/models-aside/
#   bash scripts/reference/models-aside.sh back   # puts them back, checking their sha256
# Nothing in git changes: the files are only absent from the working tree in between.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ASIDE=.cache/reference/models-aside
case "${1:-}" in
  out)
    mkdir -p "$ASIDE"
    for f in models/*/model.onnx; do
      name=$(basename "$(dirname "$f")")
      [ -e "$ASIDE/$name.onnx" ] && { echo "$ASIDE/$name.onnx exists: run 'back' first" >&2; exit 1; }
      sha256sum "$f" | cut -d' ' -f1 >"$ASIDE/$name.sha256"
      mv "$f" "$ASIDE/$name.onnx"
      echo "aside: $f"
    done
    ;;
  back)
    for f in "$ASIDE"/*.onnx; do
      [ -e "$f" ] || { echo "nothing aside in $ASIDE" >&2; exit 1; }
      name=$(basename "$f" .onnx)
      [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$(cat "$ASIDE/$name.sha256")" ] || { echo "$f: sha256 changed" >&2; exit 1; }
      [ -e "models/$name/model.onnx" ] && { echo "models/$name/model.onnx exists; $f left where it is" >&2; exit 1; }
      mv "$f" "models/$name/model.onnx"
      rm "$ASIDE/$name.sha256"
      echo "back: models/$name/model.onnx"
    done
    ;;
  *) sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
