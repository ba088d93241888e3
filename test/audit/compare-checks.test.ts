/**
 * compare checks what it reads (issue 21 items 8, 10, 11): numbers out of range, group summaries that
 * disagree with the rows, labels that differ between reports, an audit compared with itself, and names
 * that would be Markdown in comparison.md.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAuditReport } from '../../src/audit/pipeline/build-report.ts';
import { compare, compareReports } from '../../src/audit/compare/index.ts';
import { comparisonMarkdown } from '../../src/audit/render/index.ts';
import type { AuditReport } from '../../src/audit/report/types.ts';
import { RoteError } from '../../src/util/errors.ts';
import { syntheticRecords, syntheticRows, syntheticSet } from './synthetic.ts';

const set = syntheticSet('compare-checks', 4, 8);
const build = (name: string, rate: (r: number | null) => number) =>
  buildAuditReport({ set, ...syntheticRecords(set, name), rows: syntheticRows(set, name, rate) });
const reference = build('reference', (r) => (r === null ? 0.9 : 0.5));
const other = build('other', () => 0.9);
const copy = (report: AuditReport) => JSON.parse(JSON.stringify(report)) as AuditReport;
const firstHeldOut = reference.rows.findIndex((row) => row.repetitions === null);
const firstInserted = reference.rows.findIndex((row) => row.repetitions !== null);

/** compare() of the reference and `edited`, both read from report.json files; the error it throws. */
async function refusal(edited: AuditReport): Promise<{ error: unknown; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'rote-compare-checks-'));
  try {
    await writeFile(join(dir, 'a.json'), JSON.stringify(reference));
    await writeFile(join(dir, 'b.json'), JSON.stringify(edited));
    try {
      await compare([join(dir, 'a.json'), join(dir, 'b.json')]);
    } catch (error) {
      return { error, file: join(dir, 'b.json') };
    }
    return { error: null, file: join(dir, 'b.json') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function assertRefused(edited: AuditReport, field: RegExp): Promise<void> {
  const { error, file } = await refusal(edited);
  assert.ok(error instanceof RoteError, `a RoteError (no stack trace), got ${String(error)}`);
  const message = (error as Error).message;
  assert.ok(message.startsWith(`${file}: `), message);
  assert.match(message, field);
}

test('a CER of 1e308 or -0.5, a WER out of range, a model score of 1e308: refused naming the file and field', async () => {
  const huge = copy(other);
  huge.rows[firstInserted]!.cer = 1e308;
  await assertRefused(huge, new RegExp(`\\$\\.rows\\[${firstInserted}\\]\\.cer: 1e\\+308 is above \\d`));
  const negative = copy(other);
  negative.rows[firstHeldOut]!.cer = -0.5;
  await assertRefused(negative, new RegExp(`\\$\\.rows\\[${firstHeldOut}\\]\\.cer: -0\\.5 is below 0`));
  const wer = copy(other);
  wer.rows[2]!.wer = 40;
  await assertRefused(wer, /\$\.rows\[2\]\.wer: 40 is above [\d.]+, the most a hypothesis of this length can give/);
  const score = copy(other);
  score.rows[1]!.modelScore = 1e308;
  await assertRefused(score, /\$\.rows\[1\]\.modelScore: 1e\+308 is beyond ±1000000/);
  const exact = copy(other);
  exact.rows[0]!.exactMatch = !exact.rows[0]!.exactMatch;
  await assertRefused(exact, /\$\.rows\[0\]\.exactMatch: .* \(an exact match is a CER of 0\)/);
});

test('group summaries that disagree with the rows (an edited report) are refused', async () => {
  const mean = copy(other);
  mean.groups[1]!.cer.estimate = 0.01;
  await assertRefused(mean, /\$\.groups\[1\]\.cer\.estimate: 0\.01, but the group's rows give a mean CER of 0\.\d+/);
  const count = copy(other);
  count.groups[0]!.count += 1;
  await assertRefused(count, /\$\.groups\[0\]\.count: 9, but 8 rows are labelled held-out/);
  const matches = copy(other);
  matches.groups[2]!.exactMatches += 1;
  await assertRefused(matches, /\$\.groups\[2\]\.exactMatches: \d+, but \d+ of its rows are exact matches/);
  const missing = copy(other);
  missing.groups.pop();
  await assertRefused(missing, /\$\.groups: no summary of the 16 repetitions group/);
  const total = copy(other);
  total.canarySet.canaries += 1;
  await assertRefused(total, /\$\.canarySet\.canaries: 29, but the report has 28 rows/);
  assert.match(String((await refusal(mean)).error), /Re-run the audit/);
});

test('a canary labelled held-out in one report and inserted in the other is refused', async () => {
  // The same set id with two canaries' labels swapped, audited as rote would: a report that agrees with itself.
  const swapped = { ...set, canaries: set.canaries.map((canary) => ({ ...canary })) };
  const heldOut = swapped.canaries.find((canary) => canary.repetitions === null)!;
  const inserted = swapped.canaries.find((canary) => canary.repetitions !== null)!;
  [heldOut.repetitions, inserted.repetitions] = [inserted.repetitions, null];
  const relabelled = buildAuditReport({
    set: swapped,
    ...syntheticRecords(swapped, 'other'),
    rows: syntheticRows(swapped, 'other', () => 0.9),
  });
  const { error } = await refusal(relabelled);
  assert.ok(error instanceof RoteError, String(error));
  assert.match(
    (error as Error).message,
    /\$\.rows\[\d+\]\.repetitions: canary \w+ is (held-out|1 repetition) there but (1 repetition|held-out) in .*a\.json/,
  );
});

test('an audit compared with itself: the verdict says so', () => {
  const result = compareReports([
    { report: reference, path: 'a/report.json' },
    { report: copy(reference), path: 'b/report.json' },
  ]);
  assert.match(
    result.pairs[0]!.verdict,
    /^B and A are the same audit \(model [0-9a-f]{12}, every transcription and score identical\): comparing an audit with itself finds no difference by construction/,
  );
  // Two models that happen to score alike are not the same audit.
  const twin = copy(reference);
  twin.model.fingerprint = 'twin'.padEnd(64, '0');
  const twins = compareReports([
    { report: reference, path: null },
    { report: twin, path: null },
  ]);
  assert.not.match(twins.pairs[0]!.verdict, /same audit/);
});

test('--names are escaped in comparison.md: no bold, link, HTML or broken table row from a name', () => {
  const names = ['<img src=x onerror=alert(1)>', '**b** [link](http://x.invalid) a|b\nnext'];
  const markdown = comparisonMarkdown(
    compareReports(
      [
        { report: reference, path: null },
        { report: other, path: null },
      ],
      { names },
    ),
  );
  assert.not.match(markdown, /(^|[^\\])<img/, 'raw HTML');
  assert.ok(markdown.includes('\\<img src=x onerror=alert(1)\\>'));
  assert.not.ok(markdown.includes('**b**'), 'bold from a name');
  assert.not.ok(markdown.includes('[link]('), 'a link from a name');
  assert.ok(markdown.includes('\\*\\*b\\*\\* \\[link\\](http://x.invalid) a'));
  assert.not.ok(/a\|b\nnext/.test(markdown), 'a line break from a name');
  // Every table row has as many unescaped cell separators as its header.
  for (const table of markdown.split('\n\n').filter((block) => block.startsWith('| '))) {
    const cells = table
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.replace(/\\\|/g, '').split('|').length);
    assert.ok(
      cells.every((count) => count === cells[0]),
      table,
    );
  }
});

test.run();
