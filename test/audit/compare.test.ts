/**
 * compare's primary (pooled, paired, one-sided) test and the power statements,
 * on synthetic score tables whose answers are known; the signed-rank p-values
 * against scipy (test/audit/fixtures/wilcoxon-scipy.json, made by
 * scripts/parity/make_wilcoxon_fixture.py).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { buildAuditReport } from '../../src/audit/pipeline/build-report.ts';
import { compareReports, type CompareOptions } from '../../src/audit/compare/index.ts';
import { validateComparisonReport } from '../../src/audit/report/schema.ts';
import { comparisonHtml, comparisonMarkdown, comparisonTerminalTable } from '../../src/audit/render/index.ts';
import { wilcoxonSignedRank, wilsonInterval } from '../../src/audit/stats/statistics.ts';
import {
  designReach,
  designWarnings,
  holmMinimumP,
  mannWhitneyMinimumP,
  signedRankMinimumP,
} from '../../src/audit/stats/power.ts';
import type { AuditReport, Interval } from '../../src/audit/report/types.ts';
import { SeededRandom } from '../../src/util/random.ts';
import { syntheticRecords, syntheticRows, syntheticSet } from './synthetic.ts';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/wilcoxon-scipy.json', import.meta.url), 'utf8')) as {
  cases: {
    kind: string;
    differences: number[];
    p: Record<'greater' | 'less' | 'two-sided', number>;
    exactLimit: number | null;
  }[];
};

test('Wilcoxon signed-rank p-values equal scipy (exact, approx) and enumeration (ties, zeros)', () => {
  assert.ok(fixture.cases.length >= 15);
  for (const c of fixture.cases) {
    const result = wilcoxonSignedRank(c.differences, c.exactLimit === null ? {} : { exactLimit: c.exactLimit });
    const ours = { greater: result.pGreater, less: result.pLess, 'two-sided': result.pTwoSided };
    for (const alternative of ['greater', 'less', 'two-sided'] as const) {
      const expected = c.p[alternative];
      const tolerance = c.kind === 'normal' ? 1e-9 + 1e-7 * expected : 1e-12 + 1e-9 * expected;
      assert.ok(
        Math.abs(ours[alternative] - expected) <= tolerance,
        `${c.kind} n=${c.differences.length} ${alternative}: ours ${ours[alternative]}, reference ${expected}`,
      );
    }
  }
  // The smallest one-sided p: 1/2^n exactly, ties or not; zeros do not count.
  assert.is(wilcoxonSignedRank([1, 2, 3, 4, 5]).minimumPOneSided, 1 / 32);
  assert.is(wilcoxonSignedRank([1, 1, 2, 0, 0, 3]).minimumPOneSided, 1 / 16);
  assert.is(wilcoxonSignedRank([0, 0]).minimumPOneSided, 1);
});

test("power arithmetic: the issue's numbers, and the defaults reach alpha with margin", () => {
  // Old compare: per-group two-sided Wilcoxon on 10 canaries, Holm over 10 tests: 10 x 2/1024 = 0.0195 > 0.01.
  assert.ok(Math.abs(holmMinimumP(signedRankMinimumP(10, true), 10) - 0.01953125) < 1e-12);
  assert.ok(Math.abs(mannWhitneyMinimumP(2, 3) - 0.1) < 1e-12, 'C(5,2) = 10');
  assert.ok(Math.abs(mannWhitneyMinimumP(10, 100) - 1 / 46897636623981) / (1 / 46897636623981) < 1e-9, 'C(110,10)');
  // Per group 10: the secondary tests reach alpha only with every canary one way (0.0098); warned.
  const ten = designWarnings({ perGroup: 10, groups: 5, holdout: 100 });
  assert.is(ten.length, 1, ten.join('\n'));
  assert.match(
    ten[0]!,
    /per-group paired tests \(secondary\) can barely reach alpha = 0\.01: its smallest possible Holm-corrected p-value is 0\.0098 \(only 1\.0x below alpha\)/,
  );
  // Per group 4 (the external models): the secondary tests can never reach alpha.
  assert.ok(designWarnings({ perGroup: 4, groups: 5, holdout: 20 }).some((w) => /can never reach alpha/.test(w)));
  // The committed demo (12 per group, 128 held out) and the new default (16 per group, 100 held out): no warning.
  assert.equal(designWarnings({ perGroup: 12, groups: 5, holdout: 128 }), []);
  assert.equal(designWarnings({ perGroup: 16, groups: 5, holdout: 100 }), []);
  assert.ok(designReach({ perGroup: 16, groups: 5, holdout: 100 }).every((entry) => entry.margin > 50));
});

// ---- synthetic score tables -------------------------------------------------------------------

const PER_GROUP = 4;
const set = syntheticSet('compare-test', PER_GROUP, 20);
const base = buildAuditReport({
  set,
  ...syntheticRecords(set, 'reference'),
  rows: syntheticRows(set, 'reference', (r) => (r === null ? 0.9 : 0.5)),
});

/**
 * A report whose rows were edited, made to agree with itself again as an audit would have written it: exact
 * matches from the CER, each group's counts and means from its rows (intervals moved with their means).
 */
