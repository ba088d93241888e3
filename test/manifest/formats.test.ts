import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile, stat, readdir } from 'node:fs/promises';
import { createGzip } from 'node:zlib';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import {
  injectCanaries,
  readManifest,
  verifyInjection,
  normalizeText,
  adapterFor,
  detectManifestFormat,
  type InjectionReceipt,
  type RawRecord,
  type ManifestFormat,
} from '../../src/manifest/index.ts';
import { hashFile } from '../../src/util/hash.ts';
import { readWav } from '../../src/audio/wav.ts';
import { copyFixture, temporaryDir, writeTestSet, type TestSet } from './helpers.ts';

async function records(path: string, format: Exclude<ManifestFormat, 'kaldi'>): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  for await (const record of readManifest(path, format)) out.push(record);
  return out;
}

interface Case {
  format: Exclude<ManifestFormat, 'kaldi'>;
  fixture: string;
  /** Input files inside the copied fixture dir, and their formats. */
  files: Array<{ name: string; format: Exclude<ManifestFormat, 'kaldi'> }>;
  gzip?: boolean;
}

const cases: Case[] = [
  { format: 'nemo', fixture: 'nemo', files: [{ name: 'train_manifest.json', format: 'nemo' }] },
  { format: 'wenet', fixture: 'wenet', files: [{ name: 'data.list', format: 'wenet' }] },
  {
    format: 'lhotse-cuts',
    fixture: 'lhotse',
    files: [{ name: 'librispeech_cuts_train-clean-100.jsonl', format: 'lhotse-cuts' }],
    gzip: true,
  },
  {
    format: 'lhotse-supervisions',
    fixture: 'lhotse',
    files: [
      { name: 'librispeech_recordings_train-clean-100.jsonl', format: 'lhotse-recordings' },
      { name: 'librispeech_supervisions_train-clean-100.jsonl', format: 'lhotse-supervisions' },
    ],
  },
  { format: 'audiofolder', fixture: 'audiofolder', files: [{ name: 'metadata.csv', format: 'audiofolder' }] },
  { format: 'speechbrain', fixture: 'speechbrain', files: [{ name: 'train-clean-100.csv', format: 'speechbrain' }] },
  { format: 'commonvoice', fixture: 'commonvoice', files: [{ name: 'train.tsv', format: 'commonvoice' }] },
];

for (const testCase of cases) {
  test(`${testCase.format}${testCase.gzip ? ' (.gz)' : ''}: inject, read back, verify`, async () => {
    const { dir, cleanup } = await temporaryDir(testCase.format);
    try {
      const set: TestSet = await writeTestSet(join(dir, 'set'));
      const source = await copyFixture(testCase.fixture, dir);
      const files = testCase.files.map((f) => ({ ...f, path: join(source, f.name) }));
      if (testCase.gzip) {
        for (const file of files) {
          await pipeline(createReadStream(file.path), createGzip(), createWriteStream(`${file.path}.gz`));
          file.path = `${file.path}.gz`;
        }
      }
      const inputBytes = await Promise.all(files.map((f) => readFile(f.path)));
      const detected = await detectManifestFormat(files.map((f) => f.path));
      assert.is(detected.format, testCase.format);
      const out = join(dir, 'out');
      const audioDir =
        testCase.format === 'commonvoice'
          ? join(out, 'clips')
          : join(out, testCase.format === 'audiofolder' ? 'data' : 'wav');
      const receipt: InjectionReceipt = await injectCanaries({
        manifests: files.map((f) => f.path),
        canaries: join(set.dir, 'for-training'),
        output: files.length > 1 ? out : join(out, files[0]!.path.split('/').pop()!),
        audioDir,
        sampleRate: 16000,
        seed: 'formats-test',
      });
      // The input is untouched.
      for (const [index, file] of files.entries())
        assert.ok((await readFile(file.path)).equals(inputBytes[index]!), `${file.path} modified`);
      assert.is(receipt.format, testCase.format);
      const copies = set.inserted.reduce((sum, c) => sum + c.repetitions!, 0);
      assert.is(receipt.canarySet.copies, copies);

      for (const file of files) {
        const output = receipt.outputs.find((o) => o.path.endsWith(file.path.split('/').pop()!))!;
        assert.ok(output, `no output for ${file.path}`);
        assert.is(await hashFile(output.path, 'xxh3'), output.hash);
        assert.is(
          receipt.inputs.find((i) => i.path === file.path)?.hash,
          await hashFile(file.path, 'xxh3'),
          `input digest of ${file.path}`,
        );
        const before = await records(file.path, file.format);
        const after = await records(output.path, file.format);
        assert.is(after.length, before.length + copies);
        const canaryLines = new Set(
          receipt.canaries
            .flatMap((c) => c.positions)
            .filter((p) => p.file === output.path)
            .map((p) => p.line),
        );
        assert.is(canaryLines.size, copies);
        // Untouched records: byte-identical, in order.
        const untouched = after.filter((r) => !canaryLines.has(r.where.line));
        assert.is(untouched.length, before.length);
        untouched.forEach((record, index) =>
          assert.ok(Buffer.from(record.bytes).equals(Buffer.from(before[index]!.bytes)), `record ${index} changed`),
        );
        // Positions spread through the file, not a block at the end.
        const indices = after.map((r, i) => (canaryLines.has(r.where.line) ? i : -1)).filter((i) => i >= 0);
        assert.ok(indices[0]! < after.length - copies, `canaries form a block at the end: ${indices}`);
        // Canary records: the template's fields, the canary's text, real audio.
        const inserted = after.filter((r) => canaryLines.has(r.where.line));
        const templateKeys = Object.keys(before[0]!.record.fields).filter((k) => k !== 'features');
        for (const record of inserted) {
          assert.equal(Object.keys(record.record.fields), templateKeys);
          if (file.format !== 'lhotse-recordings') {
            const canary = set.inserted.find((c) => normalizeText(c.text) === normalizeText(record.record.text!));
            assert.ok(canary, `canary text not found in ${record.record.text}`);
          }
          if (record.record.id !== undefined)
            assert.not.ok(
              set.set.canaries.some((c) => record.record.id!.includes(c.id)),
              'id gives the canary away',
            );
          const audio = adapterFor(file.format).resolveAudio(record.record, output.path);
          if (audio) {
            const wav = await readWav(audio);
            assert.is(wav.sampleRate, 16000);
            if (testCase.format === 'nemo') assert.is(record.record.fields.duration, wav.samples.length / 16000);
          }
        }
        const texts = inserted
          .map((r) => r.record.text)
          .filter((t) => t !== undefined)
          .map((t) => normalizeText(t!));
        for (const canary of set.inserted) {
          if (file.format === 'lhotse-recordings') break;
          assert.is(
            texts.filter((t) => t === normalizeText(canary.text)).length,
            canary.repetitions,
            `copies of ${canary.id}`,
          );
        }
      }
      assert.is((await readdir(audioDir)).length, copies);
      const report = await verifyInjection({ manifests: receipt.outputs.map((o) => o.path), canaries: set.dir });
      assert.ok(report.ok, JSON.stringify(report, null, 1).slice(0, 2000));
      for (const canary of report.inserted) assert.is(canary.found, canary.expected);
      for (const canary of report.inserted)
        for (const position of canary.positions) assert.ok(position.matchedBy.includes('audio'));
      assert.is(report.leaks.length, 0);
    } finally {
      await cleanup();
    }
  });
}

