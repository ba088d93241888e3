/**
 * The shipped reference models (models/) audited on the canaries they were
 * trained with (canaries/demo), through `runDemo` (what `npm start` runs):
 * one audit per model, shared by every test here.
 * - the baseline memorizes and the audit says so at alpha 0.01;
 * - the control (never saw a canary) gets "no memorization detected";
 * - compare: the control memorizes less than the baseline; the clipped
 *   variants are reported as they truly are (see "The clipping finding" in
 *   models/per-example-clip/MODEL_CARD.md);
 * - each shipped model is the run the C search chose over every training
 *   round (scripts/reference/results/), its model.onnx that run's export;
 * - export/engine agreement: rote's ONNX transcripts equal the PyTorch
 *   models' own (recorded after training, test/fixtures/reference/);
 * - the model cards hold the audit tables and verdicts this run prints.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_MODELS_DIR, listDemoModels, runDemo, type DemoResult } from '../../src/audit/demo.ts';
import type { AuditReport } from '../../src/audit/index.ts';
import { sha256File } from '../../src/util/hash.ts';
import { auditSection, loadTraining, PYTORCH_TRANSCRIPTS, shippedMismatch, transcriptAgreement, type Training, type TranscriptFixture } from '../../scripts/reference/model-cards.ts';

const work = mkdtempSync(join(tmpdir(), 'rote-reference-'));
let demo: DemoResult;
let training: Training;

function report(name: string): AuditReport {
  const model = demo.models.find((m) => m.name === name);
  assert.ok(model, `no ${name} in the demo`);
  return model!.report;
}

test.before(async () => {
  demo = await runDemo({ out: join(work, 'demo'), provider: 'cpu', threads: 2 });
  training = await loadTraining();
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test('the demo audits the four shipped models, baseline first, and writes every report', () => {
  assert.equal(demo.models.map((m) => m.name), ['baseline', 'per-example-clip', 'per-core-clip', 'control']);
  for (const model of demo.models) {
    assert.is(model.report.canarySet.canaries, 188);
    assert.is(model.report.rows.length, 188);
    assert.ok(readFileSync(join(model.reportDir, 'report.html'), 'utf8').includes('<!DOCTYPE html>'));
  }
  assert.ok(readFileSync(demo.comparisonPaths.html, 'utf8').includes('<!DOCTYPE html>'));
  assert.equal(JSON.parse(readFileSync(demo.comparisonPaths.json, 'utf8')).models.map((m: { name: string }) => m.name), demo.models.map((m) => m.name));
});

test('baseline: memorization detected at alpha 0.01 from a small repetition count', () => {
  const baseline = report('baseline');
  assert.is(baseline.settings.alpha, 0.01);
  assert.ok(baseline.verdict.memorizationDetected, baseline.verdict.sentence);
  assert.ok(baseline.verdict.smallestRepetitions !== null && baseline.verdict.smallestRepetitions <= 2, baseline.verdict.sentence);
  const heldOut = baseline.groups.find((g) => g.repetitions === null)!;
  const once = baseline.groups.find((g) => g.repetitions === 1)!;
  assert.ok(once.cer.estimate < heldOut.cer.estimate / 4, `x1 CER ${once.cer.estimate} vs held-out ${heldOut.cer.estimate}`);
});

test('control (never trained on a canary): no memorization detected', () => {
  const control = report('control');
  assert.not.ok(control.verdict.memorizationDetected, control.verdict.sentence);
  assert.is(control.verdict.detectedRepetitions.length, 0);
  assert.ok(control.tests.every((t) => !t.significant));
  assert.match(control.verdict.sentence, /no memorization detected/);
});

/**
 * What the audits of the shipped clipped models (C = 1, round 2 of the C search) truly find, each
 * model card's "The clipping finding": both still memorize from 1 repetition and compare finds no
 * group where they memorize less (or more) than the baseline. (Before compare treated CTC-score
 * differences below SCORE_RESOLUTION as ties, per-example-clip "memorized more" at 8 and 16
 * repetitions by ~3e-5 per character, where both models transcribe every canary exactly.)
 */
const CLIPPED_FINDINGS: Record<string, { memorizationDetected: boolean; memorizesLessAt: number[]; memorizesMoreAt: { repetitions: number; score: string }[] }> = {
  'per-example-clip': { memorizationDetected: true, memorizesLessAt: [], memorizesMoreAt: [] },
  'per-core-clip': { memorizationDetected: true, memorizesLessAt: [], memorizesMoreAt: [] },
};

