import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAuditReport } from '../../src/audit/pipeline/build-report.ts';
import { compareReports, compare, writeComparisonReport, SCORE_RESOLUTION } from '../../src/audit/compare/index.ts';
import { writeAuditReport } from '../../src/audit/pipeline/audit.ts';
import { readAuditReport } from '../../src/audit/report/read.ts';
import { validateReport, validateComparisonReport } from '../../src/audit/report/schema.ts';
import {
  auditTerminalTable,
  comparisonHtml,
  comparisonMarkdown,
  comparisonTerminalTable,
} from '../../src/audit/render/index.ts';
import { SeededRandom } from '../../src/util/random.ts';
import { syntheticRecords, syntheticRows, syntheticSet } from './synthetic.ts';

const BIN = new URL('../../bin/rote.js', import.meta.url).pathname;
const set = syntheticSet('report-test');
const memorizing = (r: number | null) => (r === null ? 0.9 : Math.max(0, 0.9 - 0.2 * Math.log2(r + 1) * 1.2));
const never = () => 0.9;

function report(name: string, errorRate: (r: number | null) => number, rowSeed = name) {
  return buildAuditReport({ set, ...syntheticRecords(set, name), rows: syntheticRows(set, rowSeed, errorRate) });
}

test('a memorizing model: detection from a small repetition count, exposure growing with repetitions', () => {
  const result = report('memorizer', memorizing);
  validateReport(result);
  assert.ok(result.verdict.memorizationDetected, result.verdict.sentence);
  assert.match(result.verdict.sentence, /^memorization detected from \d+ repetitions?/);
  const smallest = result.verdict.smallestRepetitions!;
  assert.ok(smallest <= 4, `smallest ${smallest}`);
  assert.equal(
    result.verdict.detectedRepetitions,
    [1, 2, 4, 8, 16].filter((r) => r >= smallest),
  );
  const exposures = result.groups.filter((g) => g.exposure).map((g) => g.exposure!.cer.interpolation.mean);
  assert.ok(exposures[4]! > exposures[0]!, `exposure ${exposures}`);
  assert.ok(
    Math.abs(exposures[4]! - Math.log2(24)) < 1e-9 || exposures[4]! > 4,
    `16 repetitions near the maximum: ${exposures[4]}`,
  );
  const sixteen = result.groups.find((g) => g.repetitions === 16)!;
  assert.ok(sixteen.exactMatchRate.low > 0.5 && sixteen.cer.high < 0.1, JSON.stringify(sixteen));
  assert.is(result.tests.length, 10);
  assert.ok(result.fits.every((fit) => fit.score !== 'cer' || fit.ok));
  assert.ok(
    result.rows.every((row, i, rows) => i === 0 || rows[i - 1]!.id < row.id),
    'rows sorted by id',
  );
});

test('a model that never saw the canaries: no memorization detected', () => {
  for (const seed of ['n1', 'n2', 'n3']) {
    const result = report('never', never, seed);
    assert.not.ok(result.verdict.memorizationDetected, result.verdict.sentence);
    assert.is(result.verdict.sentence, 'no memorization detected at alpha = 0.01');
  }
});

test('the report does not depend on row order (resume safety)', () => {
  const rows = syntheticRows(set, 'memorizer', memorizing);
  const shuffled = new SeededRandom('shuffle').shuffle(rows.slice());
  const records = syntheticRecords(set, 'memorizer');
  assert.is(
    JSON.stringify(buildAuditReport({ set, ...records, rows: shuffled })),
    JSON.stringify(buildAuditReport({ set, ...records, rows })),
  );
  assert.throws(() => buildAuditReport({ set, ...records, rows: rows.slice(1) }), /no transcription yet/);
});

test('schema validation names the bad field', () => {
  const good = report('memorizer', memorizing);
  const bad = JSON.parse(JSON.stringify(good));
  bad.groups[2].cer.low = 'x';
  delete bad.verdict.sentence;
  bad.rows[0].extra = 1;
  try {
    validateReport(bad, 'r.json');
    assert.unreachable('should throw');
  } catch (error) {
    const message = (error as Error).message;
    assert.match(message, /r\.json: not a valid rote audit report/);
    assert.match(message, /\$\.groups\[2\]\.cer\.low: expected number, found string/);
    assert.match(message, /\$\.verdict: missing field "sentence"/);
    assert.match(message, /\$\.rows\[0\]: unexpected field "extra"/);
  }
  assert.throws(() => validateReport({ ...good, schemaVersion: 99 }, 'v.json'), /schema version 99/);
});

