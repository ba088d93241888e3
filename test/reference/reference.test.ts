/**
 * The shipped reference models (models/) audited on the canaries they were
 * trained with (canaries/demo), through `runDemo` (what `npm start` runs):
 * one audit per model, shared by every test here.
 * - the baseline memorizes, graded by repetition, and the audit says so at alpha 0.01;
 * - the control (never saw a canary) gets "no memorization detected";
 * - compare: the control memorizes less than the baseline; the clipped
 *   variants are found memorizing less in the groups where the round's
 *   runs show it (CLIPPED_FINDINGS; each card's "Compared with the baseline");
 * - each shipped model is the run the C rule chose in the training round
 *   (scripts/reference/results/<TRAINING_ROUND>/), its model.onnx that run's export;
 * - export/engine agreement: rote's ONNX transcripts equal the PyTorch
 *   models' own (recorded after training, test/fixtures/reference/);
 * - the model cards hold the audit tables and verdicts this run prints.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_MODELS_DIR, listDemoModels, runDemo, type DemoResult } from '../../src/audit/pipeline/demo.ts';
import type { AuditReport } from '../../src/audit/index.ts';
import { sha256File } from '../../src/util/hash.ts';
import {
  ADAPTIVE_CLIPPED,
  auditSection,
  DEV_CER_FACTOR,
  FIXED_CLIPPED,
  loadTraining,
  PYTORCH_TRANSCRIPTS,
  ruleCer,
  shippedMismatch,
  transcriptAgreement,
  type Training,
  type TranscriptFixture,
} from '../../scripts/reference/model-cards.ts';

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

/** The baseline's audit detects memorization from this many repetitions on (1: from the smallest group). */
const BASELINE_DETECTED_FROM = 1;

/** The models shipped in models/, in the demo's order. */
const SHIPPED = [
  'baseline',
  'per-example-clip',
  'per-core-clip',
  'control',
  'adaptive-per-core-clip',
  'adaptive-per-example-clip',
];

test('the demo audits the shipped models, baseline first, and writes every report', () => {
  assert.equal(
    demo.models.map((m) => m.name),
    SHIPPED,
  );
  assert.equal(Object.keys(training.shipped).sort(), [...SHIPPED].sort());
  for (const model of demo.models) {
    assert.is(model.report.canarySet.canaries, 188);
    assert.is(model.report.rows.length, 188);
    assert.ok(readFileSync(join(model.reportDir, 'report.html'), 'utf8').includes('<!DOCTYPE html>'));
  }
  assert.ok(readFileSync(demo.comparisonPaths.html, 'utf8').includes('<!DOCTYPE html>'));
  assert.equal(
    JSON.parse(readFileSync(demo.comparisonPaths.json, 'utf8')).models.map((m: { name: string }) => m.name),
    demo.models.map((m) => m.name),
  );
});

test('baseline: memorization detected at alpha 0.01, graded by repetition', () => {
  const baseline = report('baseline');
  assert.is(baseline.settings.alpha, 0.01);
  assert.ok(baseline.verdict.memorizationDetected, baseline.verdict.sentence);
  assert.ok(
    baseline.verdict.smallestRepetitions !== null && baseline.verdict.smallestRepetitions <= BASELINE_DETECTED_FROM,
    baseline.verdict.sentence,
  );
  // Graded: the CTC loss per character falls from held-out through 1, 2, 4, 8 and 16 repetitions
  const score = (repetitions: number | null) =>
    baseline.groups.find((g) => g.repetitions === repetitions)!.modelScore!.estimate;
  const ladder = [null, 1, 2, 4, 8, 16].map(score);
  for (let i = 1; i < ladder.length; i++)
    assert.ok(
      ladder[i]! < ladder[i - 1]!,
      `CTC loss per character by group: ${ladder.map((v) => v.toFixed(3)).join(' / ')}`,
    );
  const cer = (repetitions: number | null) => baseline.groups.find((g) => g.repetitions === repetitions)!.cer.estimate;
  assert.ok(cer(16) < cer(1) && cer(1) < cer(null), `CER held-out ${cer(null)}, x1 ${cer(1)}, x16 ${cer(16)}`);
});

