/**
 * An audit end to end on the tiny Whisper fixture (Optimum layout, no sidecar): every
 * canary transcribed and scored, the score named "decoder score" in every report,
 * each canary's score equal to what transcribeFiles gives for its audio (whose
 * scores test/asr/whisper.test.ts checks against the torch reference), and a
 * random-weight model judged not to memorize.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModel, transcribeFiles } from '../../src/asr/index.ts';
import { audit } from '../../src/audit/index.ts';
import { auditTerminalTable } from '../../src/audit/render/index.ts';
import { generateCanarySet, readCanarySet } from '../../src/canary/index.ts';
import { MODELS } from './helpers.ts';

const MODEL = join(MODELS, 'whisper-optimum');
let work = '';
let set = '';

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'rote-whisper-audit-'));
  set = join(work, 'set');
  await generateCanarySet({
    out: set,
    seed: 'whisper-audit',
    words: 3,
    repetitions: [1, 4],
    perGroup: 6,
    holdout: 12,
    concurrency: 1,
  });
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('audit: whisper-optimum with the teacher-forced decoder score on every canary, no memorization', async () => {
  const out = join(work, 'audit');
  const report = await audit({ canaries: set, model: MODEL, out, provider: 'cpu', bootstrapResamples: 300 });
  assert.is(report.model.family, 'whisper-optimum');
  assert.is(report.model.scoreKind, 'decoder');
  for (const text of [
    await readFile(join(out, 'report.md'), 'utf8'),
    await readFile(join(out, 'report.html'), 'utf8'),
    auditTerminalTable(report),
  ]) {
    assert.ok(text.includes('decoder score'), text.slice(0, 1500));
    assert.not.ok(/CTC score|transducer score/.test(text));
  }
  assert.is(report.rows.length, 24);
  assert.ok(
    report.rows.every((row) => row.modelScore !== null && Number.isFinite(row.modelScore) && row.modelScore > 0),
  );
  assert.ok(report.tests.some((t) => t.score === 'modelScore'));
  assert.not.ok(report.verdict.memorizationDetected);

  // The audit's scores are the transcribe path's (negated per character), canary by canary.
  const canaries = (await readCanarySet(set)).canaries.slice(0, 4);
  const model = await loadModel(MODEL, { provider: 'cpu' });
  try {
    const items = canaries.map((c) => ({ id: c.id, path: join(set, c.audio), reference: c.text }));
    for await (const row of transcribeFiles(model, items, { featureWorkers: 0 })) {
      const audited = report.rows.find((r) => r.id === row.id)!;
      assert.is(audited.hypothesis, row.hypothesis);
      assert.ok(Math.abs(audited.modelScore! + row.referenceScore!.perCharacter) < 1e-9, row.id);
    }
  } finally {
    await model.close();
  }
});

test("audit: whisper-sherpa (the same weights in sherpa-onnx's layout), decoder scores on every canary", async () => {
  const out = join(work, 'audit-sherpa');
  const report = await audit({
    canaries: set,
    model: join(MODELS, 'whisper-sherpa'),
    out,
    provider: 'cpu',
    bootstrapResamples: 300,
  });
  assert.is(report.model.family, 'whisper-sherpa');
  assert.is(report.model.scoreKind, 'decoder');
  assert.ok((await readFile(join(out, 'report.md'), 'utf8')).includes('decoder score'));
  assert.is(report.rows.length, 24);
  assert.ok(
    report.rows.every((row) => row.modelScore !== null && Number.isFinite(row.modelScore) && row.modelScore > 0),
  );
  // The teacher-forced score does not depend on the layout's decoding rules: it is the Optimum layout's.
  const optimum = JSON.parse(await readFile(join(work, 'audit', 'report.json'), 'utf8')) as typeof report;
  for (const row of report.rows) {
    const other = optimum.rows.find((r) => r.id === row.id)!;
    assert.ok(Math.abs(row.modelScore! - other.modelScore!) < 1e-4, row.id);
  }
  assert.not.ok(report.verdict.memorizationDetected);
});

test.run();
