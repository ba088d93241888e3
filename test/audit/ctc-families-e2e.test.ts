/**
 * End to end on the Hugging Face, WeNet and Zipformer CTC test models
 * (scripts/models/make_ctc_family_models.py), each on its standard export files with no
 * sidecar: random weights never saw the canaries, so the audit must say "no memorization
 * detected", with CTC scores.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCanarySet } from '../../src/canary/index.ts';
import { audit, validateReport } from '../../src/audit/index.ts';

const MODELS = new URL('../fixtures/models/', import.meta.url).pathname;
let work = '';
let set = '';

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'rote-audit-families-'));
  set = join(work, 'set');
  await generateCanarySet({
    out: set,
    seed: 'audit-families',
    words: 3,
    repetitions: [1, 4],
    perGroup: 6,
    holdout: 12,
    speed: 2.5,
    concurrency: 1,
  });
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

for (const family of ['hf-ctc', 'sherpa-wenet-ctc', 'wenet-ctc', 'zipformer-ctc']) {
  test(`${family}: audit with no sidecar, no memorization detected, CTC scores`, async () => {
    const report = await audit({
      canaries: set,
      model: join(MODELS, family),
      out: join(work, family),
      provider: 'cpu',
      bootstrapResamples: 200,
    });
    validateReport(report);
    assert.is(report.model.family, family);
    assert.is(report.rows.length, 24);
    assert.is(report.verdict.sentence, 'no memorization detected at alpha = 0.01');
    assert.ok(
      report.rows.filter((row) => row.modelScore !== null).length >= 22,
      'model (CTC) scores for nearly every canary',
    );
  });
}

test.run();