test('nemo: relative audio paths stay relative, resampled to the corpus rate found in the first audio file', async () => {
  const { dir, cleanup } = await temporaryDir('nemo-rel');
  try {
    const set = await writeTestSet(join(dir, 'set'), 22050);
    const { encodeWav16 } = await import('../../src/audio/wav.ts');
    const { writeFile, mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'corpus', 'wavs'), { recursive: true });
    await writeFile(join(dir, 'corpus', 'wavs', 'utt_0001.wav'), encodeWav16(new Float32Array(8000), 8000));
    const lines = Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({
        audio_filepath: `wavs/utt_${String(i + 1).padStart(4, '0')}.wav`,
        duration: 1,
        text: `sentence number ${i}`,
      }),
    );
    await writeFile(join(dir, 'corpus', 'manifest.jsonl'), lines.join('\n'));
    const receipt = await injectCanaries({
      manifests: [join(dir, 'corpus', 'manifest.jsonl')],
      canaries: set.dir,
      output: join(dir, 'corpus', 'with-canaries.jsonl'),
      audioDir: join(dir, 'corpus', 'canary-wavs'),
      link: true,
    });
    assert.is(receipt.sampleRate, 8000);
    assert.is(receipt.audioMode, 'resample');
    const out = (await readFile(join(dir, 'corpus', 'with-canaries.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    assert.is(out.length, 27);
    const canaryRows = out.filter((r) => !/^wavs\//.test(r.audio_filepath));
    assert.is(canaryRows.length, 7);
    for (const row of canaryRows) {
      assert.ok(row.audio_filepath.startsWith('canary-wavs/'), row.audio_filepath);
      const wav = await readWav(join(dir, 'corpus', row.audio_filepath));
      assert.is(wav.sampleRate, 8000);
      assert.is(row.duration, wav.samples.length / 8000);
      assert.ok(Math.abs(row.duration - 0.4) < 0.001);
    }
    // Hard links: copies of one canary share an inode.
    const inodes = new Set(
      await Promise.all(canaryRows.map(async (r) => (await stat(join(dir, 'corpus', r.audio_filepath))).ino)),
    );
    assert.is(inodes.size, 3);
    const report = await verifyInjection({
      manifests: [join(dir, 'corpus', 'with-canaries.jsonl')],
      canaries: set.dir,
    });
    assert.ok(report.ok, JSON.stringify(report.tampered));
  } finally {
    await cleanup();
  }
});

test.run();