function resummarized(report: AuditReport): AuditReport {
  for (const row of report.rows) row.exactMatch = row.cer === 0;
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const moved = (interval: Interval, estimate: number): Interval => ({
    estimate,
    low: interval.low + estimate - interval.estimate,
    high: interval.high + estimate - interval.estimate,
  });
  for (const group of report.groups) {
    const members = report.rows.filter((row) => row.repetitions === group.repetitions);
    group.exactMatches = members.filter((row) => row.exactMatch).length;
    group.exactMatchRate = wilsonInterval(group.exactMatches, members.length, report.settings.confidence);
    group.cer = moved(group.cer, mean(members.map((row) => row.cer)));
    if (group.modelScore) group.modelScore = moved(group.modelScore, mean(members.map((row) => row.modelScore!)));
  }
  return report;
}

/** A report of `name` whose per-canary CER and CTC score are the reference's plus delta(row index, repetitions). */
function shifted(name: string, delta: (index: number, repetitions: number | null) => number): AuditReport {
  const copy = JSON.parse(JSON.stringify(base)) as AuditReport;
  copy.model = { ...copy.model, dir: `/models/${name}`, fingerprint: name.padEnd(64, '0') };
  copy.rows.forEach((row, index) => {
    const d = delta(index, row.repetitions);
    row.cer = Math.max(0, row.cer + d);
    row.modelScore = row.modelScore! + 4 * d;
  });
  return resummarized(copy);
}

function comparison(others: AuditReport[], options: CompareOptions = {}) {
  const report = compareReports(
    [{ report: base, path: null }, ...others.map((report) => ({ report, path: null }))],
    options,
  );
  validateComparisonReport(report);
  return report;
}