test('a report without CTC scores: CER only', () => {
  const rows = syntheticRows(set, 'chars', memorizing, false);
  const result = buildAuditReport({ set, ...syntheticRecords(set, 'chars'), rows });
  validateReport(result);
  assert.ok(result.tests.every((t) => t.score === 'cer'));
  assert.ok(result.groups.every((g) => g.modelScore === null));
  assert.match(auditTerminalTable(result), /verdict: memorization detected/);
});

test('a score missing on some canaries: each score uses the canaries that have it; a group left too small is flagged', () => {
  const rows = syntheticRows(set, 'sparse', never);
  const group = (r: number | null) => set.canaries.filter((canary) => canary.repetitions === r).map((c) => c.id);
  // 1 repetition keeps one canary with the score, 2 repetitions none; the held-out group loses 4 of 24.
  const without = new Set([...group(1).slice(1), ...group(2), ...group(null).slice(0, 4)]);
  for (const row of rows) if (without.has(row.id)) row.referenceScore = null;
  const result = buildAuditReport({ set, ...syntheticRecords(set, 'sparse'), rows });
  validateReport(result);
  const ctc = result.tests.filter((test) => test.score === 'modelScore');
  assert.equal(
    ctc.map((test) => [test.repetitions, test.n1, test.n2]),
    [
      [1, 1, 20],
      [4, 12, 20],
      [8, 12, 20],
      [16, 12, 20],
    ],
  );
  assert.ok(result.tests.filter((test) => test.score === 'cer').every((test) => test.n1 === 12 && test.n2 === 24));
  assert.not.ok(ctc[0]!.canReachAlpha);
  const coverage = result.scores!.find((entry) => entry.score === 'modelScore')!;
  assert.is(coverage.used, set.canaries.length - without.size);
  assert.equal(
    coverage.leftOut.map((entry) => [entry.reason, entry.ids.length]),
    [['no score', without.size]],
  );
  assert.match(
    coverage.note!,
    /^CTC score: 57 of 84 canaries \(27 no score\).*; not tested for 2 repetitions \(no canary there has it\)$/,
  );
  assert.ok(result.verdict.notes.includes(coverage.note!));
  assert.ok(
    result.verdict.notes.some((note) =>
      note.includes(
        'is above alpha = 0.01 for 1 repetition (CTC score, 1 vs 20 canaries): such tests can never show memorization',
      ),
    ),
    result.verdict.notes.join('\n'),
  );
  const inserted = result.rows.filter((row) => row.repetitions !== null);
  assert.ok(inserted.every((row) => (row.exposure!.modelScore !== null) === (row.modelScore !== null)));
  assert.is(result.groups.find((g) => g.repetitions === 2)!.modelScore, null);
  assert.is(result.membershipInference.groups[0]!.negatives, 20);
  // A report of an older rote, without the coverage, still reads.
  const { scores: _coverage, ...older } = result;
  validateReport(older);

  // No held-out canary with the score: nothing to compare against, so the score is left out, CER alone.
  for (const row of rows) if (group(null).includes(row.id)) row.referenceScore = null;
  const noReference = buildAuditReport({ set, ...syntheticRecords(set, 'sparse'), rows });
  assert.ok(noReference.tests.every((test) => test.score === 'cer'));
  assert.is(noReference.membershipInference.score, 'cer');
  assert.match(
    noReference.scores!.find((entry) => entry.score === 'modelScore')!.note!,
    /^CTC score not tested: .*0 of 24 held-out and 37 of 60 inserted canaries have it/,
  );
});

test('a comparison.json of an older rote (same schema version, no scoreLabel) still validates and renders', () => {
  const comparison = compareReports([
    { report: report('old-a', memorizing), path: 'a/report.json' },
    { report: report('old-b', never), path: 'b/report.json' },
  ]);
  const older = JSON.parse(JSON.stringify(comparison)) as typeof comparison;
  for (const model of older.models) delete model.scoreLabel;
  validateComparisonReport(older);
  for (const text of [comparisonMarkdown(older), comparisonHtml(older), comparisonTerminalTable(older)]) {
    assert.not.ok(text.includes('undefined'), text.match(/.{0,80}undefined.{0,80}/)?.[0]);
  }
  assert.ok(comparisonMarkdown(older).includes('| model score |'));
  // Every other field stays required: the optional score name did not loosen the shared string schema.
  const { family: _family, ...withoutFamily } = older.models[0]!;
  assert.throws(() => validateComparisonReport({ ...older, models: [withoutFamily, older.models[1]!] }), /family/);
});

