#!/bin/sh
# Reference digests for rote's file hashes (src/util/hash.ts), from the C
# implementations: xxhsum (Debian package xxhash, XXH3 64-bit: -H3) and
# coreutils sha256sum. Inputs are generated here, byte-reproducibly:
#   empty, "a", 240 bytes (XXH3's mid-size path), 1 MiB + 7 of a pattern (the
#   streaming path across update calls).
# Run: sh scripts/parity/make_hash_vectors.sh  -> test/fixtures/hash/vectors.json
set -eu
cd "$(dirname "$0")/../.."
out=test/fixtures/hash/vectors.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '' > "$tmp/empty"
printf 'a' > "$tmp/a"
awk 'BEGIN { for (i = 0; i < 240; i++) printf "%c", 33 + (i * 7) % 90 }' > "$tmp/b240"
awk 'BEGIN { for (i = 0; i < 1048583; i++) printf "%c", 32 + (i * 13 + int(i / 97)) % 95 }' > "$tmp/mib"
{
  printf '{\n  "generator": "scripts/parity/make_hash_vectors.sh (%s; %s)",\n  "vectors": [\n' "$(xxhsum --version 2>&1 | head -1)" "$(sha256sum --version | head -1)"
  first=1
  for name in empty a b240 mib; do
    [ $first -eq 1 ] || printf ',\n'
    first=0
    printf '    { "name": "%s", "bytes": %s, "xxh3": "%s", "sha256": "%s" }' "$name" "$(wc -c < "$tmp/$name" | tr -d ' ')" \
      "$(xxhsum -H3 < "$tmp/$name" | awk '{ print $NF }')" "$(sha256sum < "$tmp/$name" | cut -d' ' -f1)"
  done
  printf '\n  ]\n}\n'
} > "$out"
echo "wrote $out"
