import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileHash, hashFile, xxh3Implementation } from '../../src/util/hash.ts';
import { ManifestWorker } from '../../src/manifest/worker.ts';
import { createRing, RingReader } from '../../src/manifest/ring.ts';
import { spliceCopy } from '../../src/manifest/splice.ts';
import { ManifestWriter } from '../../src/manifest/writer.ts';
import { RoteError } from '../../src/util/errors.ts';

interface Vector { name: string; bytes: number; xxh3: string; sha256: string }
const { vectors } = JSON.parse(await readFile(new URL('../fixtures/hash/vectors.json', import.meta.url), 'utf8')) as { vectors: Vector[] };

/** The inputs scripts/parity/make_hash_vectors.sh hashed, rebuilt byte for byte. */
function input(name: string): Buffer {
  if (name === 'empty') return Buffer.alloc(0);
  if (name === 'a') return Buffer.from('a');
  if (name === 'b240') return Buffer.from(Array.from({ length: 240 }, (_, i) => 33 + ((i * 7) % 90)));
  if (name === 'mib') return Buffer.from(Array.from({ length: 1048583 }, (_, i) => 32 + ((i * 13 + Math.floor(i / 97)) % 95)));
  throw new Error(`unknown vector ${name}`);
}

test('the native XXH3 package loads here (the fast path the benchmarks measure)', () => {
  assert.is(xxh3Implementation(), 'native');
});

test('xxh3 (native and WebAssembly) and sha256 digests equal xxhsum -H3 and sha256sum, whole files and in odd-sized pieces', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rote-hash-'));
  try {
    for (const vector of vectors) {
      const bytes = input(vector.name);
      assert.is(bytes.length, vector.bytes, vector.name);
      const path = join(dir, vector.name);
      await writeFile(path, bytes);
      assert.is(await hashFile(path, 'xxh3'), `xxh3:${vector.xxh3}`, vector.name);
      assert.is(await hashFile(path, 'sha256'), `sha256:${vector.sha256}`, vector.name);
      // In pieces of odd sizes: the streaming state carries across updates.
      for (const implementation of ['native', 'wasm'] as const) {
        const pieces = await createFileHash('xxh3', implementation);
        for (let offset = 0; offset < bytes.length; offset += 65_537) pieces.update(bytes.subarray(offset, offset + 65_537));
        assert.is(pieces.digest(), `xxh3:${vector.xxh3}`, `${vector.name} (${implementation})`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the manifest worker gives the same digests; through the ring, the input\'s and that of the copy the main thread writes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rote-hash-'));
  const workers = { xxh3: new ManifestWorker('xxh3'), sha256: new ManifestWorker('sha256') };
  try {
    for (const vector of vectors) {
      const path = join(dir, vector.name);
      await writeFile(path, input(vector.name));
      assert.is((await workers.xxh3.hashFile(path)).hash, `xxh3:${vector.xxh3}`, vector.name);
      assert.is((await workers.sha256.hashFile(path)).hash, `sha256:${vector.sha256}`, vector.name);
    }
    const mib = input('mib');
    const cuts = [0, 5, 1 << 20, mib.length];
    const insertions = cuts.map((offset, i) => ({ offset, bytes: Buffer.from(`{"inserted": ${i}}\n`) }));
    const spliced = Buffer.concat(cuts.flatMap((offset, i) => [mib.subarray(i === 0 ? 0 : cuts[i - 1], offset), insertions[i]!.bytes]));
    await writeFile(join(dir, 'spliced'), spliced);
    for (const algorithm of ['xxh3', 'sha256'] as const) {
      // Small slots, so the worker waits for free ones many times over.
      const ring = createRing(3, 64 << 10);
      const digests = workers[algorithm].spliceThroughRing(join(dir, 'mib'), insertions, ring);
      const writer = new ManifestWriter(join(dir, `copy-${algorithm}`), { hash: false });
      const copied = await spliceCopy(join(dir, 'mib'), insertions, writer, undefined, new RingReader(ring, digests));
      await writer.finish();
      await writer.commit();
      assert.is(copied, mib.length);
      assert.ok((await readFile(join(dir, `copy-${algorithm}`))).equals(spliced), 'the copy written from the ring');
      assert.is((await digests).output, await hashFile(join(dir, 'spliced'), algorithm));
      assert.is((await digests).input, await hashFile(join(dir, 'mib'), algorithm));
    }
  } finally {
    await workers.xxh3.close();
    await workers.sha256.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a copy through the ring fails cleanly, never hangs: a write that fails stops the worker, a read that fails stops the copy', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rote-ring-'));
  const worker = new ManifestWorker('xxh3');
  try {
    await writeFile(join(dir, 'mib'), input('mib'));
    // The disk fills after three writes: the copy fails naming the files, and the worker's side is abandoned.
    let writes = 0;
    const full = {
      target: join(dir, 'out'),
      syncWriter: async () => () => {
        if (++writes > 3) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      },
    } as unknown as ManifestWriter;
    let ring = createRing(2, 16 << 10);
    let digests = worker.spliceThroughRing(join(dir, 'mib'), [], ring);
    digests.catch(() => undefined);
    const failed = await spliceCopy(join(dir, 'mib'), [], full, undefined, new RingReader(ring, digests)).then(() => null, (error: Error) => error);
    assert.instance(failed, RoteError);
    assert.match(failed!.message, /mib -> .*out: copy failed \(ENOSPC/);
    assert.match(await digests.then(() => 'finished', (error: Error) => error.message), /abandoned/);
    // The input vanishes before the worker reads it: the copy fails with the worker's error.
    ring = createRing(2, 16 << 10);
    digests = worker.spliceThroughRing(join(dir, 'gone'), [], ring);
    digests.catch(() => undefined);
    const writer = new ManifestWriter(join(dir, 'out2'), { hash: false });
    const missing = await spliceCopy(join(dir, 'gone'), [], writer, undefined, new RingReader(ring, digests)).then(() => null, (error: Error) => error);
    await writer.abort();
    assert.match(missing?.message ?? '', /gone.*ENOENT/);
    // The worker still serves.
    assert.is((await worker.hashFile(join(dir, 'mib'))).bytes, input('mib').length);
  } finally {
    await worker.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
