/**
 * Experiment behind scripts/bench/RESULTS.md (inject, session 4): pass 2's
 * copy with both digests, two ways. "separate": this thread copies (read,
 * write) while a worker reads the file again for its XXH3 digests (what
 * injectCanaries does). "shared": the worker reads into shared memory and
 * hashes, this thread writes from there (one read instead of two); with
 * --async this thread waits with Atomics.waitAsync (the event loop stays
 * free, as an injection needs) instead of blocking in Atomics.wait. 9
 * alternated rounds, medians, `sync` before each run.
 * Run: node scripts/bench/shared-read.mjs MANIFEST [--async]   (writes MANIFEST.copy, removed after)
 */
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const { xxh3 } = createRequire(import.meta.url)('@node-rs/xxhash');
const SLOTS = 8;
const CHUNK = 256 << 10;

if (isMainThread) {
  const source = process.argv[2];
  const waitAsync = process.argv.includes('--async');
  if (!source) {
    console.error('usage: node scripts/bench/shared-read.mjs MANIFEST [--async]');
    process.exit(2);
  }
  const target = `${source}.copy`;
  const worker = new Worker(new URL(import.meta.url), { execArgv: [] });
  await new Promise((resolve) => worker.once('message', resolve));
  const ask = (message) => {
    const done = new Promise((resolve) => worker.once('message', resolve));
    worker.postMessage(message);
    return done;
  };
  const times = { separate: [], shared: [], cat: [] };
  for (let round = 0; round < 9; round++) {
    rmSync(target, { force: true });
    execFileSync('sync');
    let started = performance.now();
    const digests = ask({ kind: 'separate', source });
    {
      const input = openSync(source, 'r');
      const output = openSync(target, 'w');
      const buffer = Buffer.allocUnsafe(CHUNK);
      for (let position = 0; ; ) {
        const count = readSync(input, buffer, 0, CHUNK, position);
        if (count === 0) break;
        writeSync(output, buffer, 0, count);
        position += count;
      }
      closeSync(input);
      closeSync(output);
    }
    await digests;
    times.separate.push(performance.now() - started);

    rmSync(target, { force: true });
    execFileSync('sync');
    started = performance.now();
    const memory = new SharedArrayBuffer(SLOTS * CHUNK);
    const state = new Int32Array(new SharedArrayBuffer(SLOTS * 8));
    const shared = ask({ kind: 'shared', source, memory, state: state.buffer });
    {
      const output = openSync(target, 'w');
      const bytes = Buffer.from(memory);
      for (let sequence = 0; ; sequence++) {
        const slot = sequence % SLOTS;
        while (Atomics.load(state, slot * 2) !== 1) {
          if (!waitAsync) {
            Atomics.wait(state, slot * 2, 0);
            continue;
          }
          const waiting = Atomics.waitAsync(state, slot * 2, 0);
          if (waiting.async) await waiting.value;
        }
        const count = state[slot * 2 + 1];
        if (count === 0) break;
        writeSync(output, bytes, slot * CHUNK, count);
        Atomics.store(state, slot * 2, 0);
        Atomics.notify(state, slot * 2);
      }
      closeSync(output);
    }
    await shared;
    times.shared.push(performance.now() - started);

    rmSync(target, { force: true });
    execFileSync('sync');
    started = performance.now();
    execFileSync('/bin/sh', ['-c', `cat "${source}" > "${target}"`]);
    times.cat.push(performance.now() - started);
  }
  rmSync(target, { force: true });
  await worker.terminate();
  const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
  for (const [name, values] of Object.entries(times)) console.log(`${name.padEnd(9)} ${median(values).toFixed(1)} ms (runs ${values.map((v) => v.toFixed(0)).join(' ')})`);
} else {
  parentPort.on('message', ({ kind, source, memory, state }) => {
    const input = openSync(source, 'r');
    const first = xxh3.Xxh3.withSeed(0n);
    const second = xxh3.Xxh3.withSeed(0n);
    if (kind === 'separate') {
      const buffer = Buffer.allocUnsafe(1 << 20);
      for (let position = 0; ; ) {
        const count = readSync(input, buffer, 0, buffer.length, position);
        if (count === 0) break;
        first.update(buffer.subarray(0, count));
        second.update(buffer.subarray(0, count));
        position += count;
      }
    } else {
      const bytes = Buffer.from(memory);
      const slots = new Int32Array(state);
      for (let sequence = 0, position = 0; ; sequence++) {
        const slot = sequence % SLOTS;
        while (Atomics.load(slots, slot * 2) !== 0) Atomics.wait(slots, slot * 2, 1);
        const count = readSync(input, bytes, slot * CHUNK, CHUNK, position);
        first.update(bytes.subarray(slot * CHUNK, slot * CHUNK + count));
        second.update(bytes.subarray(slot * CHUNK, slot * CHUNK + count));
        position += count;
        slots[slot * 2 + 1] = count;
        Atomics.store(slots, slot * 2, 1);
        Atomics.notify(slots, slot * 2);
        if (count === 0) break;
      }
    }
    closeSync(input);
    first.digest();
    second.digest();
    parentPort.postMessage('done');
  });
  parentPort.postMessage('ready');
}
