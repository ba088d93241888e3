/**
 * Experiment behind scripts/bench/RESULTS.md (inject, session 4): reads ahead
 * on libuv's thread pool (1 MiB chunks, 4 in flight) against synchronous
 * 256 KiB reads, for a copy (read, write) and for a scan (UTF-8 check and a
 * newline count), with and without an XXH3 digest on this thread. Each kind
 * alone; in an injection the pool's reads compete with the manifest worker.
 * 5 alternated rounds, medians, `sync` before each run.
 * Run: node scripts/bench/read-ahead.mjs MANIFEST   (writes MANIFEST.copy, removed after)
 */
import { closeSync, openSync, read, readSync, rmSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';

const { xxh3 } = createRequire(import.meta.url)('@node-rs/xxhash');
const source = process.argv[2];
if (!source) {
  console.error('usage: node scripts/bench/read-ahead.mjs MANIFEST');
  process.exit(2);
}
const target = `${source}.copy`;

function synchronous(each) {
  const fd = openSync(source, 'r');
  const buffer = Buffer.allocUnsafe(256 << 10);
  for (let position = 0; ; ) {
    const count = readSync(fd, buffer, 0, buffer.length, position);
    if (count === 0) break;
    each(buffer.subarray(0, count));
    position += count;
  }
  closeSync(fd);
}

async function readingAhead(each, depth = 4, chunk = 1 << 20) {
  const fd = openSync(source, 'r');
  const buffers = Array.from({ length: depth }, () => Buffer.allocUnsafe(chunk));
  const pending = [];
  let next = 0;
  const request = (buffer) => {
    const position = next;
    next += chunk;
    pending.push(new Promise((resolve, reject) => read(fd, buffer, 0, chunk, position, (error, count) => (error ? reject(error) : resolve(count)))));
  };
  buffers.forEach(request);
  for (let k = 0; ; k = (k + 1) % depth) {
    const count = await pending.shift();
    if (count === 0) break;
    each(buffers[k].subarray(0, count));
    request(buffers[k]);
  }
  await Promise.allSettled(pending);
  closeSync(fd);
}

const newlines = (bytes) => {
  isUtf8(bytes);
  for (let position = 0; ; ) {
    const newline = bytes.indexOf(10, position);
    if (newline === -1) break;
    position = newline + 1;
  }
};
const copyTo = (reader, hashed) => async () => {
  const out = openSync(target, 'w');
  const hash = hashed ? xxh3.Xxh3.withSeed(0n) : null;
  await reader((bytes) => {
    hash?.update(bytes);
    writeSync(out, bytes);
  });
  closeSync(out);
  hash?.digest();
};
const kinds = {
  'copy, synchronous': copyTo(synchronous, false),
  'copy, reading ahead': copyTo(readingAhead, false),
  'copy + XXH3, synchronous': copyTo(synchronous, true),
  'copy + XXH3, reading ahead': copyTo(readingAhead, true),
  'scan, synchronous': async () => synchronous(newlines),
  'scan, reading ahead': async () => readingAhead(newlines),
  'cat file > copy': async () => execFileSync('/bin/sh', ['-c', `cat "${source}" > "${target}"`]),
};
const times = {};
for (let round = 0; round < 5; round++) {
  for (const [name, run] of Object.entries(kinds)) {
    rmSync(target, { force: true });
    execFileSync('sync');
    const started = performance.now();
    await run();
    (times[name] ??= []).push(performance.now() - started);
  }
}
rmSync(target, { force: true });
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
for (const [name, values] of Object.entries(times)) console.log(`${name.padEnd(28)} ${median(values).toFixed(1)} ms (runs ${values.map((v) => v.toFixed(0)).join(' ')})`);
