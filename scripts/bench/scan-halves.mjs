/**
 * Experiment behind scripts/bench/RESULTS.md (inject): does pass 1 of an
 * injection get faster when two threads each scan half of the manifest?
 * Times a minimal structure scan (synchronous 1 MiB reads, UTF-8 check, one
 * Buffer.indexOf per line, a brace check) over the whole file on the main
 * thread, then over the two halves at once (main thread + one worker), 5
 * rounds. On the 2-vCPU dev VM the halves took longer than the whole.
 * Run: node scripts/bench/scan-halves.mjs MANIFEST.jsonl   (e.g. the 1M-line
 * manifest `npm run bench -- inject` generates; any NeMo JSON-lines file)
 */
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';

function scan(path, start, end) {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let position = start;
  let carry = 0;
  let lines = 0;
  while (position < end) {
    const count = readSync(fd, buf, carry, Math.min(buf.length - carry, end - position), position);
    if (count === 0) break;
    position += count;
    const filled = carry + count;
    const whole = position >= end ? filled : buf.lastIndexOf(10, filled - 1) + 1;
    if (!isUtf8(buf.subarray(0, whole))) throw new Error('not UTF-8');
    for (let at = 0; at < whole; lines++) {
      let newline = buf.indexOf(10, at);
      if (newline === -1 || newline >= whole) newline = whole - 1;
      if (buf[at] !== 0x7b) throw new Error(`line ${lines + 1} of the range does not start with {`);
      at = newline + 1;
    }
    buf.copy(buf, 0, whole, filled);
    carry = filled - whole;
  }
  closeSync(fd);
  return lines;
}

if (!isMainThread) {
  parentPort.on('message', ({ path, start, end }) => parentPort.postMessage(scan(path, start, end)));
} else {
  const path = process.argv[2];
  if (!path) {
    console.error('usage: node scripts/bench/scan-halves.mjs MANIFEST.jsonl');
    process.exit(2);
  }
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  const probe = Buffer.alloc(1 << 16);
  const got = readSync(fd, probe, 0, probe.length, size >> 1);
  closeSync(fd);
  const newline = probe.subarray(0, got).indexOf(10);
  const middle = newline === -1 ? size : (size >> 1) + newline + 1;
  const worker = new Worker(new URL(import.meta.url));
  scan(path, 0, size); // warm-up (page cache, JIT)
  await new Promise((resolve) => { worker.once('message', resolve); worker.postMessage({ path, start: 0, end: size }); });
  for (let round = 1; round <= 5; round++) {
    let started = performance.now();
    const whole = scan(path, 0, size);
    const single = performance.now() - started;
    started = performance.now();
    const second = new Promise((resolve) => worker.once('message', resolve));
    worker.postMessage({ path, start: middle, end: size });
    const first = scan(path, 0, middle);
    const total = first + (await second);
    const halves = performance.now() - started;
    if (total !== whole) throw new Error(`line counts differ: ${whole} vs ${total}`);
    console.log(`round ${round}: whole file on one thread ${single.toFixed(1)} ms, two halves at once ${halves.toFixed(1)} ms (${whole} lines)`);
  }
  await worker.terminate();
}