test('control (never trained on a canary): no memorization detected', () => {
  const control = report('control');
  assert.not.ok(control.verdict.memorizationDetected, control.verdict.sentence);
  assert.is(control.verdict.detectedRepetitions.length, 0);
  assert.ok(control.tests.every((t) => !t.significant));
  assert.match(control.verdict.sentence, /no memorization detected/);
});

/**
 * What the audits of the shipped clipped models of round cpu-d96x4-2-pass truly find (each card's
 * "Compared with the baseline"): all of them still memorize, detected from 1 repetition like the
 * baseline. per-example-clip (C = 3.03, the probe's 0.1 quantile) memorizes less than the baseline at
 * 1, 2 and 4 repetitions (CER x1 0.326 vs 0.186; CTC loss per character +0.79 / +0.50 / +0.12), pooled
 * over all inserted canaries beyond its held-out difference on CER; at 8 and 16 repetitions both
 * models recognize every canary (nothing left to protect on CER; CTC differences below 0.01).
 * per-core-clip (C = 2.15): no difference from the baseline. adaptive-per-example-clip (the C rule's
 * second candidate: C = the 0.5 quantile of each batch's own per-example norms; its CER on the
 * evaluation set, 308 errors, is within 1.2 x the baseline's 257) memorizes less at 1, 2, 4 and 8
 * repetitions on both scores (CER x8 0.169 vs 0.000), beyond its held-out difference on CER; at 16 it
 * recognizes 0.993 of the characters (no test can reach alpha there). adaptive-per-core-clip (the
 * second candidate too: C = the 0.5 quantile of each batch's 4 micro-batch norms; 244 errors)
 * memorizes less at 1 and 2 repetitions, beyond its held-out difference on CER.
 */
const CLIPPED_FINDINGS: Record<
  string,
  {
    memorizationDetected: boolean;
    memorizesLessAt: number[];
    memorizesMoreAt: { repetitions: number; score: string }[];
    primary: 'memorizes less' | 'no difference';
  }
> = {
  'per-example-clip': {
    memorizationDetected: true,
    memorizesLessAt: [1, 2, 4],
    memorizesMoreAt: [],
    primary: 'memorizes less',
  },
  'per-core-clip': { memorizationDetected: true, memorizesLessAt: [], memorizesMoreAt: [], primary: 'no difference' },
  'adaptive-per-core-clip': {
    memorizationDetected: true,
    memorizesLessAt: [1, 2],
    memorizesMoreAt: [],
    primary: 'memorizes less',
  },
  'adaptive-per-example-clip': {
    memorizationDetected: true,
    memorizesLessAt: [1, 2, 4, 8],
    memorizesMoreAt: [],
    primary: 'memorizes less',
  },
};

