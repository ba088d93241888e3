import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileHash, hashFile, xxh3Implementation } from '../../src/util/hash.ts';
import { scanManifestFile } from '../../src/manifest/stream/scan.ts';
import { spliceCopy } from '../../src/manifest/stream/splice.ts';
import { ManifestWriter } from '../../src/manifest/stream/writer.ts';
import { adapterFor } from '../../src/manifest/formats/index.ts';
import { RoteError } from '../../src/util/errors.ts';

interface Vector {
  name: string;
  bytes: number;
  xxh3: string;
  sha256: string;
}
const { vectors } = JSON.parse(await readFile(new URL('../fixtures/hash/vectors.json', import.meta.url), 'utf8')) as {
  vectors: Vector[];
};

/** The inputs scripts/parity/make_hash_vectors.sh hashed, rebuilt byte for byte. */
function input(name: string): Buffer {
  if (name === 'empty') return Buffer.alloc(0);
  if (name === 'a') return Buffer.from('a');
  if (name === 'b240') return Buffer.from(Array.from({ length: 240 }, (_, i) => 33 + ((i * 7) % 90)));
  if (name === 'mib')
    return Buffer.from(Array.from({ length: 1048583 }, (_, i) => 32 + ((i * 13 + Math.floor(i / 97)) % 95)));
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
        for (let offset = 0; offset < bytes.length; offset += 65_537)
          pieces.update(bytes.subarray(offset, offset + 65_537));
        assert.is(pieces.digest(), `xxh3:${vector.xxh3}`, `${vector.name} (${implementation})`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("an injection's digests: the input's from pass 1's read (JSON-lines fast path and record by record), the copy's from its writer, as xxhsum and sha256sum give them", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rote-hash-'));
  try {
    // Lines of a NeMo manifest: the fast path (no ids) and the record-by-record path (WeNet has ids).
    const lines = Array.from(
      { length: 3000 },
      (_, i) =>
        `{"key": "utt${i}", "wav": "/a/${i}.wav", "audio_filepath": "/a/${i}.wav", "duration": 1.5, "txt": "x ${i}", "text": "words ${i}"}\n`,
    ).join('');
    await writeFile(join(dir, 'm.json'), lines);
    for (const format of ['nemo', 'wenet'] as const) {
      for (const algorithm of ['xxh3', 'sha256'] as const) {
        const scan = await scanManifestFile(join(dir, 'm.json'), adapterFor(format), {
          ids: null,
          canaryIds: new Set(),
          depth: 'structure',
          hash: algorithm,
        });
        assert.is(scan.summary.hash, await hashFile(join(dir, 'm.json'), algorithm), `${format} ${algorithm}`);
      }
    }
    const mib = input('mib');
    await writeFile(join(dir, 'mib'), mib);
    const cuts = [0, 5, 1 << 20, mib.length];
    const insertions = cuts.map((offset, i) => ({ offset, bytes: Buffer.from(`{"inserted": ${i}}\n`) }));
    const spliced = Buffer.concat(
      cuts.flatMap((offset, i) => [mib.subarray(i === 0 ? 0 : cuts[i - 1], offset), insertions[i]!.bytes]),
    );
    await writeFile(join(dir, 'spliced'), spliced);
    for (const algorithm of ['xxh3', 'sha256'] as const) {
      const writer = new ManifestWriter(join(dir, `copy-${algorithm}`), { hash: algorithm });
      const copied = await spliceCopy(join(dir, 'mib'), insertions, writer);
      const digest = await writer.finish();
      await writer.commit();
      assert.is(copied, mib.length);
      assert.ok((await readFile(join(dir, `copy-${algorithm}`))).equals(spliced), 'the spliced copy');
      assert.is(digest, await hashFile(join(dir, 'spliced'), algorithm));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a copy that cannot read its input names it and leaves no output', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rote-copy-'));
  try {
    const writer = new ManifestWriter(join(dir, 'out'), { hash: false });
    const missing = await spliceCopy(join(dir, 'gone'), [], writer).then(
      () => null,
      (error: Error) => error,
    );
    await writer.abort();
    assert.instance(missing, RoteError);
    assert.match(missing!.message, /gone: cannot read manifest \(ENOENT\)/);
    assert.equal(await readdir(dir), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