test('compare: the clipped model memorizes less; different sets are refused', async () => {
  const unclipped = report('unclipped', memorizing);
  const clipped = report('clipped', (r) => (r === null ? 0.9 : r >= 4 ? 0.9 : memorizing(r)));
  const comparison = compareReports([
    { report: unclipped, path: 'a/report.json' },
    { report: clipped, path: 'b/report.json' },
  ]);
  validateComparisonReport(comparison);
  assert.equal(
    comparison.models.map((m) => m.name),
    ['unclipped', 'clipped'],
  );
  assert.match(
    comparison.verdict,
    /^clipped memorizes less than unclipped \(paired Wilcoxon signed-rank over all 60 inserted canaries, one-sided/,
  );
  assert.match(comparison.verdict, /exclude zero at .*16 repetitions \(CER \+0\.\d+/);
  const cer16 = comparison.pairs[0]!.groups.find((t) => t.repetitions === 16 && t.score === 'cer')!;
  assert.ok(cer16.meanDifference.low > 0, JSON.stringify(cer16));
  assert.is(cer16.finding, 'other-memorizes-less');
  const same = compareReports(
    [
      { report: unclipped, path: null },
      { report: report('unclipped2', memorizing, 'unclipped'), path: null },
    ],
    { names: ['A', 'B'] },
  );
  assert.match(same.verdict, /^no difference: every inserted canary scores the same with B and A/);
  assert.match(comparisonTerminalTable(comparison), /verdict: clipped memorizes less/);

  const otherSet = syntheticSet('other');
  const foreign = buildAuditReport({
    set: otherSet,
    ...syntheticRecords(otherSet, 'x'),
    rows: syntheticRows(otherSet, 'x', never),
  });
  assert.throws(
    () =>
      compareReports([
        { report: unclipped, path: 'a.json' },
        { report: foreign, path: 'b.json' },
      ]),
    /b\.json audits canary set .* compare only reports of the same canary set/,
  );
  assert.throws(() => compareReports([{ report: unclipped, path: null }]), /at least two/);
});

test('compare: CTC-score differences below SCORE_RESOLUTION are ties, larger ones count', () => {
  const rows = syntheticRows(set, 'resolution', memorizing);
  const shifted = (delta: number) =>
    rows.map((row) => ({
      ...row,
      referenceScore: { ...row.referenceScore!, perCharacter: row.referenceScore!.perCharacter - delta },
    }));
  const build = (name: string, modelRows: typeof rows) =>
    buildAuditReport({ set, ...syntheticRecords(set, name), rows: modelRows });
  const baseline = build('A', rows);
  const ctcTests = (other: ReturnType<typeof build>) =>
    compareReports([
      { report: baseline, path: null },
      { report: other, path: null },
    ]).pairs[0]!.groups.filter((t) => t.score === 'modelScore');

  // Every canary's NLL per character higher by 1e-5: inference noise, not a difference.
  const noise = ctcTests(build('B', shifted(1e-5)));
  assert.ok(SCORE_RESOLUTION.modelScore > 1e-5);
  for (const t of noise) {
    assert.is(t.zeros, t.pairs);
    assert.is(t.finding, 'cannot-reach-alpha');
  }
  // Higher by 0.5 nats per character on every canary: a real, detected difference.
  const real = ctcTests(build('C', shifted(0.5)));
  assert.ok(
    real.every((t) => t.zeros === 0 && t.meanDifference.estimate > 0.4),
    JSON.stringify(real.map((t) => t.meanDifference)),
  );
  assert.ok(real.some((t) => t.finding === 'other-memorizes-less'));
});

test('reports are written and read back; compare reads directories', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rote-audit-report-'));
  try {
    const a = report('unclipped', memorizing);
    const b = report('clipped', (r) => (r === null ? 0.9 : 0.85));
    await writeAuditReport(a, join(dir, 'a'));
    await writeAuditReport(b, join(dir, 'b'));
    const back = await readAuditReport(join(dir, 'a'));
    assert.equal(back.report, a);
    const markdown = await readFile(join(dir, 'a', 'report.md'), 'utf8');
    assert.match(markdown, /\*\*Verdict: memorization detected from/);
    const comparison = await compare([join(dir, 'a'), join(dir, 'b', 'report.json')]);
    assert.match(comparison.verdict, /clipped memorizes less than unclipped/);
    await writeComparisonReport(comparison, join(dir, 'cmp'));
    const html = await readFile(join(dir, 'cmp', 'comparison.html'), 'utf8');
    assert.ok(
      html.includes('<svg') &&
        !/https?:\/\/(?!www\.w3\.org\/2000\/svg)/.test(html.replace(/https:\/\/rote\.invalid[^"]*/g, '')),
      'no external links',
    );
    try {
      await readAuditReport(join(dir, 'missing'));
      assert.unreachable();
    } catch (error) {
      assert.match((error as Error).message, /missing: cannot read the audit report \(ENOENT\)/);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('compare --out: an earlier comparison is replaced only with --force; a folder holding other files never', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rote-compare-out-'));
  try {
    await writeAuditReport(report('unclipped', memorizing), join(dir, 'a'));
    await writeAuditReport(report('clipped', never), join(dir, 'b'));
    const rote = (args: string[]) =>
      new Promise<{ code: number; stderr: string }>((done) =>
        execFile(
          process.execPath,
          [BIN, 'compare', join(dir, 'a'), join(dir, 'b'), '--quiet', ...args],
          (error, _, stderr) => done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }),
        ),
      );
    const out = join(dir, 'cmp');
    assert.is((await rote(['--out', out])).code, 0);
    const first = await readFile(join(out, 'comparison.json'), 'utf8');
    const again = await rote(['--out', out]);
    assert.is(again.code, 2);
    assert.match(
      again.stderr,
      `--out ${out} exists and is not empty; choose another --out, or pass --force to replace a comparison written by rote compare`,
    );
    assert.is(await readFile(join(out, 'comparison.json'), 'utf8'), first);
    const replaced = await rote(['--out', out, '--force', '--names', 'x,y']);
    assert.is(replaced.code, 0, replaced.stderr);
    assert.match(await readFile(join(out, 'comparison.json'), 'utf8'), '"name": "x"');
    assert.equal((await readdir(out)).sort(), ['comparison.html', 'comparison.json', 'comparison.md']);
    // Someone's folder: refused even with --force, and left as it was.
    const mine = join(dir, 'mine');
    await mkdir(mine);
    await writeFile(join(mine, 'notes.txt'), 'mine');
    await writeFile(join(mine, 'comparison.md'), 'mine too');
    const refused = await rote(['--out', mine, '--force']);
    assert.is(refused.code, 2);
    assert.match(
      refused.stderr,
      `--out ${mine} holds files a comparison does not (notes.txt); --force replaces only a comparison written by rote compare; choose another --out or remove it yourself`,
    );
    assert.equal((await readdir(mine)).sort(), ['comparison.md', 'notes.txt']);
    assert.is(await readFile(join(mine, 'comparison.md'), 'utf8'), 'mine too');
    // The API: the same rule (errors name the option keys), nothing left beside the folder.
    const comparison = await compare([join(dir, 'a'), join(dir, 'b')]);
    try {
      await writeComparisonReport(comparison, out);
      assert.unreachable();
    } catch (error) {
      assert.match((error as Error).message, /exists and is not empty; choose another out, or pass force/);
    }
    await writeComparisonReport(comparison, out, { force: true });
    assert.equal((await readdir(dir)).sort(), ['a', 'b', 'cmp', 'mine']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a report.json of schema version 2 (the model score under ctcScore) is read and compared as version 3', async () => {
  const current = report('version-3', memorizing);
  // Version 2 as rotes before the rename wrote it: every modelScore key and score name was ctcScore.
  const version2 = JSON.parse(
    JSON.stringify({ ...current, schemaVersion: 2 })
      .replace(/"modelScore(PerToken)?":/g, '"ctcScore$1":')
      .replace(/"score":"modelScore"/g, '"score":"ctcScore"'),
  ) as Record<string, unknown>;
  assert.ok(JSON.stringify(version2).includes('"ctcScore":'));
  assert.not.ok(JSON.stringify(version2).includes('modelScore'));
  const read = validateReport(version2, 'old.json');
  assert.equal(read, current);
  assert.is((version2 as { schemaVersion: number }).schemaVersion, 2, 'the value read is not modified');
  const dir = await mkdtemp(join(tmpdir(), 'rote-report-v2-'));
  try {
    await writeFile(join(dir, 'old.json'), JSON.stringify(version2));
    assert.equal((await readAuditReport(join(dir, 'old.json'))).report, current);
    const other = report('other', never);
    const fromOld = await compare([join(dir, 'old.json'), other]);
    const fromNew = compareReports([
      { report: current, path: join(dir, 'old.json') },
      { report: other, path: null },
    ]);
    assert.equal(fromOld, fromNew);
    assert.ok(fromOld.pairs[0]!.primary.some((test) => test.score === 'modelScore'));
    assert.throws(() => validateReport({ ...version2, schemaVersion: 1 }, 'v1.json'), /reads versions 2 and 3/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
