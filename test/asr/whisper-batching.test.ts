/**
 * The batch budget for a model that pads every utterance to a fixed window (Whisper: 30 s,
 * 3000 frames): each canary counts its window in --batch-frames (10 ms frames), and the
 * default budget holds DEFAULT_WINDOWS_PER_BATCH windows on CPU, so canaries are batched
 * (the CPU default of 2500 frames is less than one window). Observed on the Whisper fixture:
 * the batches the engine is given, and the same transcripts whatever the batching.
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModel, transcribeFiles, type AsrModel } from '../../src/asr/index.ts';
import {
  DEFAULT_WINDOWS_PER_BATCH,
  defaultBatchFrames,
  fixedWindowFrames,
  framesPer10ms,
} from '../../src/asr/batching.ts';
import { engineOf } from '../../src/asr/model.ts';
import { createFrontend } from '../../src/audio/index.ts';
import { MODELS, speechFixtures } from './helpers.ts';

const canaries = speechFixtures()
  .slice(0, 6)
  .map((s) => ({ id: s.id, path: s.path }));

let model: AsrModel;
/** Rows of every batch the engine ran, in order. */
const batchSizes: number[] = [];
test.before(async () => {
  model = await loadModel(join(MODELS, 'whisper-optimum'), { provider: 'cpu' });
  const engine = engineOf(model);
  const run = engine.run.bind(engine);
  engine.run = (batch, targets) => {
    batchSizes.push(batch.frames.length);
    return run(batch, targets);
  };
});
test.after(async () => {
  await model.close();
});

async function transcribe(batchFrames?: number): Promise<{ sizes: number[]; texts: Map<string, string> }> {
  batchSizes.length = 0;
  const texts = new Map<string, string>();
  const options = batchFrames === undefined ? { featureWorkers: 0 } : { batchFrames, featureWorkers: 0 };
  for await (const row of transcribeFiles(model, canaries, options)) texts.set(row.id, row.hypothesis);
  return { sizes: [...batchSizes], texts };
}

test('frames per 10 ms and the fixed window, by frontend', () => {
  const whisper = createFrontend({ type: 'whisper-mel', numBins: 80 });
  assert.is(fixedWindowFrames(whisper), 3000);
  assert.is(framesPer10ms(whisper), 1, "Whisper's frames are 10 ms frames, however many the window holds");
  const nemo = createFrontend({ type: 'nemo-mel' });
  assert.is(fixedWindowFrames(nemo), 0);
  assert.is(framesPer10ms(nemo), 1);
  const waveform = createFrontend({ type: 'waveform', sampleRate: 16000 });
  assert.is(fixedWindowFrames(waveform), 0);
  assert.is(framesPer10ms(waveform), 160);
});

test('default budget: the provider default, at least DEFAULT_WINDOWS_PER_BATCH windows for a fixed-window model', () => {
  assert.is(defaultBatchFrames('cpu'), 2500);
  assert.is(defaultBatchFrames('cuda'), 10000);
  assert.is(defaultBatchFrames('cpu', 3000), DEFAULT_WINDOWS_PER_BATCH * 3000);
  assert.is(defaultBatchFrames('cuda', 3000), Math.max(10000, DEFAULT_WINDOWS_PER_BATCH * 3000));
  assert.ok(DEFAULT_WINDOWS_PER_BATCH > 1);
});

test('Whisper on CPU by default: batches of DEFAULT_WINDOWS_PER_BATCH canaries, not one each nor all at once', async () => {
  const { sizes } = await transcribe();
  assert.equal(sizes, [DEFAULT_WINDOWS_PER_BATCH, canaries.length - DEFAULT_WINDOWS_PER_BATCH]);
});

test('--batch-frames counts each Whisper canary as its 3000-frame window', async () => {
  assert.equal((await transcribe(3000)).sizes, [1, 1, 1, 1, 1, 1], 'one window per batch');
  assert.equal((await transcribe(5999)).sizes, [1, 1, 1, 1, 1, 1], 'under two windows');
  assert.equal((await transcribe(6000)).sizes, [2, 2, 2]);
  assert.equal((await transcribe(18000)).sizes, [6]);
});

test('the same transcripts whatever the batching', async () => {
  const one = (await transcribe(3000)).texts;
  const byDefault = (await transcribe()).texts;
  assert.is(one.size, canaries.length);
  for (const { id } of canaries) assert.is(byDefault.get(id), one.get(id), id);
});

test.run();
