#!/bin/sh
# Makes the espeak-ng utterances used by the frontend parity fixtures
# (test/fixtures/parity/espeak-*.wav, 16 kHz 16-bit mono). Needs Debian's
# espeak-ng and sox; only for regenerating fixtures, never for npm test.
set -eu
out="$(dirname "$0")/../../test/fixtures/parity"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
espeak-ng -v en-us -w "$tmp/1.wav" "The quick brown fox jumps over the lazy dog."
espeak-ng -v en-gb+f3 -s 190 -p 60 -w "$tmp/2.wav" "Seven purple elephants quietly borrowed my umbrella on Tuesday."
espeak-ng -v en-us+m3 -s 140 -w "$tmp/3.wav" "Canary number four two nine, hello world."
for i in 1 2 3; do sox -D "$tmp/$i.wav" -r 16000 -b 16 -c 1 "$out/espeak-$i.wav"; done