test('compare: refuses nothing, finds that the control memorizes less than the baseline from 1 repetition, reports the clipped variants as found', () => {
  const { comparison } = demo;
  assert.is(comparison.pairs.length, SHIPPED.length - 1);
  assert.ok(comparison.pairs.every((pair) => pair.baseline === 'baseline'));
  const control = comparison.pairs.find((pair) => pair.other === 'control')!;
  for (const repetitions of [1, 2, 4, 8, 16]) {
    const cer = [...control.groups, ...control.heldOut].find(
      (t) => t.repetitions === repetitions && t.score === 'cer',
    )!;
    assert.is(cer.finding, 'other-memorizes-less', `x${repetitions}`);
  }
  assert.match(
    control.verdict,
    /^control memorizes less than baseline \(paired Wilcoxon signed-rank over all 60 inserted canaries/,
  );
  for (const [name, expected] of Object.entries(CLIPPED_FINDINGS)) {
    const pair = comparison.pairs.find((p) => p.other === name)!;
    const own = report(name);
    assert.is(own.verdict.memorizationDetected, expected.memorizationDetected, `${name}: ${own.verdict.sentence}`);
    const at = (finding: string) =>
      [
        ...new Set([...pair.groups, ...pair.heldOut].filter((t) => t.finding === finding).map((t) => t.repetitions)),
      ].sort((a, b) => a! - b!);
    assert.equal(at('other-memorizes-less'), expected.memorizesLessAt, `${name}: ${pair.verdict}`);
    // Compare tests one side (--expect less, the default); more memorization shows as per-group intervals of
    // (clipped - baseline) below zero on the score named.
    for (const { repetitions, score } of expected.memorizesMoreAt) {
      const below = pair.groupsExcludingZero.filter((g) => g.repetitions === repetitions && g.score === score);
      assert.is(below.length, 1, `${name} x${repetitions} ${score}: ${JSON.stringify(pair.groupsExcludingZero)}`);
      assert.ok(
        below[0]!.meanDifference.high < 0,
        `${name} x${repetitions}: mean difference ${JSON.stringify(below[0]!.meanDifference)}`,
      );
    }
    assert.ok(pair.verdict.includes(name));
    if (expected.primary === 'memorizes less')
      assert.match(
        pair.verdict,
        new RegExp(`^${name} memorizes less than baseline .*beyond held-out: the inserted differences exceed`),
      );
    else assert.match(pair.verdict, new RegExp(`^no difference detected between ${name} and baseline`));
  }
  assert.is(comparison.verdict, comparison.pairs.map((pair) => pair.verdict).join(' | '));
});

const fixture = JSON.parse(readFileSync(PYTORCH_TRANSCRIPTS, 'utf8')) as TranscriptFixture;

test('each shipped model is the run the C rule chose in the training round, and models/<name>/model.onnx is its export', async () => {
  for (const model of demo.models) {
    assert.is(shippedMismatch(model.name, training, fixture, await sha256File(join(model.dir, 'model.onnx'))), null);
  }
  const baseline = training.shipped['baseline']!;
  assert.is(training.baselineDevCer, ruleCer(baseline));
  assert.ok(Math.abs(training.bound - ruleCer(baseline) * DEV_CER_FACTOR) < 1e-6, `bound ${training.bound}`);
  for (const variant of FIXED_CLIPPED) {
    const { candidates, chosen } = training.variants[variant]!;
    const within = candidates.filter((c) => ruleCer(c.metrics) <= training.bound);
    if (chosen) assert.is(chosen.metrics.clip, Math.min(...within.map((c) => c.metrics.clip!)), variant);
    else assert.is(within.length, 0, variant);
    assert.is(training.shipped[variant]!.name, (chosen ?? candidates[candidates.length - 1]!).metrics.name);
  }
  // Adaptive variants: the most clipping run within the bound (smallest quantile; per-core's smallest-norm rule is 0), or none.
  for (const variant of ADAPTIVE_CLIPPED) {
    const entry = training.variants[variant];
    if (!entry) continue;
    const quantile = (c: { metrics: { adaptiveQuantile?: number | null } }) => c.metrics.adaptiveQuantile ?? 0;
    const within = entry.candidates.filter((c) => ruleCer(c.metrics) <= training.bound);
    if (within.length === 0) assert.is(entry.chosen, null, variant);
    else assert.is(quantile(entry.chosen!), Math.min(...within.map(quantile)), variant);
    assert.is(training.shipped[variant]?.name, entry.chosen?.metrics.name, variant);
  }
  for (const run of training.runs) {
    // Every run of the round trained on the same recipe: same seed, steps and batch; the passes of
    // round.json over the injected lines (the control takes the same steps over the corpus lines alone).
    assert.is(run.metrics.steps, baseline.steps, run.metrics.name);
    assert.is(run.metrics.seed, baseline.seed, run.metrics.name);
    if (run.metrics.variant !== 'control')
      assert.ok(
        Math.abs(run.metrics.epochs - training.round.passes) < 0.01,
        `${run.metrics.name}: ${run.metrics.epochs} passes`,
      );
  }
});

test("the shipped-model check refuses a model.onnx that is not the chosen run's export", () => {
  const name = 'per-example-clip';
  const entry = fixture.models[name]!;
  assert.is(shippedMismatch(name, training, fixture, entry.onnxSha256), null);
  assert.match(shippedMismatch(name, training, fixture, '0'.repeat(64))!, /is not the export of/);
  const other = { ...fixture, models: { ...fixture.models, [name]: { ...entry, run: 'per-example-clip-q0.5' } } };
  assert.match(shippedMismatch(name, training, other, entry.onnxSha256)!, /the C rule chose/);
});

for (const name of SHIPPED) {
  test(`${name}: rote's ONNX transcripts equal the PyTorch model's own greedy transcripts`, () => {
    const hypotheses = fixture.models[name]!.hypotheses;
    assert.is(Object.keys(hypotheses).length, 188);
    const agreement = transcriptAgreement(report(name), hypotheses);
    const detail = agreement.differences
      .map((d) => `${d.id} ${d.group}: PyTorch "${d.pytorch}" vs rote "${d.rote}"`)
      .join('\n');
    // The PyTorch transcripts come from the same fp32 features rote computes (train.py canary-transcripts);
    // what remains is PyTorch vs ONNX Runtime arithmetic: 188/188 for every model when recorded.
    // (From the fp16 training store, two models agreed on only 186/188.)
    assert.ok(agreement.same / agreement.total >= 0.99, `${agreement.same}/${agreement.total}:\n${detail}`);
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
    assert.ok(
      card.includes(auditSection(model.report)),
      `${model.name}/MODEL_CARD.md is stale: run node --import tsx scripts/reference/model-cards.ts`,
    );
    const pair = demo.comparison.pairs.find((p) => p.other === model.name);
    if (pair) assert.ok(card.includes(pair.verdict), `${model.name}/MODEL_CARD.md: comparison verdict is stale`);
  }
});

/**
 * The shipped trajectories (models/trajectory/README.md): checkpoints of two whole training runs,
 * each file as ship-steps.ts recorded it; the first step at which the audit detects each group, as observed.
 */
const TRAJECTORY_FIRST_DETECTED: Record<string, (number | null)[]> = {
  // 1, 2, 4, 8, 16 repetitions
  baseline: [1336, 1000, 334, 500, 334],
  'adaptive-per-example-clip': [2672, 1000, 500, 500, 334],
};

test('the demo audits the shipped trajectories: steps and files as shipped, memorization detected at 16 repetitions first', async () => {
  const trajectory = demo.trajectory;
  assert.ok(trajectory, 'the demo runs the trajectory of models/trajectory');
  const series = trajectory!.report.series;
  assert.equal(
    series.map((one) => one.name),
    Object.keys(TRAJECTORY_FIRST_DETECTED),
  );
  for (const one of series) {
    const shipped = JSON.parse(readFileSync(join(DEMO_MODELS_DIR, 'trajectory', one.name, 'steps.json'), 'utf8')) as {
      checkpoints: { step: number; sha256: string }[];
    };
    assert.equal(
      one.points.map((point) => point.step),
      shipped.checkpoints.map((checkpoint) => checkpoint.step),
    );
    for (const checkpoint of shipped.checkpoints)
      assert.is(
        await sha256File(join(DEMO_MODELS_DIR, 'trajectory', one.name, `step-${checkpoint.step}`, 'model.onnx')),
        checkpoint.sha256,
      );
    assert.equal(
      one.detection.map((entry) => entry.firstStep),
      TRAJECTORY_FIRST_DETECTED[one.name],
      `${one.name}: first steps detected (1, 2, 4, 8, 16 repetitions)`,
    );
    // Held-out canaries are recognized better as training goes on (general accuracy).
    const heldOut = one.points.map((point) => point.groups[0]!.cer.estimate);
    assert.ok(
      heldOut.every((cer, i) => i === 0 || cer < heldOut[i - 1]!),
      `${one.name}: held-out CER ${heldOut}`,
    );
  }
  // From step 500 on, the clipped run memorizes less than the baseline on CER, beyond the held-out difference.
  for (const comparison of trajectory!.report.comparisons.filter((one) => one.step >= 500))
    assert.is(
      comparison.pairs[0]!.primary.find((test) => test.score === 'cer')!.finding,
      'other-memorizes-less',
      `step ${comparison.step}`,
    );
  const at500 = trajectory!.report.comparisons.find((comparison) => comparison.step === 500)!;
  assert.equal(
    at500.pairs[0]!.primary.map((test) => test.finding),
    ['other-memorizes-less', 'other-memorizes-less'],
  );
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
  assert.equal(
    (await listDemoModels()).map((m) => m.name),
    SHIPPED,
  );
});

test.run();