test('a clear pooled effect that no single group of 4 can show: found by the primary test, groups flagged as unable', () => {
  // Every inserted canary a little worse recognized by the clipped model (distinct sizes: no ties).
  const clipped = shifted('clipped', (i, r) => (r === null ? 0 : 0.05 + 0.001 * i));
  const result = comparison([clipped]);
  const pair = result.pairs[0]!;
  assert.is(pair.primary.length, 2);
  for (const primary of pair.primary) {
    assert.is(primary.pairs, 5 * PER_GROUP);
    assert.is(primary.alternative, 'greater');
    assert.ok(Math.abs(primary.pValue - 2 ** -20) < 1e-15, `p ${primary.pValue}`);
    assert.ok(Math.abs(primary.adjustedPValue! - 2 * 2 ** -20) < 1e-15, 'Holm over 2 scores x 1 model');
    assert.is(primary.finding, 'other-memorizes-less');
    assert.ok(primary.canReachAlpha);
  }
  // Each group alone: 4 pairs, smallest one-sided p 1/16, x 10 tests: cannot reach alpha, and says so.
  for (const group of pair.groups) {
    assert.is(group.finding, 'cannot-reach-alpha');
    assert.not.ok(group.canReachAlpha);
    assert.ok(Math.abs(group.minimumAdjustedPValue - Math.min(1, 10 / 16)) < 1e-12);
  }
  assert.match(
    pair.verdict,
    /^clipped memorizes less than reference \(paired Wilcoxon signed-rank over all 20 inserted canaries, one-sided: CER p = 1\.9e-6, CTC score p = 1\.9e-6; Holm-corrected, alpha = 0\.01\)/,
  );
  // The control: every inserted difference above every held-out one (0): p = 1 / C(40, 20), x 2 (Holm).
  assert.is(pair.beyondHeldOut.length, 2);
  for (const control of pair.beyondHeldOut) {
    assert.is(control.alternative, 'greater');
    assert.is(control.inserted, 20);
    assert.is(control.heldOut, 20);
    assert.ok(
      Math.abs(control.adjustedPValue - 2 / 137846528820) / (2 / 137846528820) < 1e-9,
      `p ${control.adjustedPValue}`,
    );
    assert.is(control.finding, 'inserted-higher');
    assert.ok(control.differenceInDifferences > 0.05);
  }
  assert.match(
    pair.verdict,
    /; beyond held-out: the inserted differences exceed the held-out ones \(difference in mean differences, Mann-Whitney U one-sided, Holm-corrected: CER \+0\.0\d+, p = 1\.5e-11; CTC score/,
  );
  assert.match(
    pair.verdict,
    /per-group 95% intervals of clipped - reference exclude zero at 1 repetition \(CER \+0\.0\d\d, CTC score \+0\.\d+\), 2 repetitions/,
  );
  assert.match(
    pair.verdict,
    /held-out: CER \+0\.000 \(two-sided p = 1\.00\), CTC score \+0\.000 \(two-sided p = 1\.00\)$/,
  );
  assert.is(result.verdict, pair.verdict);
  assert.is(result.settings.expect, 'less');
});

test('general accuracy is not memorization: a model worse by a constant on every canary, inserted and held-out alike', () => {
  for (const [name, delta] of [
    ['sloppy', () => 0.2],
    ...['a', 'b', 'c'].map((seed) => {
      const random = new SeededRandom(`sloppy/${seed}`);
      const noise = Array.from({ length: base.rows.length }, () => random.nextFloat() - 0.5);
      return [`sloppy-${seed}`, (i: number) => 0.2 + 0.05 * noise[i]!];
    }),
  ] as [string, (i: number) => number][]) {
    const result = comparison([shifted(name, delta)]);
    const pair = result.pairs[0]!;
    // The inserted canaries alone: significant (what the old compare reported as "memorizes less").
    assert.ok(
      pair.primary.every((t) => t.adjustedPValue! < 0.01),
      pair.verdict,
    );
    assert.ok(
      pair.primary.every((t) => t.finding === 'not-beyond-held-out'),
      pair.verdict,
    );
    assert.ok(
      pair.beyondHeldOut.every((t) => t.finding === 'no-difference' && t.canReachAlpha && t.adjustedPValue >= 0.01),
      JSON.stringify(pair.beyondHeldOut),
    );
    assert.ok(pair.heldOut.every((t) => t.finding === 'other-worse-on-held-out'));
    assert.match(
      pair.verdict,
      new RegExp(
        `^no memorization difference established: ${name} and reference differ on inserted canaries, but the control did not show the inserted difference beyond the held-out one \\(CER \\+0\\.\\d+ on inserted vs \\+0\\.\\d+ on held-out, .*; not below alpha = 0\\.01\\): the difference may be general accuracy, not memorization`,
      ),
    );
    assert.not.match(pair.verdict, /memorizes less/);
    // Identical differences give zero-width per-group intervals: not listed as excluding zero.
    if (name === 'sloppy') {
      assert.equal(pair.groupsExcludingZero, []);
      assert.ok(pair.groups.every((t) => t.meanDifference.low === t.meanDifference.high && t.meanDifference.low > 0));
      assert.match(pair.verdict, /; no per-group 95% interval excludes zero/);
    }
    validateComparisonReport(result);
    assert.match(
      comparisonMarkdown(result),
      /vs held-out \(20, 20\) \| CER \| [+-]0\.\d+ \(diff\. in diff\.\) \| [^|]+ \| [^|]+ \| no difference/,
    );
    assert.match(comparisonTerminalTable(result), / general accuracy\n/);
    assert.match(comparisonHtml(result), /vs held-out \(20, 20\)/);
  }
});

test('no effect: no difference detected, for several noise draws; never a false finding', () => {
  for (const seed of ['a', 'b', 'c', 'd']) {
    const random = new SeededRandom(`no-effect/${seed}`);
    const noise = Array.from({ length: base.rows.length }, () => random.nextFloat() - 0.5);
    const result = comparison([shifted('same', (i) => 0.1 * noise[i]!)]);
    const pair = result.pairs[0]!;
    assert.ok(
      pair.primary.every((t) => t.finding === 'no-difference' && t.canReachAlpha),
      pair.verdict,
    );
    assert.ok(pair.groups.every((t) => t.finding === 'no-difference' || t.finding === 'cannot-reach-alpha'));
    assert.match(pair.verdict, /^no difference detected between same and reference \(paired Wilcoxon/);
  }
});

test('reversed effect: --expect less finds nothing and says the data lean the other way; either and more find it', () => {
  const memorizer = shifted('memorizer', (i, r) => (r === null ? 0 : -(0.05 + 0.001 * i)));
  const less = comparison([memorizer]).pairs[0]!;
  assert.ok(less.primary.every((t) => t.finding === 'no-difference' && t.pValue > 0.99));
  assert.match(
    less.verdict,
    /^no difference detected between memorizer and reference .*lean the other way \(memorizer more memorized\), which --expect less does not test: use --expect either/,
  );
  const either = comparison([memorizer], { expect: 'either' }).pairs[0]!;
  assert.ok(either.primary.every((t) => t.alternative === 'two-sided' && t.finding === 'other-memorizes-more'));
  assert.ok(Math.abs(either.primary[0]!.pValue - 2 * 2 ** -20) < 1e-15);
  assert.match(
    either.verdict,
    /^memorizer memorizes more than reference \(paired Wilcoxon signed-rank over all 20 inserted canaries, two-sided/,
  );
  const more = comparison([memorizer], { expect: 'more' }).pairs[0]!;
  assert.ok(more.primary.every((t) => t.alternative === 'less' && t.finding === 'other-memorizes-more'));
});

test('ties: identical models, and ties that shrink the test below alpha', () => {
  const twin = comparison([shifted('twin', () => 0)]).pairs[0]!;
  assert.ok(twin.primary.every((t) => t.zeros === t.pairs && t.pValue === 1 && t.finding === 'cannot-reach-alpha'));
  assert.match(twin.verdict, /^no difference: every inserted canary scores the same with twin and reference/);
  // Only 5 of 20 canaries differ (all the same way): 1/32 x 2 tests = 0.0625, cannot reach alpha; not "no difference".
  const few = comparison([shifted('few', (i, r) => (r === 1 ? 0.1 + 0.01 * i : r === 2 && i % 4 === 0 ? 0.2 : 0))])
    .pairs[0]!;
  for (const primary of few.primary) {
    assert.is(primary.zeros, 15);
    assert.ok(Math.abs(primary.minimumAdjustedPValue - 2 / 32) < 1e-12);
    assert.is(primary.finding, 'cannot-reach-alpha');
  }
  assert.match(
    few.verdict,
    /^few and reference score the same on most inserted canaries \(of 20: 15 on CER, 15 on CTC score\), too many ties for the test to reach alpha = 0\.01 \(smallest Holm-corrected p-value possible with the canaries that differ: 0\.0625\): no difference is detectable, and none can be ruled out/,
  );
  // Too few canaries, no ties: 4 canaries in all, 1/16 x 2 tests = 0.125.
  const smallSet = syntheticSet('compare-small', 1, 6, [1, 2, 4, 8]);
  const small = buildAuditReport({
    set: smallSet,
    ...syntheticRecords(smallSet, 'small'),
    rows: syntheticRows(smallSet, 'small', () => 0.5),
  });
  const smallOther = JSON.parse(JSON.stringify(small)) as AuditReport;
  smallOther.model.fingerprint = 'other'.padEnd(64, '0');
  smallOther.rows.forEach((row, i) => {
    if (row.repetitions !== null) {
      row.cer += 0.1 + 0.01 * i;
      row.modelScore! += 0.5 + 0.01 * i;
    }
  });
  resummarized(smallOther);
  const tiny = compareReports(
    [
      { report: small, path: null },
      { report: smallOther, path: null },
    ],
    { names: ['A', 'B'] },
  ).pairs[0]!;
  assert.ok(
    tiny.primary.every(
      (t) => t.finding === 'cannot-reach-alpha' && t.zeros === 0 && Math.abs(t.minimumAdjustedPValue - 2 / 16) < 1e-12,
    ),
  );
  // One canary per group: a degenerate bootstrap, never listed as excluding zero.
  assert.ok(tiny.groups.every((t) => t.pairs === 1 && t.meanDifference.low > 0));
  assert.equal(tiny.groupsExcludingZero, []);
  assert.match(
    tiny.verdict,
    /^cannot tell B from A: with 4 inserted canaries the smallest Holm-corrected p-value possible is 0\.13, not below alpha = 0\.01; audit more canaries/,
  );
  // Tied magnitudes (not zeros) are fine: 20 equal positive differences still give 2^-20.
  const flat = comparison([shifted('flat', (i, r) => (r === null ? 0 : 0.1))]).pairs[0]!;
  assert.ok(flat.primary.every((t) => Math.abs(t.pValue - 2 ** -20) < 1e-15 && t.finding === 'other-memorizes-less'));
});

test('a held-out test that cannot reach alpha (5 held-out canaries) says so instead of "no difference"', () => {
  const fewSet = syntheticSet('compare-few-held-out', 4, 5);
  const reference = buildAuditReport({
    set: fewSet,
    ...syntheticRecords(fewSet, 'reference'),
    rows: syntheticRows(fewSet, 'reference', (r) => (r === null ? 0.9 : 0.5)),
  });
  const other = JSON.parse(JSON.stringify(reference)) as AuditReport;
  other.model.fingerprint = 'other'.padEnd(64, '0');
  other.rows.forEach((row, i) => {
    row.cer += 0.1 + 0.001 * i;
    row.modelScore! += 0.4 + 0.004 * i;
  });
  resummarized(other);
  const result = compareReports(
    [
      { report: reference, path: null },
      { report: other, path: null },
    ],
    { names: ['A', 'B'] },
  );
  validateComparisonReport(result);
  const pair = result.pairs[0]!;
  for (const heldOut of pair.heldOut) {
    // Every held-out canary the same way: two-sided p = 2 / 2^5 = 0.0625, the smallest possible.
    assert.ok(Math.abs(heldOut.pValue - 2 / 32) < 1e-12);
    assert.not.ok(heldOut.canReachAlpha);
    assert.is(heldOut.finding, 'cannot-reach-alpha');
  }
  assert.match(
    pair.verdict,
    /held-out: CER \+0\.1\d+ \(two-sided p = 0\.0625, cannot reach alpha = 0\.01 with 5 held-out canaries: smallest possible p 0\.0625\), CTC score/,
  );
  assert.match(comparisonTerminalTable(result), /held-out \(5\)\s+CER.*cannot reach alpha/);
});

test('saturation: both models perfect on every inserted canary is "cannot tell apart", not "no difference"', () => {
  const perfect = (name: string, ctcNoise: number) => {
    const copy = JSON.parse(JSON.stringify(base)) as AuditReport;
    copy.model = { ...copy.model, dir: `/models/${name}`, fingerprint: name.padEnd(64, '0') };
    copy.rows.forEach((row, i) => {
      if (row.repetitions !== null) {
        row.cer = 0;
        row.modelScore = -0.05 + ctcNoise * (i % 3);
      }
    });
    return resummarized(copy);
  };
  // CTC differences under SCORE_RESOLUTION (1e-3) are ties: every inserted canary tied on both scores.
  const result = compareReports([
    { report: perfect('floor-a', 0), path: null },
    { report: perfect('floor-b', 3e-4), path: null },
  ]);
  validateComparisonReport(result);
  const pair = result.pairs[0]!;
  assert.ok(pair.primary.every((t) => t.zeros === t.pairs && t.finding === 'cannot-reach-alpha' && !t.canReachAlpha));
  assert.match(
    pair.verdict,
    /^cannot tell floor-b from floor-a: both recognize every inserted canary perfectly \(CER 0 on all 20 and CTC scores within 0\.001 of each other\), so this canary set cannot tell them apart .*use fewer repetitions or harder canaries/,
  );
  assert.not.match(pair.verdict, /no difference/);
  assert.match(comparisonHtml(result), /<li class="flagged">/);
});

test('smallest possible Holm p: max(own, m x the family smallest), a lower bound under step-down', () => {
  // 'eight': only the 8 canaries at 1 and 2 repetitions differ (all one way): own smallest p 1/256. Family: 2 models x 2 scores.
  const result = comparison(
    [
      shifted('clipped', (i, r) => (r === null ? 0 : 0.05 + 0.001 * i)),
      shifted('eight', (i, r) => (r === 1 || r === 2 ? 0.05 + 0.001 * i : 0)),
    ],
    {
      names: ['reference', 'clipped', 'eight'],
    },
  );
  const eight = result.pairs[1]!;
  for (const primary of eight.primary) {
    assert.is(primary.zeros, 12);
    assert.ok(Math.abs(primary.pValue - 1 / 256) < 1e-15);
    // Holm: 4 x, 3 x 2^-20 for clipped, then 2 x 1/256 and 1 x 1/256 -> 2/256 < alpha. The old bound, 4 x 1/256 = 0.0156, said it could not.
    assert.ok(Math.abs(primary.adjustedPValue! - 2 / 256) < 1e-15, `adjusted ${primary.adjustedPValue}`);
    assert.ok(Math.abs(primary.minimumAdjustedPValue - 1 / 256) < 1e-15, `minimum ${primary.minimumAdjustedPValue}`);
    assert.ok(primary.minimumAdjustedPValue <= primary.adjustedPValue!);
    assert.ok(primary.canReachAlpha);
    assert.is(primary.finding, 'other-memorizes-less');
  }
  assert.ok(result.pairs[0]!.primary.every((t) => Math.abs(t.minimumAdjustedPValue - 4 * 2 ** -20) < 1e-15));
  // Per-group family (10 tests per pair): groups with no differing canary have own smallest p 1, the rest 1/16.
  for (const group of eight.groups)
    assert.ok(Math.abs(group.minimumAdjustedPValue - (group.repetitions! <= 2 ? 10 / 16 : 1)) < 1e-12);
});

test('Holm over models x scores: three models, one that differs', () => {
  const result = comparison(
    [
      shifted('same', () => 0.0),
      shifted('clipped', (i, r) => (r === null ? 0 : 0.05 + 0.001 * i)),
      shifted('worse-held-out', (i, r) => (r === null ? 0.2 + 0.001 * i : 0)),
    ],
    {
      names: ['reference', 'same', 'clipped', 'worse-held-out'],
    },
  );
  const clipped = result.pairs[1]!;
  assert.ok(
    clipped.primary.every((t) => Math.abs(t.adjustedPValue! - 6 * 2 ** -20) < 1e-15),
    'x 6 = 3 models x 2 scores',
  );
  assert.ok(clipped.primary.every((t) => Math.abs(t.minimumAdjustedPValue - 6 * 2 ** -20) < 1e-15));
  const heldOut = result.pairs[2]!;
  assert.ok(heldOut.heldOut.every((t) => t.finding === 'other-worse-on-held-out'));
  assert.match(
    heldOut.verdict,
    /held-out: CER \+0\.2\d+ \(two-sided p = [^)]*, worse-held-out worse\), CTC score \+0\.8\d+ \(two-sided p = [^)]*, worse-held-out worse\) \(worse-held-out and reference differ on unseen canaries too/,
  );
  assert.is(result.verdict.split(' | ').length, 3);
  // Renderers: the primary rows lead, the per-group rows are folded.
  const markdown = comparisonMarkdown(result);
  assert.ok(markdown.indexOf('## Primary tests') < markdown.indexOf('## Per-group paired tests (secondary)'));
  assert.match(comparisonTerminalTable(result), /clipped - reference\s+all inserted \(20\)\s+CER\s+\+0\.0\d+ \[/);
  const html = comparisonHtml(result);
  assert.match(html, /<h2>Primary test per pair<\/h2>/);
  assert.match(html, /<details><summary>Per-group paired tests \(secondary, 30 rows\)<\/summary>/);
});

test.run();
