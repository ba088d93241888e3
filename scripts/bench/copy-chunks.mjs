/**
 * Experiment behind scripts/bench/RESULTS.md (inject): how close a plain
 * read/write copy loop in Node (what pass 2 of an injection does between
 * insertions) comes to `cat`, by chunk size. 5 alternated rounds, medians.
 * Run: node scripts/bench/copy-chunks.mjs MANIFEST   (writes MANIFEST.copy, removed after)
 */
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const source = process.argv[2];
if (!source) {
  console.error('usage: node scripts/bench/copy-chunks.mjs MANIFEST');
  process.exit(2);
}
const target = `${source}.copy`;

function copy(chunk) {
  rmSync(target, { force: true });
  const started = performance.now();
  const input = openSync(source, 'r');
  const output = openSync(target, 'w');
  const buffer = Buffer.allocUnsafe(chunk);
  for (let position = 0, count; (count = readSync(input, buffer, 0, chunk, position)) > 0; position += count) {
    for (let offset = 0; offset < count; ) offset += writeSync(output, buffer, offset, count - offset);
  }
  closeSync(input);
  closeSync(output);
  return performance.now() - started;
}

function cat() {
  rmSync(target, { force: true });
  const started = performance.now();
  execFileSync('sh', ['-c', 'cat "$1" > "$2"', 'sh', source, target]);
  return performance.now() - started;
}

const runs = new Map();
for (let round = 0; round < 5; round++) {
  for (const chunk of ['cat', 64 << 10, 128 << 10, 256 << 10, 1 << 20]) {
    const ms = chunk === 'cat' ? cat() : copy(chunk);
    runs.set(chunk, [...(runs.get(chunk) ?? []), ms]);
  }
}
rmSync(target, { force: true });
for (const [chunk, times] of runs) {
  times.sort((a, b) => a - b);
  const name = chunk === 'cat' ? 'cat file > out' : `Node loop, ${chunk >> 10} KiB chunks`;
  console.log(`${name}: median ${times[2].toFixed(0)} ms (${times.map((t) => t.toFixed(0)).join(' ')})`);
}