test('compare: refuses nothing, finds that the control memorizes less than the baseline from 1 repetition, reports the clipped variants as found', () => {
  const { comparison } = demo;
  assert.is(comparison.pairs.length, 3);
  assert.ok(comparison.pairs.every((pair) => pair.baseline === 'baseline'));
  const control = comparison.pairs.find((pair) => pair.other === 'control')!;
  for (const repetitions of [1, 2, 4, 8, 16]) {
    const cer = control.groups.find((t) => t.repetitions === repetitions && t.score === 'cer')!;
    assert.is(cer.finding, 'other-memorizes-less', `x${repetitions}`);
  }
  assert.match(control.verdict, /^control memorizes less than baseline \(paired Wilcoxon signed-rank over all \d+ inserted canaries/);
  for (const [name, expected] of Object.entries(CLIPPED_FINDINGS)) {
    const pair = comparison.pairs.find((p) => p.other === name)!;
    const own = report(name);
    assert.is(own.verdict.memorizationDetected, expected.memorizationDetected, `${name}: ${own.verdict.sentence}`);
    const at = (finding: string) => [...new Set(pair.groups.filter((t) => t.finding === finding).map((t) => t.repetitions))].sort((a, b) => a! - b!);
    assert.equal(at('other-memorizes-less'), expected.memorizesLessAt, `${name}: ${pair.verdict}`);
    assert.equal(at('other-memorizes-more'), expected.memorizesMoreAt.map((m) => m.repetitions), `${name}: ${pair.verdict}`);
    for (const { repetitions, score } of expected.memorizesMoreAt) {
      // Where it is found, it is on the score named and the difference is tiny (see the card).
      const tests = pair.groups.filter((t) => t.repetitions === repetitions && t.finding === 'other-memorizes-more');
      assert.equal(tests.map((t) => t.score), [score], `${name} x${repetitions}`);
      assert.ok(Math.abs(tests[0]!.meanDifference.estimate) < 1e-3, `${name} x${repetitions}: mean difference ${tests[0]!.meanDifference.estimate}`);
    }
    assert.ok(pair.verdict.includes(name));
  }
  assert.is(comparison.verdict, comparison.pairs.map((pair) => pair.verdict).join(' | '));
});

const fixture = JSON.parse(readFileSync(PYTORCH_TRANSCRIPTS, 'utf8')) as TranscriptFixture;

test('each shipped model is the run the C search chose over every training round, and models/<name>/model.onnx is its export', async () => {
  for (const model of demo.models) {
    assert.is(shippedMismatch(model.name, training, fixture, await sha256File(join(model.dir, 'model.onnx'))), null);
  }
  for (const [variant, { candidates, chosen }] of Object.entries(training.search.variants)) {
    const within = candidates.filter((c) => c.metrics.devCer <= training.search.bound);
    assert.ok(within.length > 0, `${variant}: no candidate within the bound`);
    assert.is(chosen.metrics.clip, Math.min(...within.map((c) => c.metrics.clip!)), variant);
    assert.is(training.shipped[variant]!.metrics.name, chosen.metrics.name);
  }
  assert.is(training.search.bound, 0.0203);
  assert.is(training.shipped['baseline']!.metrics.devCer, training.search.baselineDevCer);
});

test('the shipped-model check refuses a model.onnx that is not the chosen run\'s export', () => {
  const name = 'per-example-clip';
  const entry = fixture.models[name]!;
  assert.is(shippedMismatch(name, training, fixture, entry.onnxSha256), null);
  assert.match(shippedMismatch(name, training, fixture, '0'.repeat(64))!, /is not the export of/);
  const other = { ...fixture, models: { ...fixture.models, [name]: { ...entry, run: 'per-example-clip-c0.3' } } };
  assert.match(shippedMismatch(name, training, other, entry.onnxSha256)!, /the C search chose/);
});

for (const name of ['baseline', 'per-example-clip', 'per-core-clip', 'control']) {
  test(`${name}: rote's ONNX transcripts equal the PyTorch model's own greedy transcripts`, () => {
    const hypotheses = fixture.models[name]!.hypotheses;
    assert.is(Object.keys(hypotheses).length, 188);
    const agreement = transcriptAgreement(report(name), hypotheses);
    const detail = agreement.differences.map((d) => `${d.id} ${d.group}: PyTorch "${d.pytorch}" vs rote "${d.rote}"`).join('\n');
    // Every canary the model trained on (the confident ones) agrees exactly. Overall >= 97.5% where the
    // PyTorch transcripts were computed on the H200 with TF32 matmuls, which flips a character of up to 4
    // of 188 uncertain held-out transcripts; CPU-computed ones (fp32) must agree on >= 99%.
    if (name !== 'control') assert.is(agreement.insertedSame, agreement.inserted, detail);
    const minimum = training.shipped[name]!.round.tf32 ? 0.975 : 0.99;
    assert.ok(agreement.same / agreement.total >= minimum, `${agreement.same}/${agreement.total}:\n${detail}`);
  });
}

test('transcript agreement detects a changed transcript and ignores runs of spaces', () => {
  const original = fixture.models['baseline']!.hypotheses;
  const before = transcriptAgreement(report('baseline'), original);
  const [first, second] = Object.keys(original);
  const changed = { ...original, [first!]: `${original[first!]}x`, [second!]: original[second!]!.replace(' ', '  ') };
  const after = transcriptAgreement(report('baseline'), changed);
  assert.is(after.same, before.same - 1);
  assert.ok(after.differences.some((d) => d.id === first));
});

test('the model cards hold the audit tables and comparison verdicts that npm start prints now', () => {
  for (const model of demo.models) {
    const card = readFileSync(join(DEMO_MODELS_DIR, model.name, 'MODEL_CARD.md'), 'utf8');
    assert.ok(card.includes(auditSection(model.report)), `${model.name}/MODEL_CARD.md is stale: run node --import tsx scripts/reference/model-cards.ts`);
    const pair = demo.comparison.pairs.find((p) => p.other === model.name);
    if (pair) assert.ok(card.includes(pair.verdict), `${model.name}/MODEL_CARD.md: comparison verdict is stale`);
  }
});

test('the demo replaces its own output folder and refuses a folder it did not write', async () => {
  const foreign = join(work, 'foreign');
  mkdirSync(foreign, { recursive: true });
  writeFileSync(join(foreign, 'keep.txt'), 'user data');
  try {
    await runDemo({ out: foreign, provider: 'cpu' });
    assert.unreachable('a folder holding other files was replaced');
  } catch (error) {
    assert.match((error as Error).message, /not written by rote demo/);
  }
  assert.is(readFileSync(join(foreign, 'keep.txt'), 'utf8'), 'user data');
  assert.equal((await listDemoModels()).map((m) => m.name), ['baseline', 'per-example-clip', 'per-core-clip', 'control']);
});

test.run();
