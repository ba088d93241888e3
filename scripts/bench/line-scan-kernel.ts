/**
 * Experiment behind scripts/bench/RESULTS.md (inject, session 4): the
 * WebAssembly structure check (src/manifest/line-scan.wat) alone, on 256 KiB
 * of a manifest that stays in the CPU cache, scanned over and over to the
 * manifest's size: with no limit, and stopping every 16 lines as pass 1 does
 * for its checkpoints.
 * Run: node --import tsx scripts/bench/line-scan-kernel.ts MANIFEST
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createLineScanner } from '../../src/manifest/line-scan.ts';

const path = process.argv[2];
if (!path) {
  console.error('usage: node --import tsx scripts/bench/line-scan-kernel.ts MANIFEST');
  process.exit(2);
}
const CHUNK = 256 << 10;
const scanner = createLineScanner(CHUNK);
if (!scanner) throw new Error('no WebAssembly SIMD here');
const fd = openSync(path, 'r');
const size = fstatSync(fd).size;
const count = readSync(fd, scanner.buffer, 0, CHUNK, Math.max(0, Math.floor(size / 2) - CHUNK));
closeSync(fd);
const start = scanner.buffer.indexOf(10) + 1;
const end = scanner.buffer.lastIndexOf(10, count - 1) + 1;
const repeats = Math.max(1, Math.round(size / (end - start)));
for (const limit of [2 ** 31 - 1, 16]) {
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    let lines = 0;
    for (let k = 0; k < repeats; k++) {
      for (let position = start; position < end; ) {
        const result = scanner.scan(position, end, limit);
        lines += result.settled;
        position = result.settled === limit ? result.stop : end;
      }
    }
    console.log(`limit ${limit === 16 ? 16 : 'none'}: ${(performance.now() - started).toFixed(1)} ms for ${((repeats * (end - start)) / 1e6).toFixed(0)} MB, ${lines} lines`);
  }
}
