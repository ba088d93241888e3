#!/usr/bin/env bash
# The shipped models/*/model.onnx (4 x 12 MB) make the working tree too big to travel with
# a device bundle (64 MiB per device call, tree included). Around that one call:
#   bash scripts/reference/models-aside.sh out               # the models, for round 3
#   bash scripts/reference/models-aside.sh out --with-demo   # and canaries/demo (13 MB), for
#                                                            # the GPU check, which needs neither
#   bash scripts/reference/models-aside.sh back              # puts back what is aside (sha256 checked)
# Aside means .cache/reference/models-aside/. Nothing in git changes in between.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ASIDE=.cache/reference/models-aside
DEMO=canaries/demo
# sha256 of every file under a directory, paths included, in a fixed order.
tree_sha() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1); }
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
    if [ "${2:-}" = --with-demo ] && [ -d "$DEMO" ]; then
      [ -e "$ASIDE/demo" ] && { echo "$ASIDE/demo exists: run 'back' first" >&2; exit 1; }
      tree_sha "$DEMO" >"$ASIDE/demo.sha256"
      mv "$DEMO" "$ASIDE/demo"
      echo "aside: $DEMO"
    fi
    ;;
  back)
    found=0
    for f in "$ASIDE"/*.onnx; do
      [ -e "$f" ] || continue
      found=1
      name=$(basename "$f" .onnx)
      [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$(cat "$ASIDE/$name.sha256")" ] || { echo "$f: sha256 changed" >&2; exit 1; }
      [ -e "models/$name/model.onnx" ] && { echo "models/$name/model.onnx exists; $f left where it is" >&2; exit 1; }
      mv "$f" "models/$name/model.onnx"
      rm "$ASIDE/$name.sha256"
      echo "back: models/$name/model.onnx"
    done
    if [ -d "$ASIDE/demo" ]; then
      found=1
      [ "$(tree_sha "$ASIDE/demo")" = "$(cat "$ASIDE/demo.sha256")" ] || { echo "$ASIDE/demo: contents changed" >&2; exit 1; }
      [ -e "$DEMO" ] && { echo "$DEMO exists; $ASIDE/demo left where it is" >&2; exit 1; }
      mv "$ASIDE/demo" "$DEMO"
      rm "$ASIDE/demo.sha256"
      echo "back: $DEMO"
    fi
    [ "$found" = 1 ] || { echo "nothing aside in $ASIDE" >&2; exit 1; }
    ;;
  *) sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
