/**
 * Long audio (issue 13): an utterance longer than the maximum duration is refused before any work (or skipped),
 * instead of growing the process until the kernel kills it; batches stay within their frame budget.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_MAX_DURATION_SEC,
  loadModel,
  planBatches,
  transcribeFiles,
  type TranscriptionRow,
} from '../../src/asr/index.ts';
import { RoteError } from '../../src/util/errors.ts';
import { encodeWav16 } from '../../src/audio/wav.ts';
import { MODELS, speechFixtures, temporaryDirectory } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { dir, remove } = temporaryDirectory('long-audio');
const long = join(dir, 'long.wav');
// 61 s of low noise: one second beyond the default limit.
let state = 7;
writeFileSync(
  long,
  encodeWav16(
    Float32Array.from(
      { length: 16000 * (DEFAULT_MAX_DURATION_SEC + 1) },
      () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.05,
    ),
    16000,
  ),
);
const short = speechFixtures()[0]!;

test('an utterance longer than the maximum duration is refused up front, naming the file, its length and the flag', async () => {
  const model = await loadModel(join(MODELS, 'sidecar-ctc'), { provider: 'cpu' });
  try {
    const rows: TranscriptionRow[] = [];
    let error: unknown;
    try {
      for await (const row of transcribeFiles(model, [
        { id: 'short', path: short.path },
        { id: 'long', path: long },
      ]))
        rows.push(row);
    } catch (caught) {
      error = caught;
    }
    assert.instance(error, RoteError);
    assert.match(
      (error as Error).message,
      new RegExp(
        `long\\.wav: 61\\.0 s of audio, longer than --max-duration ${DEFAULT_MAX_DURATION_SEC} s; the memory a model needs grows with the square of the length`,
      ),
    );
    assert.is(rows.length, 0, 'work was done before the refusal');

    const skipped: string[] = [];
    for await (const row of transcribeFiles(
      model,
      [
        { id: 'short', path: short.path },
        { id: 'long', path: long },
      ],
      { skipBad: true, onSkip: (s) => skipped.push(s.id) },
    ))
      rows.push(row);
    assert.equal(
      rows.map((r) => r.id),
      ['short'],
    );
    assert.equal(skipped, ['long']);

    const allowed: TranscriptionRow[] = [];
    for await (const row of transcribeFiles(model, [{ id: 'long', path: long }], { maxDurationSec: 62 }))
      allowed.push(row);
    assert.is(allowed.length, 1);
    assert.ok(Math.abs(allowed[0]!.durationSec - 61) < 0.01);
  } finally {
    await model.close();
  }
});

test('rote transcribe: too long audio exits 2 with the reason; --help states the memory budget', async () => {
  const run = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        [join(ROOT, 'bin/rote.js'), 'transcribe', ...args],
        (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
      );
    });
  const refused = await run([
    '--model',
    join(MODELS, 'sidecar-ctc'),
    '--input',
    long,
    '--out',
    join(dir, 'rows.jsonl'),
    '--provider',
    'cpu',
    '--quiet',
  ]);
  assert.is(refused.code, 2);
  assert.match(refused.stderr, /rote: .*long\.wav: 61\.0 s of audio, longer than --max-duration 60 s/);
  const help = (await run(['--help'])).stdout.replace(/\s+/g, ' ');
  assert.match(help, /memory budget: a batch holds at most --batch-frames padded feature frames/);
  assert.match(help, /--max-duration <seconds>/);
});

test('planBatches: no batch exceeds the frame budget unless it holds one utterance', () => {
  let seed = 3;
  const frames = Array.from({ length: 500 }, () => 50 + ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % 3000));
  for (const budget of [800, 2500, 10000]) {
    for (const batch of planBatches(frames, budget)) {
      const padded = batch.length * Math.max(...batch.map((i) => frames[i]!));
      assert.ok(padded <= budget || batch.length === 1, `batch of ${batch.length} pads to ${padded} > ${budget}`);
    }
  }
});

test.after(remove);

test.run();
