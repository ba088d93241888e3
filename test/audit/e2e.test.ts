/**
 * End to end on the random-weight test models (scripts/models/make_test_models.py):
 * a model that never saw the canaries must come out "no memorization detected",
 * and an audit killed with SIGKILL mid-run resumes to the identical report.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, appendFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCanarySet } from '../../src/canary/index.ts';
import { audit, compare, validateReport } from '../../src/audit/index.ts';
import { RoteError } from '../../src/util/errors.ts';
import { auditTerminalTable, comparisonMarkdown } from '../../src/audit/render/index.ts';
import { auditArgs } from '../manifest/helpers.ts';

function binomial(n: number, k: number): number {
  let value = 1;
  for (let i = 1; i <= k; i++) value = (value * (n - k + i)) / i;
  return value;
}

const ROOT = new URL('../../', import.meta.url).pathname;
const CTC_MODEL = join(ROOT, 'test/fixtures/models/sidecar-ctc');
const TRANSDUCER_MODEL = join(ROOT, 'test/fixtures/models/transducer');
const NEMO_CTC_MODEL = join(ROOT, 'test/fixtures/models/nemo-ctc');
let work = '';
let set = '';
let tight = '';

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'rote-audit-e2e-'));
  set = join(work, 'set');
  // speed 2.5: at the default 3x, 3 of these 24 canaries need more output frames than the
  // 25 frames/s character test model emits, and an audit losing over 10% is inconclusive.
  await generateCanarySet({
    out: set,
    seed: 'audit-e2e',
    words: 3,
    repetitions: [1, 4],
    perGroup: 6,
    holdout: 12,
    speed: 2.5,
    concurrency: 1,
  });
  // The same canaries at 2.7x: 2 of 24 (one held-out, one of 4 repetitions) need more output frames than
  // the character test model emits, within the 10% an audit may lose; they get no CTC score.
  tight = join(work, 'tight');
  await generateCanarySet({
    out: tight,
    seed: 'audit-e2e',
    words: 3,
    repetitions: [1, 4],
    perGroup: 6,
    holdout: 12,
    speed: 2.7,
    concurrency: 1,
  });
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

const lines = async (path: string) =>
  existsSync(path) ? (await readFile(path, 'utf8')).split('\n').filter((line) => line !== '').length : 0;

function runCli(args: string[]): {
  child: ReturnType<typeof spawn>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
} {
  const child = spawn(process.execPath, [join(ROOT, 'bin/rote.js'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, done };
}

test('a random-weight CTC model: no memorization detected, complete report files', async () => {
  const out = join(work, 'ctc');
  const report = await audit({ canaries: set, model: CTC_MODEL, out, provider: 'cpu', bootstrapResamples: 300 });
  validateReport(report);
  assert.is(report.verdict.sentence, 'no memorization detected at alpha = 0.01');
  assert.is(report.rows.length, 24);
  assert.equal(report.providers, ['cpu']);
  assert.is(report.model.family, 'sidecar-ctc');
  assert.ok(
    report.rows.some((row) => row.modelScore !== null),
    'CTC scores present',
  );
  // Membership inference of a model that never saw the canaries: every AUC interval covers chance; no ε for a group design.
  for (const group of report.membershipInference.groups)
    assert.ok(group.auc.low < 0.5 && group.auc.high > 0.5, `${group.label}: AUC ${JSON.stringify(group.auc)}`);
  assert.is(report.epsilon, null);
  assert.is(await lines(join(out, 'rows.jsonl')), 25);
  const html = await readFile(join(out, 'report.html'), 'utf8');
  assert.ok(html.includes('id="chart-cer"') && html.includes('id="chart-exposure"'));
  validateReport(JSON.parse(await readFile(join(out, 'report.json'), 'utf8')));
});

test('2 infeasible canaries without a CTC score: the CTC score is still tested on the other 22, with the counts said', async () => {
  const out = join(work, 'tight-ctc');
  const report = await audit({ canaries: tight, model: CTC_MODEL, out, provider: 'cpu', bootstrapResamples: 300 });
  validateReport(report);
  const missing = report.rows.filter((row) => row.modelScore === null).map((row) => row.id);
  assert.is(missing.length, 2);
  assert.equal(missing, report.feasibility.infeasibleIds);
  assert.is(report.verdict.status, 'not-detected', report.verdict.sentence);
  const coverage = report.scores!.find((entry) => entry.score === 'modelScore')!;
  assert.equal(
    { label: coverage.label, used: coverage.used, canaries: coverage.canaries, tested: coverage.tested },
    { label: 'CTC score', used: 22, canaries: 24, tested: true },
  );
  assert.equal(coverage.leftOut, [{ reason: 'infeasible: no score', ids: missing }]);
  // Each group's CTC test counts only canaries with the score; its reachable p comes from those counts.
  const ctcTests = report.tests.filter((test) => test.score === 'modelScore');
  assert.equal(
    ctcTests.map((test) => [test.repetitions, test.n1, test.n2]),
    [
      [1, 6, 11],
      [4, 5, 11],
    ],
  );
  const family = report.tests.length;
  for (const test of ctcTests)
    assert.ok(
      Math.abs(test.minimumAdjustedPValue - Math.min(1, family * (1 / binomial(test.n1 + 11, test.n1)))) < 1e-12,
    );
  assert.ok(
    report.rows
      .filter((row) => row.repetitions !== null && row.modelScore !== null)
      .every((row) => row.exposure!.modelScore),
  );
  assert.is(report.membershipInference.score, 'modelScore');
  assert.is(report.membershipInference.groups[0]!.negatives, 11);
  assert.is(report.membershipInference.groups[0]!.positives, 11);
  const line = 'CTC score: 22 of 24 canaries (2 infeasible: no score)';
  const markdown = await readFile(join(out, 'report.md'), 'utf8');
  assert.ok(markdown.includes(line), markdown.slice(0, 2000));
  assert.ok((await readFile(join(out, 'report.html'), 'utf8')).includes(line));
  assert.ok(auditTerminalTable(report).includes(line));
});

test('compare with the CTC score missing in one model: pairs only the canaries both models scored', async () => {
  const nemo = await audit({ canaries: tight, model: NEMO_CTC_MODEL, provider: 'cpu', bootstrapResamples: 300 });
  assert.ok(nemo.rows.every((row) => row.modelScore !== null));
  // The BPE model holds every letter as a piece, so no English text needs <unk>: every canary is feasible.
  assert.equal([nemo.feasibility.infeasible, nemo.feasibility.missingCharacters], [0, undefined]);
  const comparison = await compare([join(work, 'tight-ctc'), nemo], { names: ['sidecar', 'nemo'] });
  const pair = comparison.pairs[0]!;
  const pairs = (tests: typeof pair.primary, score: string) =>
    tests.filter((test) => test.score === score).map((test) => [test.repetitions, test.pairs]);
  assert.equal(pairs(pair.primary, 'cer'), [[null, 12]]);
  assert.equal(pairs(pair.primary, 'modelScore'), [[null, 11]]);
  assert.equal(pairs(pair.heldOut, 'modelScore'), [[null, 11]]);
  assert.equal(pairs(pair.groups, 'modelScore'), [
    [1, 6],
    [4, 5],
  ]);
  const control = pair.beyondHeldOut.find((test) => test.score === 'modelScore')!;
  assert.equal([control.inserted, control.heldOut], [11, 11]);
  // The smallest p of the pooled test: 11 pairs, Holm over 2 scores.
  assert.ok(Math.abs(pair.primary.find((t) => t.score === 'modelScore')!.minimumAdjustedPValue - 2 * 2 ** -11) < 1e-12);
  assert.match(pair.verdict, /over all 12 inserted canaries \(CTC score: the 11 that have it in both models\)/);
});

test('a random-weight transducer: CER and the teacher-forced transducer score, no memorization', async () => {
  const out = join(work, 'transducer');
  const report = await audit({ canaries: set, model: TRANSDUCER_MODEL, out, provider: 'cpu', bootstrapResamples: 300 });
  // The model score is named after the model: this sherpa-onnx transducer is neither CTC nor a NeMo RNNT/TDT.
  assert.is(report.model.scoreKind, 'transducer');
  for (const text of [
    await readFile(join(out, 'report.md'), 'utf8'),
    await readFile(join(out, 'report.html'), 'utf8'),
    auditTerminalTable(report),
  ]) {
    assert.ok(text.includes('transducer score'), text.slice(0, 1500));
    assert.not.ok(/CTC score|CTC-score|p CTC/.test(text), text.match(/.{0,80}CTC.score.{0,80}/)?.[0]);
  }
  assert.ok(
    report.rows.every((row) => row.modelScore !== null && Number.isFinite(row.modelScore)),
    'every canary has a transducer score',
  );
  assert.ok(report.tests.some((t) => t.score === 'modelScore'));
  assert.not.ok(report.verdict.memorizationDetected);
  const comparison = await compare([join(work, 'ctc'), report], { names: ['ctc', 'transducer'] });
  assert.ok(
    comparison.pairs[0]!.primary.some((t) => t.score === 'cer'),
    'a CTC audit and a transducer audit compare on CER',
  );
  assert.equal(
    comparison.models.map((model) => model.scoreLabel),
    ['CTC score', 'transducer score'],
  );
  assert.ok(comparisonMarkdown(comparison).includes('model score (CTC score / transducer score)'));
});

test('kill -9 mid-audit, then the same command resumes to the identical report', async () => {
  const reference = join(work, 'uninterrupted');
  const interrupted = join(work, 'interrupted');
  const args = (out: string) =>
    auditArgs(
      set,
      CTC_MODEL,
      out,
      '--provider',
      'cpu',
      '--threads',
      '1',
      '--batch-frames',
      '1',
      '--bootstrap',
      '300',
      '--quiet',
    );
  const first = runCli(args(reference));
  const firstResult = await first.done;
  assert.is(firstResult.code, 0, firstResult.stderr);

  const run = runCli(args(interrupted));
  const journal = join(interrupted, 'rows.jsonl');
  let exited = false;
  void run.done.then(() => (exited = true));
  while (!exited && (await lines(journal)) < 3) await new Promise((resolve) => setTimeout(resolve, 5));
  run.child.kill('SIGKILL');
  const killed = await run.done;
  assert.is(killed.signal, 'SIGKILL', `the audit finished before it could be killed (${killed.code})`);
  const rowsAtKill = (await lines(journal)) - 1;
  assert.ok(rowsAtKill >= 2 && rowsAtKill < 24, `rows at kill: ${rowsAtKill}`);
  assert.not.ok(existsSync(join(interrupted, 'report.json')));
  await appendFile(journal, '{"id":"torn-by-a-kil'); // what a kill during a write leaves

  const resumed = await runCli(args(interrupted)).done;
  assert.is(resumed.code, 0, resumed.stderr);
  const a = JSON.parse(await readFile(join(reference, 'report.json'), 'utf8'));
  const b = JSON.parse(await readFile(join(interrupted, 'report.json'), 'utf8'));
  // Row by row first, so a failure names the canary and field that differ.
  a.rows.forEach((row: Record<string, unknown>, i: number) =>
    assert.equal(b.rows[i], row, `row ${i} (${String(row.id)})`),
  );
  assert.equal(b, a);
  assert.is(await lines(journal), 25);
  assert.is(
    await readFile(join(interrupted, 'report.md'), 'utf8'),
    await readFile(join(reference, 'report.md'), 'utf8'),
  );

  // Another model in the same --out is refused, not mixed in.
  try {
    await audit({ canaries: set, model: TRANSDUCER_MODEL, out: interrupted, provider: 'cpu' });
    assert.unreachable('should refuse');
  } catch (error) {
    assert.instance(error, RoteError);
    assert.match((error as Error).message, /rows\.jsonl: these rows belong to another audit \(model fingerprint/);
  }
});

test.run();
