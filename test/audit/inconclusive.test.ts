/**
 * Never a false all-clear (issue 13): an audit whose canaries the model cannot
 * emit, or whose held-out canaries leave no room to detect memorization, says
 * "inconclusive" with its own exit code, in the terminal, report.md and
 * report.html; check-canaries tells before training. On the random-weight test
 * model (test/fixtures/models/sidecar-ctc: characters, 25 output frames/s).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCanarySet } from '../../src/canary/index.ts';
import { buildAuditReport } from '../../src/audit/pipeline/build-report.ts';
import { validateReport } from '../../src/audit/report/schema.ts';
import { AUDIT_EXIT_CODES } from '../../src/audit/defaults.ts';
import { checkCanaries } from '../../src/audit/pipeline/check-canaries.ts';
import { featureFramesOfWav, loadModel, referenceFrameBudget, transcribeFiles } from '../../src/asr/index.ts';
import { readCanarySet } from '../../src/canary/index.ts';
import { syntheticRecords, syntheticRows, syntheticSet } from './synthetic.ts';
import { auditArgs } from '../manifest/helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const CTC_MODEL = join(ROOT, 'test/fixtures/models/sidecar-ctc');
let work = '';

function rote(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin/rote.js'), ...args], { maxBuffer: 1 << 24 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'rote-inconclusive-'));
  // The trap: --rate 300 --speed 5 (smaller groups, same speech rate).
  await generateCanarySet({
    out: join(work, 'trap'),
    seed: 'trap',
    rate: 300,
    speed: 5,
    repetitions: [1, 4],
    perGroup: 6,
    holdout: 12,
    concurrency: 1,
  });
  await generateCanarySet({
    out: join(work, 'fits'),
    seed: 'fits',
    words: 3,
    speed: 2.5,
    repetitions: [1, 4],
    perGroup: 6,
    holdout: 12,
    concurrency: 1,
  });
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('the trap: audit refuses to conclude, exit code 5, in the terminal, report.md and report.html', async () => {
  const out = join(work, 'audit-trap');
  const run = await rote(auditArgs(join(work, 'trap'), CTC_MODEL, out, '--provider', 'cpu', '--bootstrap', '200'));
  assert.is(run.code, AUDIT_EXIT_CODES.inconclusive, run.stderr);
  const sentence = 'inconclusive: 24 of 24 canaries cannot be recognized by this model at any level of memorization';
  assert.ok(run.stdout.includes(`verdict: ${sentence}`), run.stdout);
  assert.match(run.stdout, /an audit may lose at most 10%/);
  assert.not.match(run.stdout, /no memorization detected/);
  const report = validateReport(JSON.parse(await readFile(join(out, 'report.json'), 'utf8')));
  assert.is(report.verdict.status, 'inconclusive');
  assert.not.ok(report.verdict.memorizationDetected);
  assert.equal(report.feasibility, { ...report.feasibility, checked: true, canaries: 24, infeasible: 24, limit: 0.1 });
  assert.ok(
    report.rows.every((row) =>
      row.notes.some((note) =>
        /cannot be recognized by this model at any level of memorization: the reference needs \d+ output frames, the audio gives at most \d+/.test(
          note,
        ),
      ),
    ),
  );
  assert.ok((await readFile(join(out, 'report.md'), 'utf8')).includes(`**Verdict: ${sentence}`));
  const html = await readFile(join(out, 'report.html'), 'utf8');
  assert.match(html, /<p class="verdict inconclusive" id="verdict"><strong>inconclusive: 24 of 24 canaries/);
  // --quiet still says why on stderr.
  const quiet = await rote(
    auditArgs(join(work, 'trap'), CTC_MODEL, out, '--provider', 'cpu', '--bootstrap', '200', '--quiet'),
  );
  assert.is(quiet.code, AUDIT_EXIT_CODES.inconclusive);
  assert.match(quiet.stderr, /^rote: inconclusive: 24 of 24 canaries/);
  // A comparison of such audits carries the caution (through the CLI, --expect either).
  const compared = await rote([
    'compare',
    out,
    join(out, 'report.json'),
    '--names',
    'a,b',
    '--expect',
    'either',
    '--out',
    join(work, 'cmp-trap'),
    '--json',
  ]);
  assert.is(compared.code, 0, compared.stderr);
  const comparison = JSON.parse(compared.stdout);
  assert.is(comparison.settings.expect, 'either');
  assert.equal(
    comparison.models.map((m: { verdictStatus: string }) => m.verdictStatus),
    ['inconclusive', 'inconclusive'],
  );
  assert.match(
    comparison.verdict,
    /; caution: the audit of a and b is inconclusive \(24 of 24 canaries cannot be recognized by this model at any level of memorization\), so scores compared here may carry no information on memorization$/,
  );
  const bad = await rote(['compare', out, out, '--names', 'a,b', '--expect', 'sideways']);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /argument 'sideways' is invalid. Allowed choices are less, more, either/);
});

test('check-canaries tells before training: the trap is not usable, a slower set is', async () => {
  const trap = await rote(['check-canaries', '--canaries', join(work, 'trap'), '--model', CTC_MODEL]);
  assert.is(trap.code, AUDIT_EXIT_CODES.inconclusive);
  assert.match(
    trap.stdout,
    /NOT usable: 24 of 24 canaries cannot be recognized by this model at any level of memorization/,
  );
  const fits = await checkCanaries({ canaries: join(work, 'fits'), model: CTC_MODEL });
  assert.ok(fits.usable);
  assert.is(fits.infeasible, 0);
  assert.ok(fits.tightest !== null && fits.tightest <= 1 && fits.tightest > 0.3, `tightest ${fits.tightest}`);
  const run = await rote(['check-canaries', '--canaries', join(work, 'fits'), '--model', CTC_MODEL]);
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /feasible: every canary fits this model's output frame rate/);
  // Same frame arithmetic as the audit: the audit of the fitting set finds every canary feasible.
  const audited = await rote(
    auditArgs(
      join(work, 'fits'),
      CTC_MODEL,
      join(work, 'audit-fits'),
      '--provider',
      'cpu',
      '--bootstrap',
      '200',
      '--json',
    ),
  );
  assert.is(audited.code, 0, audited.stderr);
  const report = JSON.parse(audited.stdout);
  assert.is(report.feasibility.infeasible, 0);
  assert.is(report.verdict.status, 'not-detected', report.verdict.sentence);
});

test('rote generate warns when its group sizes keep the default audit or compare from reaching alpha, and --model checks feasibility', async () => {
  const run = await rote([
    'generate',
    '--out',
    join(work, 'small'),
    '--seed',
    'small',
    '--repetitions',
    '1,2',
    '--per-group',
    '4',
    '--holdout',
    '10',
    '--rate',
    '300',
    '--speed',
    '5',
    '--model',
    CTC_MODEL,
    '--json',
  ]);
  assert.is(run.code, AUDIT_EXIT_CODES.inconclusive, run.stderr);
  const summary = JSON.parse(run.stdout);
  assert.ok(
    summary.warnings.some((w: string) =>
      /^compare: per-group paired tests \(secondary\) can never reach alpha = 0\.01: its smallest possible Holm-corrected p-value is 0\.25/.test(
        w,
      ),
    ),
    summary.warnings.join('\n'),
  );
  assert.is(summary.check.usable, false);
  assert.is(summary.check.infeasible, 18);
  // The defaults: no power warning.
  const defaults = await rote([
    'generate',
    '--out',
    join(work, 'defaults'),
    '--seed',
    'defaults',
    '--words',
    '2',
    '--json',
  ]);
  assert.is(defaults.code, 0, defaults.stderr);
  const resolved = JSON.parse(defaults.stdout);
  assert.is(resolved.inserted, 80);
  assert.equal(
    resolved.warnings.filter((w: string) => /alpha/.test(w)),
    [],
  );
});

test('frame budgets: feature frames from the WAV header equal those the model was given; the CTC rule counts repeats', async () => {
  const model = await loadModel(CTC_MODEL, { provider: 'cpu' });
  try {
    for (const name of ['trap', 'fits']) {
      const dir = join(work, name);
      const set = await readCanarySet(dir);
      const items = set.canaries.slice(0, 8).map((canary) => ({ id: canary.id, path: join(dir, canary.audio) }));
      for await (const row of transcribeFiles(model, items))
        assert.is(featureFramesOfWav(model, row.path), row.frames, `${name}/${row.id}`);
    }
    // Characters with a space separator: "aab" needs a, blank, a, b = 4 frames; 4 feature frames per output frame (ceil).
    assert.equal(referenceFrameBudget(model, 'aab', 16), {
      tokens: 3,
      neededFrames: 4,
      outputFrames: 4,
      missingCharacters: [],
      feasible: true,
    });
    assert.equal(referenceFrameBudget(model, 'aab', 12), {
      tokens: 3,
      neededFrames: 4,
      outputFrames: 3,
      missingCharacters: [],
      feasible: false,
    });
    assert.is(referenceFrameBudget(model, 'ab ab', 100).neededFrames, 5);
    // Characters the vocabulary (a-z) cannot emit make a canary infeasible however long its audio;
    // the reference is normalized first (case, punctuation), so those are not missing.
    assert.equal(referenceFrameBudget(model, 'Дом, café!', 100).missingCharacters, ['д', 'о', 'м', 'é']);
    assert.is(referenceFrameBudget(model, 'Дом, café!', 100).feasible, false);
    assert.is(referenceFrameBudget(model, 'The CAFE, again!', 100).feasible, true);
  } finally {
    await model.close();
  }
});

test('held-out canaries recognized too well: inconclusive, not "no memorization"', () => {
  const set = syntheticSet('too-easy', 12, 24);
  // Every canary, held-out included, recognized perfectly: a memorized group could not stand out.
  const rows = syntheticRows(set, 'easy', () => 0).map((row) => ({ ...row, referenceScore: null }));
  const report = buildAuditReport({ set, ...syntheticRecords(set, 'easy'), rows });
  validateReport(report);
  assert.is(report.verdict.status, 'inconclusive');
  assert.match(
    report.verdict.sentence,
    /^inconclusive: the held-out canaries are recognized too well to tell memorization from chance; this audit can neither detect nor rule out memorization$/,
  );
  assert.ok(report.tests.every((t) => t.perfectMemorizationPValue >= 0.01 && t.canReachAlpha));
  // The same held-out canaries with room to spare: a model that memorized nothing is "not detected".
  const hard = buildAuditReport({ set, ...syntheticRecords(set, 'hard'), rows: syntheticRows(set, 'hard', () => 0.9) });
  assert.is(hard.verdict.status, 'not-detected');
  assert.ok(hard.tests.every((t) => t.perfectMemorizationPValue < 1e-4));
});

test('a model that writes nothing for any canary: inconclusive, never "no memorization detected"', () => {
  const set = syntheticSet('silent-model', 12, 24);
  const rows = syntheticRows(set, 'silent', () => 0.9).map((row) => ({ ...row, hypothesis: '', referenceScore: null }));
  const report = buildAuditReport({ set, ...syntheticRecords(set, 'silent'), rows });
  validateReport(report);
  assert.is(report.verdict.status, 'inconclusive');
  assert.match(
    report.verdict.sentence,
    /^inconclusive: the model produced no text for any of the 84 canaries; this audit can neither detect nor rule out memorization$/,
  );
  // One canary with text is a measurement: the usual verdict applies.
  const oneWord = buildAuditReport({
    set,
    ...syntheticRecords(set, 'silent'),
    rows: rows.map((row, i) => (i === 0 ? { ...row, hypothesis: 'word' } : row)),
  });
  assert.is.not(
    oneWord.verdict.inconclusiveReasons?.some((reason) => reason.includes('no text')),
    true,
  );
});

test('groups too small for any test to reach alpha: inconclusive, with the smallest p stated', () => {
  const set = syntheticSet('tiny', 2, 4, [1, 2, 4]);
  const report = buildAuditReport({
    set,
    ...syntheticRecords(set, 'tiny'),
    rows: syntheticRows(set, 'tiny', () => 0.9),
  });
  assert.is(report.verdict.status, 'inconclusive');
  assert.ok(
    report.tests.every((t) => !t.canReachAlpha && Math.abs(t.minimumAdjustedPValue - Math.min(1, 6 / 15)) < 1e-12),
    JSON.stringify(report.tests.map((t) => t.minimumAdjustedPValue)),
  );
  assert.match(report.verdict.sentence, /^inconclusive: with these group sizes no test can reach alpha = 0\.01; /);
  assert.match(report.verdict.inconclusiveReasons[0]!, /smallest Holm-corrected p-value possible 0\.40/);
});

test.run();
