/**
 * The one-run ε audit end to end on real data: generate --membership bernoulli
 * (small, shared by every test here), inject its for-training part into a NeMo
 * manifest, verify it, and audit the random-weight CTC test model, which never
 * saw the canaries: its AUC intervals cover 0.5 and ε̂ is near 0.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCanarySet, readCanarySet, readTrainingCanaries, resolveGenerateOptions } from '../../src/canary/index.ts';
import { injectCanaries, verifyInjection } from '../../src/manifest/index.ts';
import { audit, validateReport } from '../../src/audit/index.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const CTC_MODEL = join(ROOT, 'test/fixtures/models/sidecar-ctc');
let work = '';
let set = '';

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'rote-one-run-'));
  set = join(work, 'set');
  await generateCanarySet({ out: set, seed: 'one-run-e2e', words: 3, membership: 'bernoulli', candidates: 40, speed: 2.5, concurrency: 1 });
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('generate --membership bernoulli: each candidate in once or not at all, for-training holds only the drawn ones', async () => {
  const canaries = await readCanarySet(set);
  assert.is(canaries.parameters.membership, 'bernoulli');
  assert.is(canaries.parameters.candidates, 40);
  assert.is(canaries.canaries.length, 40);
  assert.ok(canaries.canaries.every((c) => c.repetitions === 1 || c.repetitions === null));
  const drawnIn = canaries.canaries.filter((c) => c.repetitions === 1);
  assert.ok(drawnIn.length > 10 && drawnIn.length < 30, `${drawnIn.length} of 40 drawn in`);
  assert.is(canaries.parameters.perGroup, drawnIn.length);
  assert.is(canaries.parameters.holdout, 40 - drawnIn.length);
  const training = await readTrainingCanaries(set);
  assert.equal(training.canaries.map((c) => c.id).sort(), drawnIn.map((c) => c.id).sort());
  assert.ok(training.canaries.every((c) => c.repetitions === 1));
  assert.is((await readdir(join(set, 'for-training', 'audio'))).length, drawnIn.length);
  // The draw comes from the seed: another seed draws another key.
  const again = resolveGenerateOptions({ out: 'x', membership: 'bernoulli', candidates: 40 });
  assert.is(again.candidates, 40);
  assert.throws(() => resolveGenerateOptions({ out: 'x', membership: 'bernoulli', perGroup: 4 }), /--per-group cannot be used with --membership bernoulli/);
  assert.throws(() => resolveGenerateOptions({ out: 'x', candidates: 40 }), /--candidates applies only to --membership bernoulli/);
  assert.throws(() => resolveGenerateOptions({ out: 'x', membership: 'bernoulli', candidates: 5 }), /--candidates must be an integer from 10/);
});

test('inject and verify work on a bernoulli set (each drawn canary once, no left-out canary leaks)', async () => {
  const manifest = join(work, 'train-with-canaries.json');
  const receipt = await injectCanaries({ manifests: [join(ROOT, 'test/fixtures/manifests/nemo/train_manifest.json')], canaries: set, output: manifest, audioDir: join(work, 'wav'), sampleRate: 16000 });
  const drawnIn = (await readCanarySet(set)).canaries.filter((c) => c.repetitions === 1).length;
  assert.is(receipt.canarySet.copies, drawnIn);
  const report = await verifyInjection({ manifests: [manifest], canaries: set });
  assert.ok(report.ok, JSON.stringify({ leaks: report.leaks, countMismatches: report.countMismatches }));
  assert.is(report.inserted.length, drawnIn);
  assert.ok(report.inserted.every((c) => c.found === 1));
  const texts = (await readFile(manifest, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line).text as string);
  for (const canary of (await readCanarySet(set)).canaries) assert.is(texts.filter((t) => t === canary.text).length, canary.repetitions ?? 0);
});

test('audit of the untrained test model: AUC interval covers 0.5, ε̂ near 0, report valid', async () => {
  const out = join(work, 'audit');
  const report = await audit({ canaries: set, model: CTC_MODEL, out, provider: 'cpu', bootstrapResamples: 300 });
  validateReport(JSON.parse(await readFile(join(out, 'report.json'), 'utf8')));
  assert.is(report.canarySet.membership, 'bernoulli');
  const pooled = report.membershipInference.groups[0]!;
  assert.is(report.membershipInference.score, 'ctcScore');
  assert.ok(pooled.auc.low < 0.5 && pooled.auc.high > 0.5, JSON.stringify(pooled.auc));
  const e = report.epsilon!;
  assert.is(e.candidates, 40);
  assert.ok(e.epsilon < 0.3, `ε̂ ${e.epsilon}`);
  assert.ok(e.maximumEpsilon > 0.5, `the design could show up to ${e.maximumEpsilon}`);
  const markdown = await readFile(join(out, 'report.md'), 'utf8');
  assert.match(markdown, /## One-run ε lower bound/);
  assert.match(await readFile(join(out, 'report.html'), 'utf8'), /id="chart-roc-log"/);
  // δ and confidence reach the report.
  const strict = await audit({ canaries: set, model: CTC_MODEL, out, provider: 'cpu', bootstrapResamples: 300, delta: 1e-6, epsilonConfidence: 0.99 });
  assert.is(strict.epsilon!.delta, 1e-6);
  assert.is(strict.epsilon!.confidence, 0.99);
  let error: unknown = null;
  await audit({ canaries: set, model: CTC_MODEL, provider: 'cpu', delta: 2 }).catch((caught) => (error = caught));
  assert.match(String(error), /--delta must be at least 0 and below 1, got 2/);
});

test.run();
