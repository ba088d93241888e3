/**
 * The membership-inference and one-run ε sections of the audit report, built
 * from synthetic sets whose memorization strength is known (synthetic.ts):
 * schema-valid, consistent with the cores (roc.ts, epsilon.ts), rendered.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildAuditReport } from '../../src/audit/pipeline/build-report.ts';
import { validateReport } from '../../src/audit/report/schema.ts';
import { auditHtml, auditMarkdown, auditTerminalTable } from '../../src/audit/render/index.ts';
import { oneRunAudit } from '../../src/audit/stats/epsilon.ts';
import { rocAuc } from '../../src/audit/stats/roc.ts';
import { membershipScores } from '../../src/audit/pipeline/privacy.ts';
import type { CanarySet } from '../../src/canary/types.ts';
import { syntheticRecords, syntheticRows, syntheticSet } from './synthetic.ts';

const groups = syntheticSet('privacy-groups', 8, 24);
const memorizing = (r: number | null) => (r === null ? 0.9 : Math.max(0, 0.9 - 0.25 * Math.log2(r + 1)));
const never = () => 0.9;

/** A bernoulli set: 120 candidates, the first 60 drawn in (the audit never sees the order). */
function bernoulliSet(): CanarySet {
  const set = syntheticSet('privacy-bernoulli', 60, 60, [1]);
  set.parameters.membership = 'bernoulli';
  set.parameters.candidates = 120;
  return set;
}
const bernoulli = bernoulliSet();

function build(set: CanarySet, name: string, errorRate: (r: number | null) => number, ctc = true) {
  const settings = {
    ...syntheticRecords(set, name),
    settings: { ...syntheticRecords(set, name).settings, bootstrapResamples: 300 },
  };
  return buildAuditReport({ set, ...settings, rows: syntheticRows(set, name, errorRate, ctc) });
}

test('group design: pooled and per-group ROC figures, no ε, 0.1% FPR not resolvable with 24 held-out', () => {
  const report = build(groups, 'memorizer', memorizing);
  validateReport(report);
  const mi = report.membershipInference;
  assert.is(mi.score, 'modelScore');
  assert.equal(
    mi.groups.map((g) => g.repetitions),
    [null, 1, 2, 4, 8, 16],
  );
  const pooled = mi.groups[0]!;
  assert.is(pooled.positives, 40);
  assert.is(pooled.negatives, 24);
  // The AUC is the one of the rows' scores (higher = in: minus the CTC negative log-likelihood).
  const score = (rows: typeof report.rows) => rows.map((row) => -row.modelScore!);
  assert.ok(
    Math.abs(
      pooled.auc.estimate -
        rocAuc(
          score(report.rows.filter((r) => r.repetitions !== null)),
          score(report.rows.filter((r) => r.repetitions === null)),
        ),
    ) < 1e-12,
  );
  assert.ok(pooled.auc.low > 0.5, JSON.stringify(pooled.auc));
  const sixteen = mi.groups.find((g) => g.repetitions === 16)!;
  assert.ok(sixteen.auc.estimate >= mi.groups.find((g) => g.repetitions === 1)!.auc.estimate);
  assert.equal(
    pooled.tprAtFpr.map((t) => t.allowedFalsePositives),
    [0, 0, 2],
  );
  assert.is(pooled.tprAtFpr[0]!.tpr, null);
  assert.match(pooled.tprAtFpr[1]!.note!, /24 held-out canaries cannot measure a false-positive rate of 1%/);
  assert.ok(pooled.tprAtFpr[2]!.tpr !== null);
  assert.is(report.epsilon, null);
  const markdown = auditMarkdown(report);
  assert.match(markdown, /## Membership inference/);
  assert.match(markdown, /not resolvable \(needs >= 1000 held-out\)/);
  assert.not.match(markdown, /One-run ε/);
  const html = auditHtml(report);
  assert.ok(html.includes('id="chart-roc-linear"') && html.includes('id="chart-roc-log"'));
  assert.match(auditTerminalTable(report), /membership inference \(CTC score\): AUC/);
});

test('a transducer-like model (no CTC score): CER is the membership score', () => {
  const report = build(groups, 'cer-only', memorizing, false);
  validateReport(report);
  assert.is(report.membershipInference.score, 'cer');
  assert.match(auditMarkdown(report), /Score: CER \(lower = called "in"/);
});

test('membershipScores without a score (the rote/audit API before score coverage): the model score where every row has it, else CER', () => {
  const rows = build(groups, 'api', memorizing).rows;
  const all = membershipScores(rows);
  assert.is(all.score, 'modelScore');
  assert.equal(
    [...all.values],
    rows.map((row) => -row.modelScore!),
  );
  const some = rows.map((row, i) => (i % 5 === 0 ? { ...row, modelScore: null } : row));
  const fallback = membershipScores(some);
  assert.is(fallback.score, 'cer');
  assert.equal(
    [...fallback.values],
    some.map((row) => -row.cer),
  );
  const chosen = membershipScores(some, 'modelScore');
  assert.is(chosen.rows.length, rows.length - Math.ceil(rows.length / 5));
  assert.equal(
    [...chosen.values],
    chosen.rows.map((row) => -row.modelScore!),
  );
});

test('bernoulli set: ε̂ from the one-run audit; near 0 without memorization', () => {
  const leaking = build(bernoulli, 'leaky', (r) => (r === null ? 0.9 : 0.1));
  validateReport(leaking);
  const e = leaking.epsilon!;
  assert.is(e.candidates, 120);
  assert.is(e.included, 60);
  assert.is(e.delta, 1e-5);
  assert.is(e.confidence, 0.95);
  const scores = [...leaking.rows].map((row) => -row.modelScore!);
  const expected = oneRunAudit(
    scores,
    leaking.rows.map((row) => row.repetitions !== null),
    { delta: 1e-5, confidence: 0.95 },
  );
  assert.is(e.epsilon, expected.epsilon);
  assert.ok(e.epsilon > 0.5 && e.epsilon <= e.maximumEpsilon, `${e.epsilon} of at most ${e.maximumEpsilon}`);
  assert.match(e.sentence, /with 95% confidence this model is not \(\d+\.\d\d, 0\.00001\)-DP/);
  assert.match(e.sentence, /not a privacy guarantee/);
  assert.equal(
    leaking.membershipInference.groups.map((g) => g.label),
    ['all inserted'],
  );
  const markdown = auditMarkdown(leaking);
  assert.match(markdown, /## One-run ε lower bound/);
  assert.match(auditHtml(leaking), /id="epsilon-sentence"/);

  const quiet = build(bernoulli, 'quiet', never);
  validateReport(quiet);
  assert.ok(quiet.epsilon!.epsilon < 0.5, `ε̂ ${quiet.epsilon!.epsilon}`);
  const auc = quiet.membershipInference.groups[0]!.auc;
  assert.ok(auc.low < 0.5 && auc.high > 0.5, JSON.stringify(auc));
});

test.run();
