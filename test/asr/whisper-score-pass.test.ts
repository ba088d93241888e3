/**
 * The teacher-forced decoder score of Whisper's Optimum layout rides on greedy decoding's first
 * pass: the pass over prompt + reference gives the logits at the prompt's last position and,
 * cut to the prompt, the cache greedy decoding continues from. So scoring adds no session run,
 * and the greedy tokens are those of a transcription without references (split and merged
 * decoders; the scores themselves are checked against the torch reference in whisper.test.ts).
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModel, sessionRunTime, transcribeFiles, type AsrModel } from '../../src/asr/index.ts';
import { MODELS, speechFixtures } from './helpers.ts';

const canaries = speechFixtures().slice(0, 6);

async function runs(
  model: AsrModel,
  withReferences: boolean,
): Promise<{ runs: number; tokens: Map<string, number[]>; scored: number }> {
  const before = sessionRunTime(model).runs;
  const tokens = new Map<string, number[]>();
  let scored = 0;
  const items = canaries.map((c) => ({ id: c.id, path: c.path, ...(withReferences ? { reference: c.text } : {}) }));
  for await (const row of transcribeFiles(model, items, { batchFrames: 6000, featureWorkers: 0 })) {
    tokens.set(row.id, row.tokenIds);
    if (row.referenceScore) scored++;
  }
  return { runs: sessionRunTime(model).runs - before, tokens, scored };
}

for (const layout of ['whisper-optimum', 'whisper-optimum-merged']) {
  test(`${layout}: scoring adds no session run and leaves the greedy tokens as they are`, async () => {
    const model = await loadModel(join(MODELS, layout), { provider: 'cpu' });
    try {
      const plain = await runs(model, false);
      const scored = await runs(model, true);
      assert.is(scored.scored, canaries.length);
      assert.is(plain.scored, 0);
      assert.is(scored.runs, plain.runs, 'one full decoder pass per batch serves both');
      for (const { id } of canaries) assert.equal(scored.tokens.get(id), plain.tokens.get(id), id);
    } finally {
      await model.close();
    }
  });
}

test.run();
