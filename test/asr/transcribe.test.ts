import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resample } from '../../src/audio/index.ts';
import {
  loadModel,
  planBatches,
  padFeatures,
  transcribeFiles,
  type AsrModel,
  type TranscriptionRow,
  type TranscribeItem,
} from '../../src/asr/index.ts';
import { RoteError } from '../../src/util/errors.ts';
import { encodeWav16, readWav } from '../../src/audio/wav.ts';
import { MODELS, speechFixtures, temporaryDirectory } from './helpers.ts';

const FAMILY_DIRS = ['nemo-ctc', 'transducer', 'sidecar-ctc', 'nemo-transducer', 'nemo-tdt'];
const SPEECH = speechFixtures().slice(0, 8);

async function collect(
  model: AsrModel,
  items: TranscribeItem[],
  options: Parameters<typeof transcribeFiles>[2] = {},
): Promise<Map<string, TranscriptionRow>> {
  const rows = new Map<string, TranscriptionRow>();
  for await (const row of transcribeFiles(model, items, options)) rows.set(row.id, row);
  return rows;
}

/** A 16-bit PCM stereo WAV with the same signal on both channels. */
function stereoWav16(samples: Float32Array, sampleRate: number): Uint8Array {
  const data = Buffer.alloc(samples.length * 4);
  samples.forEach((s, i) => {
    const v = Math.round(Math.max(-1, Math.min(1, s)) * 32767);
    data.writeInt16LE(v, i * 4);
    data.writeInt16LE(v, i * 4 + 2);
  });
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(2, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 4, 28);
  header.writeUInt16LE(4, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

test('planBatches: longest first, padded size within budget, every index once', () => {
  const frames = [100, 300, 50, 300, 200, 10];
  const batches = planBatches(frames, 650);
  assert.equal(batches.flat().sort(), [0, 1, 2, 3, 4, 5]);
  assert.equal(batches[0], [1, 3], 'the two longest first, in input order on ties');
  for (const batch of batches) {
    const longest = Math.max(...batch.map((i) => frames[i]!));
    assert.ok(batch.length === 1 || batch.length * longest <= 650, JSON.stringify(batch));
  }
  assert.equal(planBatches([900, 10], 100), [[0], [1]], 'an utterance over budget gets a batch alone');
  assert.equal(planBatches([5, 5, 5], 1000, 2), [[0, 1], [2]]);
  const padded = padFeatures([
    { data: Float32Array.of(1, 2, 3, 4), numFrames: 2, numBins: 2 },
    { data: Float32Array.of(5, 6), numFrames: 1, numBins: 2 },
  ]);
  assert.equal(Array.from(padded.features), [1, 2, 3, 4, 5, 6, 0, 0]);
  assert.equal(padded.frames, [2, 1]);
});

test('batched transcription equals one-at-a-time (pad invariance), and is deterministic', async () => {
  const items = SPEECH.map((s) => ({ id: s.id, path: s.path, reference: s.text }));
  for (const dir of FAMILY_DIRS) {
    const model = await loadModel(join(MODELS, dir), { provider: 'cpu', threads: 1 });
    const alone = await collect(model, items, { batchFrames: 1 });
    const batched = await collect(model, items);
    const again = await collect(model, items);
    assert.is(batched.size, items.length);
    let nonEmpty = 0;
    let scored = 0;
    for (const { id } of items) {
      const a = alone.get(id)!;
      const b = batched.get(id)!;
      assert.is(b.hypothesis, a.hypothesis, `${dir} ${id}`);
      assert.equal(b.tokenIds, a.tokenIds);
      assert.equal(again.get(id), b, `${dir} ${id}: a second run gives the same row`);
      if (b.hypothesis.length > 0) nonEmpty++;
      if (model.info.isCtc && a.referenceScore === null) {
        assert.is(b.referenceScore, null);
        assert.match(
          b.notes.join(' '),
          /reference needs at least \d+ output frames/,
          'only a too-short utterance has no score',
        );
      } else {
        // CTC forced score, or the transducer's teacher-forced one: the same batched and alone
        scored++;
        const sa = a.referenceScore!.logLikelihood;
        const sb = b.referenceScore!.logLikelihood;
        assert.ok(Math.abs(sa - sb) <= 1e-3 * Math.max(1, Math.abs(sa)), `${dir} ${id}: ${sa} vs ${sb}`);
        assert.ok(sb < 0);
        assert.ok(Math.abs(b.referenceScore!.perToken * b.referenceScore!.tokens - sb) < 1e-9);
      }
    }
    assert.ok(nonEmpty >= items.length - 1, `${dir}: the test models produce non-trivial transcripts`);
    assert.ok(scored >= items.length / 2, `${dir}: most references are scored`);
    const distinct = new Set([...batched.values()].map((r) => r.hypothesis));
    assert.ok(distinct.size >= items.length / 2, `${dir}: transcripts depend on the audio`);
    await model.close();
  }
});

test("the reference score prefers the model's own greedy transcript to another text", async () => {
  const model = await loadModel(join(MODELS, 'sidecar-ctc'), { provider: 'cpu', threads: 1 });
  const [first] = SPEECH;
  const greedy = (await collect(model, [{ id: 'a', path: first!.path }])).get('a')!.hypothesis;
  const rows = await collect(model, [
    { id: 'own', path: first!.path, reference: greedy },
    { id: 'other', path: first!.path, reference: first!.text },
  ]);
  assert.ok(rows.get('own')!.referenceScore!.logLikelihood > rows.get('other')!.referenceScore!.logLikelihood);
  await model.close();
});

test('bad input: empty and corrupt WAVs fail clearly or are skipped; resampled and stereo audio get notes', async () => {
  const { dir, remove } = temporaryDirectory('bad-input');
  const model = await loadModel(join(MODELS, 'sidecar-ctc'), { provider: 'cpu', threads: 1 });
  try {
    const source = await readWav(SPEECH[0]!.path);
    const paths = {
      empty: join(dir, 'empty.wav'),
      corrupt: join(dir, 'corrupt.wav'),
      silent: join(dir, 'no-samples.wav'),
      resampled: join(dir, 'rate22050.wav'),
      stereo: join(dir, 'stereo.wav'),
    };
    writeFileSync(paths.empty, '');
    writeFileSync(paths.corrupt, Buffer.from('RIFF\x10\x00\x00\x00WAVEjunkjunkjunk', 'latin1'));
    writeFileSync(paths.silent, encodeWav16(new Float32Array(0), 16000));
    writeFileSync(paths.resampled, encodeWav16(resample(source.samples, 16000, 22050), 22050));
    writeFileSync(paths.stereo, stereoWav16(source.samples, 16000));

    for (const [name, path] of [
      ['empty', paths.empty],
      ['corrupt', paths.corrupt],
      ['no samples', paths.silent],
    ] as const) {
      const error = await collect(model, [{ id: 'x', path }]).then(
        () => null,
        (e: Error) => e,
      );
      assert.instance(error, RoteError, name);
      assert.match(error!.message, path);
    }
    const skipped: string[] = [];
    const rows = await collect(
      model,
      Object.entries(paths)
        .map(([id, path]) => ({ id, path }))
        .concat([{ id: 'mono', path: SPEECH[0]!.path }]),
      { skipBad: true, onSkip: (s) => skipped.push(`${s.id}: ${s.reason}`) },
    );
    assert.equal(skipped.map((s) => s.split(':')[0]).sort(), ['corrupt', 'empty', 'silent']);
    assert.match(skipped.join('\n'), /empty file/);
    assert.equal([...rows.keys()].sort(), ['mono', 'resampled', 'stereo']);
    assert.equal(rows.get('resampled')!.notes, ['resampled 22050 -> 16000 Hz']);
    assert.equal(rows.get('stereo')!.notes, ['downmixed 2 channels']);
    assert.is(
      rows.get('stereo')!.hypothesis,
      rows.get('mono')!.hypothesis,
      'a downmixed copy transcribes like the mono file',
    );
    assert.ok(Math.abs(rows.get('resampled')!.durationSec - rows.get('mono')!.durationSec) < 0.01);
  } finally {
    await model.close();
    remove();
  }
});

test.run();
