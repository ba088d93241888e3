/**
 * NeMo Canary end to end, in both layouts, with no sidecar: `rote transcribe` on a canary set (every
 * canary transcribed and scored), an audit per layout with the teacher-forced score named
 * "decoder score" in every report and random weights judged not to memorize, and `compare` of
 * the two audits.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { audit, checkCanaries, compare, type AuditReport } from '../../src/audit/index.ts';
import { auditTerminalTable } from '../../src/audit/render/index.ts';
import { formatCanaryCheck } from '../../src/cli/check-canaries.ts';
import { generateCanarySet } from '../../src/canary/index.ts';
import { MODELS } from './helpers.ts';

const ROTE = fileURLToPath(new URL('../../bin/rote.js', import.meta.url));
const LAYOUTS = ['canary-onnx-asr', 'canary-sherpa'] as const;
let work = '';
let set = '';
const reports = new Map<string, AuditReport>();

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'rote-canary-audit-'));
  set = join(work, 'set');
  await generateCanarySet({
    out: set,
    seed: 'canary-audit',
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

test('rote transcribe --canaries: every canary of the set transcribed and scored (canary-onnx-asr)', async () => {
  const out = join(work, 'rows.jsonl');
  await promisify(execFile)(process.execPath, [
    ROTE,
    'transcribe',
    '--model',
    join(MODELS, 'canary-onnx-asr'),
    '--canaries',
    set,
    '--out',
    out,
    '--provider',
    'cpu',
  ]);
  const rows = (await readFile(out, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { hypothesis: string; referenceScore: { perCharacter: number } | null });
  assert.is(rows.length, 24);
  assert.ok(rows.every((row) => row.hypothesis.length > 0 && row.referenceScore !== null));
  assert.ok(rows.every((row) => Number.isFinite(row.referenceScore!.perCharacter)));
});

for (const layout of LAYOUTS) {
  test(`audit: ${layout} with the teacher-forced decoder score on every canary, no memorization`, async () => {
    const out = join(work, layout);
    const report = await audit({
      canaries: set,
      model: join(MODELS, layout),
      out,
      provider: 'cpu',
      bootstrapResamples: 200,
    });
    reports.set(layout, report);
    assert.is(report.model.family, layout);
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
    assert.not.ok(report.verdict.memorizationDetected);
  });
}

test('check-canaries: an attention decoder has no frame-rate limit; canaries with more tokens than encoder frames stay feasible', async () => {
  const report = await checkCanaries({ canaries: set, model: join(MODELS, 'canary-sherpa'), provider: 'cpu' });
  assert.is(report.frameLimited, false);
  assert.is(report.infeasible, 0);
  // Canary subsamples by 8: at 3x speed some texts hold more tokens than the encoder gives frames,
  // which one-token-per-frame (the transducer rule) would call infeasible.
  assert.ok(report.canaries.some((check) => check.budget.tokens > check.budget.outputFrames));
  assert.ok(report.canaries.every((check) => check.budget.neededFrames === 0 && check.budget.feasible));
  assert.match(formatCanaryCheck(report), /feasible: the model's vocabulary can write every canary/);
  assert.not.match(formatCanaryCheck(report), /needs 0%/);
});

test('compare: the two layouts audited on the same canaries', async () => {
  const comparison = await compare(LAYOUTS.map((layout) => reports.get(layout)!));
  assert.equal(
    comparison.models.map((m) => m.family),
    [...LAYOUTS],
  );
  assert.ok(comparison.models.every((m) => m.scoreLabel === 'decoder score'));
  assert.ok(comparison.pairs.length === 1 && typeof comparison.verdict === 'string');
});

test.run();
