/**
 * compare(): models audited on the same canary set, side by side. Each model
 * is tested against the first (the reference) per score:
 *
 * - Primary: one Wilcoxon signed-rank test over ALL inserted canaries, paired
 *   by canary (d = other - reference), one-sided in the direction the user
 *   expects (default: the other model memorizes less, d > 0), Holm over models
 *   x scores. Pooling is valid whatever the groups: under H0 each canary's
 *   difference is symmetric about zero independently of the others, so the
 *   sign-flip null distribution is the same with or without strata; pooling
 *   gives a clear effect spread over small groups the power that no single
 *   group has (a 1-repetition effect in 4 canaries cannot reach alpha alone).
 *   We do not weight groups (Van Elteren): the groups are equal in size by
 *   design, where its weights are all equal anyway.
 * - Secondary, per group: the mean difference with a bootstrap interval (the
 *   effect size) and the same test per group, Holm over the pair's groups x
 *   scores, marked secondary.
 * - Control (difference in differences): a model that is less accurate
 *   everywhere also scores higher on inserted canaries. Per score, a one-sided
 *   Mann-Whitney U test (same direction) of the paired differences on inserted
 *   canaries against those on held-out canaries, Holm over models x scores. A
 *   primary finding ("memorizes less/more") needs both this test and the
 *   primary one; a primary test that is significant while the inserted
 *   difference is not beyond the held-out one is 'not-beyond-held-out'.
 * - Context: held-out canaries, two-sided, per score: a difference there is
 *   general accuracy, not memorization.
 *
 * Every test records the smallest p-value it could reach; a test that cannot
 * reach alpha says so instead of "no difference". A score is paired only on the
 * canaries that have it in both models (an infeasible canary has no CTC score),
 * so each test's counts, and what it can reach, are those of its own pairs.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { explainWriteFailure, RoteError } from '../util/errors.ts';
import { OptionError, resolveOption } from '../util/options.ts';
import { AUDIT_DEFAULTS } from './defaults.ts';
import { COMPARE_EXPECTATIONS, COMPARE_OPTION_SPECS } from './options.ts';
import { SeededRandom } from '../util/random.ts';
import { TOOL_VERSION } from '../util/version.ts';
import { temporarySibling, writeFileAtomic } from '../util/atomic.ts';
import { checkOutputFolder, moveIntoPlace, type OutputFolderKind } from '../util/output-folder.ts';
import { refuseOutputsOnInputs } from '../util/output-guard.ts';
import { formatP, groupLabel } from './build-report.ts';
import {
  bootstrapMeanInterval,
  holmAdjust,
  mannWhitneyLess,
  quantileSorted,
  stratifiedBootstrapMeanInterval,
  wilcoxonSignedRank,
} from './statistics.ts';
import { readAuditReport } from './audit.ts';
import { mannWhitneyMinimumP } from './power.ts';
import { hasScore, modelScoreLabel, pairScoreLabel } from './score.ts';
import { comparisonHtml, comparisonMarkdown } from './render.ts';
import { validateComparisonReport, validateReport } from './schema.ts';
import {
  COMPARISON_REPORT_SCHEMA_VERSION,
  type AuditReport,
  type BeyondHeldOutTest,
  type CanaryRow,
  type CompareExpectation,
  type ComparisonGroup,
  type ComparisonPair,
  type ComparisonReport,
  type PairedTest,
  type ScoreName,
} from './types.ts';

/**
 * Paired differences smaller than this count as ties (zeros in the Wilcoxon
 * test). CER differences are exact. CTC scores (negative log-likelihood per
 * character) from the same model differ by ~1e-5 between inference engines,
 * providers and thread counts (ONNX Runtime vs PyTorch agreed to 2e-5 on the
 * reference models), so two models that both fit a canary perfectly would
 * otherwise "differ" significantly by rounding noise alone.
 */
export const SCORE_RESOLUTION: Record<ScoreName, number> = { cer: 0, ctcScore: 1e-3 };

/** Groups with fewer canaries than this are not listed as "interval excludes zero" (their bootstrap is degenerate). */
const MINIMUM_GROUP_FOR_INTERVAL = 3;

export interface CompareOptions {
  /** Display names, one per report (default: the model directories' names, or A, B, ... when those repeat). */
  names?: string[];
  /** Significance level (default: the reports' common alpha, else AUDIT_DEFAULTS.alpha). Ranges and defaults: COMPARE_OPTION_SPECS. */
  alpha?: number;
  confidence?: number;
  bootstrapResamples?: number;
  seed?: string;
  /**
   * Direction of the primary tests: 'less' (default) = the other models memorize
   * less than the first (their scores on inserted canaries are higher); 'more';
   * 'either' = two-sided.
   */
  expect?: CompareExpectation;
}

export { COMPARE_EXPECTATIONS };

export interface ReportSource {
  report: AuditReport;
  path: string | null;
}

function defaultNames(reports: AuditReport[]): string[] {
  const names = reports.map((report) => basename(report.model.dir) || report.model.fingerprint.slice(0, 8));
  if (new Set(names).size === names.length) return names;
  return reports.map((_, i) => String.fromCharCode(65 + (i % 26)) + (i >= 26 ? String(Math.floor(i / 26)) : ''));
}

const signed = (value: number, digits = 3) => `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;

/**
 * `saturated`: both models recognize every inserted canary perfectly (CER 0), so every inserted canary is
 * tied at the floor: the set cannot tell the models apart (not "no difference").
 */
function pairVerdict(
  pair: Omit<ComparisonPair, 'verdict'>,
  alpha: number,
  expect: CompareExpectation,
  confidence: number,
  family: number,
  saturated: boolean,
  scoreText: (score: ScoreName) => string,
  insertedTotal: number,
): string {
  const { baseline, other, primary } = pair;
  const sided = expect === 'either' ? 'two-sided' : 'one-sided';
  const evidence = primary.map((test) => `${scoreText(test.score)} p = ${formatP(test.adjustedPValue!)}`).join(', ');
  const n = Math.max(0, ...primary.map((test) => test.pairs));
  // A score missing on some canaries in either model is tested on the canaries both models have it for.
  const partial = primary.filter((test) => test.pairs < insertedTotal);
  const over = `all ${insertedTotal} inserted canaries${partial.length > 0 ? ` (${partial.map((test) => `${scoreText(test.score)}: the ${test.pairs} that have it in both models`).join('; ')})` : ''}`;
  const how = `(paired Wilcoxon signed-rank over ${over}, ${sided}: ${evidence}; Holm-corrected, alpha = ${alpha})`;
  const less = primary.filter((test) => test.finding === 'other-memorizes-less');
  const more = primary.filter((test) => test.finding === 'other-memorizes-more');
  const notBeyond = primary.filter((test) => test.finding === 'not-beyond-held-out');
  const control = (tests: PairedTest[]) =>
    tests
      .map((test) => pair.beyondHeldOut.find((entry) => entry.score === test.score)!)
      .map(
        (entry) =>
          `${scoreText(entry.score)} ${signed(entry.differenceInDifferences)}, p = ${formatP(entry.adjustedPValue)}`,
      )
      .join('; ');
  // Why a significant primary test is not a memorization finding: the held-out control.
  const notBeyondText = (tests: PairedTest[]) => {
    const entries = tests.map((test) => pair.beyondHeldOut.find((entry) => entry.score === test.score)!);
    const heldOutCount = entries[0]?.heldOut ?? 0;
    const details = tests
      .map(
        (test) =>
          `${scoreText(test.score)} ${signed(test.meanDifference.estimate)} on inserted vs ${signed(pair.heldOut.find((h) => h.score === test.score)?.meanDifference.estimate ?? 0)} on held-out`,
      )
      .join(', ');
    return entries.every((entry) => !entry.canReachAlpha)
      ? `${other} and ${baseline} differ on inserted canaries (${details}), but with ${heldOutCount} held-out canaries the control against held-out canaries cannot reach alpha = ${alpha} ` +
          `(smallest Holm-corrected p-value possible: ${formatP(Math.min(...entries.map((entry) => entry.minimumAdjustedPValue)))}): memorization cannot be told from general accuracy, so no memorization difference is established`
      : `no memorization difference established: ${other} and ${baseline} differ on inserted canaries, but as much on held-out canaries (${details}; ` +
          `inserted vs held-out differences, Mann-Whitney U ${sided}, Holm-corrected: ${control(tests)}): that is general accuracy, not memorization`;
  };
  let sentence: string;
  if (notBeyond.length > 0 && less.length === 0 && more.length === 0) {
    sentence = `${notBeyondText(notBeyond)} ${how}`;
  } else if (less.length > 0 && more.length > 0) {
    sentence = `${other} and ${baseline} differ in opposite directions by score (${less.map((t) => scoreText(t.score)).join(', ')}: ${other} memorizes less; ${more.map((t) => scoreText(t.score)).join(', ')}: more) ${how}`;
  } else if (less.length > 0) {
    sentence = `${other} memorizes less than ${baseline} ${how}`;
  } else if (more.length > 0) {
    sentence = `${other} memorizes more than ${baseline} ${how}`;
  } else if (primary.length > 0 && saturated && primary.every((test) => test.zeros === test.pairs)) {
    const ctc = primary.some((test) => test.score === 'ctcScore')
      ? ` and ${scoreText('ctcScore')}s within ${SCORE_RESOLUTION.ctcScore} of each other`
      : '';
    sentence =
      `cannot tell ${other} from ${baseline}: both recognize every inserted canary perfectly (CER 0 on all ${n}${ctc}), so this canary set cannot tell them apart ` +
      `(every inserted canary tied: the test cannot reach alpha = ${alpha}); use fewer repetitions or harder canaries (e.g. a higher speed-up)`;
  } else if (primary.length > 0 && primary.every((test) => test.zeros === test.pairs)) {
    const tied =
      partial.length === 0
        ? `${n} of ${n} tied on ${primary.map((t) => scoreText(t.score)).join(' and ')}`
        : primary.map((t) => `${t.pairs} of ${t.pairs} tied on ${scoreText(t.score)}`).join(', ');
    sentence = `no difference: every inserted canary scores the same with ${other} and ${baseline} (${tied})`;
  } else if (primary.length > 0 && primary.every((test) => !test.canReachAlpha)) {
    const best = Math.min(...primary.map((test) => test.minimumAdjustedPValue));
    // Would the test reach alpha if no canary were tied? Then ties (equal scores), not the design, are why it cannot.
    const untiedBest = Math.min(1, family * (expect === 'either' ? 2 : 1) * 2 ** -n);
    const tied = primary.map((test) => `${test.zeros} on ${scoreText(test.score)}`).join(', ');
    sentence =
      untiedBest < alpha
        ? `${other} and ${baseline} score the same on most inserted canaries (of ${n}: ${tied}), too many ties for the test to reach alpha = ${alpha} ` +
          `(smallest Holm-corrected p-value possible with the canaries that differ: ${formatP(best)}): no difference is detectable, and none can be ruled out`
        : `cannot tell ${other} from ${baseline}: with ${n} inserted canaries the smallest Holm-corrected p-value possible is ${formatP(best)}, not below alpha = ${alpha}; audit more canaries`;
  } else {
    sentence = `no difference detected between ${other} and ${baseline} ${how}`;
    if (expect !== 'either') {
      const against = primary.filter(
        (test) =>
          (expect === 'less' ? test.wMinus > test.wPlus : test.wPlus > test.wMinus) && test.pairs - test.zeros > 0,
      );
      if (against.length > 0)
        sentence += `; the ${against.map((t) => scoreText(t.score)).join(' and ')} differences lean the other way (${other} ${expect === 'less' ? 'more' : 'less'} memorized), which --expect ${expect} does not test: use --expect either`;
    }
    const unreachable = primary.filter((test) => !test.canReachAlpha);
    if (unreachable.length > 0)
      sentence += `; ${unreachable.map((t) => scoreText(t.score)).join(' and ')} cannot reach alpha with these canaries`;
  }
  if (less.length > 0 || more.length > 0) {
    const found = [...less, ...more];
    sentence += `; beyond held-out: the inserted differences exceed the held-out ones (difference in mean differences, Mann-Whitney U ${sided}, Holm-corrected: ${control(found)})`;
    if (notBeyond.length > 0)
      sentence += `; on ${notBeyond.map((t) => scoreText(t.score)).join(' and ')}: ${notBeyondText(notBeyond)}`;
  }
  const level = `${Math.round(confidence * 100)}%`;
  if (pair.groupsExcludingZero.length > 0) {
    const byGroup = new Map<number, string[]>();
    for (const entry of pair.groupsExcludingZero)
      byGroup.set(entry.repetitions, [
        ...(byGroup.get(entry.repetitions) ?? []),
        `${scoreText(entry.score)} ${signed(entry.meanDifference.estimate)}`,
      ]);
    sentence += `; per-group ${level} intervals of ${other} - ${baseline} exclude zero at ${[...byGroup].map(([r, parts]) => `${groupLabel(r)} (${parts.join(', ')})`).join(', ')}`;
  } else if (pair.groups.length > 0) {
    sentence += `; no per-group ${level} interval excludes zero`;
  }
  if (pair.heldOut.length > 0) {
    const parts = pair.heldOut.map((test) => {
      const note =
        test.finding === 'other-worse-on-held-out'
          ? `, ${other} worse`
          : test.finding === 'other-better-on-held-out'
            ? `, ${other} better`
            : test.finding === 'cannot-reach-alpha'
              ? `, cannot reach alpha = ${alpha} with ${test.pairs} held-out canaries${test.zeros > 0 ? ` (${test.zeros} tied)` : ''}: smallest possible p ${formatP(test.minimumAdjustedPValue)}`
              : '';
      return `${scoreText(test.score)} ${signed(test.meanDifference.estimate)} (two-sided p = ${formatP(test.pValue)}${note})`;
    });
    const differs = pair.heldOut.some(
      (test) => test.finding === 'other-worse-on-held-out' || test.finding === 'other-better-on-held-out',
    );
    sentence += `; held-out: ${parts.join(', ')}${differs ? ` (${other} and ${baseline} differ on unseen canaries too: part of the difference may be general accuracy)` : ''}`;
  }
  return sentence;
}

/**
 * The smallest Holm-adjusted p-value each test of a family can reach, from each test's own smallest p.
 * Holm's adjusted p of test i is at least its own p and at least m times the family's smallest p (the first
 * step), so max(own_i, m x min_j own_j) is a lower bound; m x own_i is not (step-down multiplies later
 * tests by less than m).
 */
function holmMinimumAdjusted(ownMinima: readonly number[]): number[] {
  const smallest = Math.min(...ownMinima);
  return ownMinima.map((own) => Math.min(1, Math.max(own, ownMinima.length * smallest)));
}

/** The comparison from reports already read (pure). */
export function compareReports(sources: ReportSource[], options: CompareOptions = {}): ComparisonReport {
  if (sources.length < 2) throw new RoteError(`compare needs at least two audit reports, got ${sources.length}`);
  const reports = sources.map((source) => source.report);
  const where = (i: number) => sources[i]!.path ?? `report ${i + 1}`;
  const first = reports[0]!;
  reports.forEach((report, i) => {
    if (report.canarySet.setId !== first.canarySet.setId) {
      throw new RoteError(
        `${where(i)} audits canary set ${report.canarySet.setId.slice(0, 12)} but ${where(0)} audits ${first.canarySet.setId.slice(0, 12)}: ` +
          'compare only reports of the same canary set (the models must be trained with the same canaries)',
      );
    }
    const ids = report.rows.map((row) => row.id).join('\n');
    if (ids !== first.rows.map((row) => row.id).join('\n'))
      throw new RoteError(
        `${where(i)} and ${where(0)} hold different canaries although their set ids match; re-run both audits with this rote`,
      );
  });
  const names = options.names ?? defaultNames(reports);
  if (names.length !== reports.length)
    throw new OptionError((name) => `${name('names')} gives ${names.length} names for ${reports.length} reports`);
  if (new Set(names).size !== names.length)
    throw new OptionError((name) => `${name('names')} repeats a name: ${names.join(', ')}`);
  const alphas = [...new Set(reports.map((report) => report.settings.alpha))];
  const option = <T>(key: (typeof COMPARE_OPTION_SPECS)[number]['key'], value: T | undefined) =>
    resolveOption(COMPARE_OPTION_SPECS, key, value);
  const alpha = option('alpha', options.alpha ?? (alphas.length === 1 ? alphas[0]! : AUDIT_DEFAULTS.alpha))!;
  const confidence = option('confidence', options.confidence)!;
  const bootstrapResamples = option('bootstrapResamples', options.bootstrapResamples)!;
  const seed = option('seed', options.seed)!;
  const expect = option('expect', options.expect)!;

  const groupKeys = first.groups.map((group) => group.repetitions);
  const insertedCounts = groupKeys.filter((r): r is number => r !== null);
  const groups: ComparisonGroup[] = groupKeys.map((repetitions) => ({
    repetitions,
    label: groupLabel(repetitions),
    models: reports.map((report, i) => {
      const group = report.groups.find((g) => g.repetitions === repetitions)!;
      const cerTest = report.tests.find((test) => test.repetitions === repetitions && test.score === 'cer');
      return {
        name: names[i]!,
        count: group.count,
        cer: group.cer,
        exactMatchRate: group.exactMatchRate,
        ctcScore: group.ctcScore,
        meanCerExposure: group.exposure ? group.exposure.cer.interpolation.mean : null,
        cerAdjustedPValue: cerTest ? cerTest.adjustedPValue : null,
      };
    }),
  }));

  const random = new SeededRandom(seed);
  const alternative: PairedTest['alternative'] =
    expect === 'less' ? 'greater' : expect === 'more' ? 'less' : 'two-sided';
  const value = (row: CanaryRow, score: ScoreName) => (score === 'cer' ? row.cer : row.ctcScore!);
  type Raw = {
    scope: PairedTest['scope'];
    repetitions: number | null;
    score: ScoreName;
    differences: Float64Array;
    strata: (number | null)[];
  };
  const drafts = reports.slice(1).map((other, k) => {
    const baselineName = names[0]!;
    const otherName = names[k + 1]!;
    // Pairs only where both models have the score (rows of both reports are in the same canary order).
    const paired = (index: number, score: ScoreName) =>
      hasScore(first.rows[index]!, score) && hasScore(other.rows[index]!, score);
    const differencesOf = (rows: number[], score: ScoreName): Float64Array =>
      Float64Array.from(rows, (index) => {
        const a = value(first.rows[index]!, score);
        const b = value(other.rows[index]!, score);
        // Snapped to 1e-12 so that equal differences compare equal (0.4 - 0.2 and 0.3 - 0.1 differ in the last bit).
        return Math.abs(b - a) < SCORE_RESOLUTION[score] ? 0 : Math.round((b - a) * 1e12) / 1e12;
      });
    const indicesOf = (keep: (row: CanaryRow) => boolean, score: ScoreName) =>
      first.rows.flatMap((row, index) => (keep(row) && paired(index, score) ? [index] : []));
    // A score is compared when both models have it on some inserted and some held-out canaries.
    const scores = (['cer', 'ctcScore'] as const).filter(
      (score) =>
        indicesOf((row) => row.repetitions !== null, score).length > 0 &&
        indicesOf((row) => row.repetitions === null, score).length > 0,
    );
    const raws: Raw[] = [];
    for (const score of scores) {
      const insertedIndices = indicesOf((row) => row.repetitions !== null, score);
      raws.push({
        scope: 'all-inserted',
        repetitions: null,
        score,
        differences: differencesOf(insertedIndices, score),
        strata: insertedIndices.map((i) => first.rows[i]!.repetitions),
      });
    }
    for (const repetitions of insertedCounts) {
      for (const score of scores) {
        const indices = indicesOf((row) => row.repetitions === repetitions, score);
        if (indices.length === 0) continue; // no canary of this group has the score in both models
        raws.push({
          scope: 'group',
          repetitions,
          score,
          differences: differencesOf(indices, score),
          strata: indices.map(() => repetitions),
        });
      }
    }
    for (const score of scores) {
      const heldOutIndices = indicesOf((row) => row.repetitions === null, score);
      raws.push({
        scope: 'held-out',
        repetitions: null,
        score,
        differences: differencesOf(heldOutIndices, score),
        strata: heldOutIndices.map(() => null),
      });
    }
    const analysed = raws.map((raw) => {
      const label = raw.scope === 'all-inserted' ? 'all inserted' : groupLabel(raw.repetitions);
      const fork = random.fork(`${otherName}-${baselineName}/${label}/${raw.score}`);
      const bootstrap = { resamples: bootstrapResamples, confidence };
      const mean =
        raw.scope === 'all-inserted'
          ? stratifiedBootstrapMeanInterval(raw.differences, raw.strata, fork, bootstrap)
          : bootstrapMeanInterval(raw.differences, fork, bootstrap);
      const sorted = Float64Array.from(raw.differences).sort();
      const wilcoxon = wilcoxonSignedRank(raw.differences);
      const sides = raw.scope === 'held-out' ? 'two-sided' : alternative;
      const pValue = sides === 'greater' ? wilcoxon.pGreater : sides === 'less' ? wilcoxon.pLess : wilcoxon.pTwoSided;
      const minimumPValue = Math.min(1, (sides === 'two-sided' ? 2 : 1) * wilcoxon.minimumPOneSided);
      return { raw, mean, median: quantileSorted(sorted, 0.5), wilcoxon, sides, pValue, minimumPValue };
    });
    // The control: inserted differences against held-out differences (difference in differences).
    const meanOf = (values: Float64Array) => values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);
    const beyond = scores.map((score) => {
      const inserted = raws.find((raw) => raw.scope === 'all-inserted' && raw.score === score)!.differences;
      const heldOut = raws.find((raw) => raw.scope === 'held-out' && raw.score === score)!.differences;
      const higher = mannWhitneyLess(heldOut, inserted); // H1: the held-out differences are smaller, i.e. the inserted ones higher
      const lower = mannWhitneyLess(inserted, heldOut);
      const pValue =
        alternative === 'greater'
          ? higher.pValue
          : alternative === 'less'
            ? lower.pValue
            : Math.min(1, 2 * Math.min(higher.pValue, lower.pValue));
      // What the design can reach (no ties): differences tied across inserted and held-out canaries are
      // evidence of no difference beyond held-out, not a reason the control could not find one.
      const minimumPValue = Math.min(
        1,
        (alternative === 'two-sided' ? 2 : 1) * mannWhitneyMinimumP(inserted.length, heldOut.length),
      );
      return {
        score,
        inserted: inserted.length,
        heldOut: heldOut.length,
        differenceInDifferences: meanOf(inserted) - meanOf(heldOut),
        pValue,
        minimumPValue,
        method: higher.method,
        rankBiserial: higher.rankBiserial,
      };
    });
    return { baselineName, otherName, analysed, beyond };
  });

  // Holm families: the primary tests of every pair together; each pair's group tests; held-out uncorrected.
  const primaryEntries = drafts.flatMap((draft) =>
    draft.analysed.filter((entry) => entry.raw.scope === 'all-inserted'),
  );
  const primaryHolm = holmAdjust(primaryEntries.map((entry) => entry.pValue));
  const primaryAdjusted = new Map(primaryEntries.map((entry, i) => [entry, primaryHolm[i]!]));
  const primaryMinimum = holmMinimumAdjusted(primaryEntries.map((entry) => entry.minimumPValue));
  const beyondEntries = drafts.flatMap((draft) => draft.beyond);
  const beyondHolm = holmAdjust(beyondEntries.map((entry) => entry.pValue));
  const beyondMinimum = holmMinimumAdjusted(beyondEntries.map((entry) => entry.minimumPValue));
  const pairs: ComparisonPair[] = drafts.map(({ baselineName, otherName, analysed, beyond }) => {
    const beyondHeldOut: BeyondHeldOutTest[] = beyond.map((entry) => {
      const adjustedPValue = beyondHolm[beyondEntries.indexOf(entry)]!;
      const minimumAdjustedPValue = beyondMinimum[beyondEntries.indexOf(entry)]!;
      const canReachAlpha = minimumAdjustedPValue < alpha;
      const finding: BeyondHeldOutTest['finding'] =
        adjustedPValue < alpha
          ? entry.rankBiserial > 0
            ? 'inserted-higher'
            : 'inserted-lower'
          : canReachAlpha
            ? 'no-difference'
            : 'cannot-reach-alpha';
      return {
        ...entry,
        test: 'mann-whitney-u',
        alternative,
        adjustedPValue,
        minimumAdjustedPValue,
        canReachAlpha,
        finding,
      };
    });
    const groupEntries = analysed.filter((entry) => entry.raw.scope === 'group');
    const groupAdjusted = holmAdjust(groupEntries.map((entry) => entry.pValue));
    const adjustedOf = (entry: (typeof analysed)[number]) =>
      entry.raw.scope === 'all-inserted'
        ? primaryAdjusted.get(entry)!
        : entry.raw.scope === 'group'
          ? groupAdjusted[groupEntries.indexOf(entry)]!
          : null;
    const groupMinimum = holmMinimumAdjusted(groupEntries.map((entry) => entry.minimumPValue));
    const minimumAdjustedOf = (entry: (typeof analysed)[number]) =>
      entry.raw.scope === 'all-inserted'
        ? primaryMinimum[primaryEntries.indexOf(entry)]!
        : entry.raw.scope === 'group'
          ? groupMinimum[groupEntries.indexOf(entry)]!
          : entry.minimumPValue;
    const tests: PairedTest[] = analysed.map((entry) => {
      const { raw, wilcoxon } = entry;
      const adjustedPValue = adjustedOf(entry);
      const minimumAdjustedPValue = minimumAdjustedOf(entry);
      const canReachAlpha = minimumAdjustedPValue < alpha;
      const positive = wilcoxon.wPlus > wilcoxon.wMinus;
      let finding: PairedTest['finding'];
      if (raw.scope === 'held-out') {
        // Too few held-out canaries (or too many tied) to reach alpha is not "no difference"; all tied is.
        finding =
          entry.pValue < alpha
            ? positive
              ? 'other-worse-on-held-out'
              : 'other-better-on-held-out'
            : canReachAlpha || wilcoxon.n === 0
              ? 'no-difference'
              : 'cannot-reach-alpha';
      } else if (adjustedPValue! < alpha) {
        finding = positive ? 'other-memorizes-less' : 'other-memorizes-more';
        // Memorization only where the inserted difference also goes beyond the held-out one (the control).
        if (raw.scope === 'all-inserted') {
          const control = beyondHeldOut.find((entry) => entry.score === raw.score)!.finding;
          if (control !== (positive ? 'inserted-higher' : 'inserted-lower')) finding = 'not-beyond-held-out';
        }
      } else {
        finding = canReachAlpha ? 'no-difference' : 'cannot-reach-alpha';
      }
      return {
        scope: raw.scope,
        repetitions: raw.repetitions,
        score: raw.score,
        test: 'wilcoxon-signed-rank',
        alternative: entry.sides,
        pairs: wilcoxon.n + wilcoxon.zeros,
        zeros: wilcoxon.zeros,
        meanDifference: entry.mean,
        medianDifference: entry.median,
        wPlus: wilcoxon.wPlus,
        wMinus: wilcoxon.wMinus,
        pValue: entry.pValue,
        adjustedPValue,
        method: wilcoxon.method,
        rankBiserial: wilcoxon.rankBiserial,
        minimumPValue: entry.minimumPValue,
        minimumAdjustedPValue,
        canReachAlpha,
        finding,
      };
    });
    const groupTests = tests.filter((test) => test.scope === 'group');
    const draft = {
      baseline: baselineName,
      other: otherName,
      primary: tests.filter((test) => test.scope === 'all-inserted'),
      groups: groupTests,
      heldOut: tests.filter((test) => test.scope === 'held-out'),
      beyondHeldOut,
      groupsExcludingZero: groupTests
        // A degenerate bootstrap (1 or 2 canaries, or identical differences: a zero-width interval) "excludes zero" trivially.
        .filter(
          (test) =>
            test.pairs >= MINIMUM_GROUP_FOR_INTERVAL &&
            test.meanDifference.high > test.meanDifference.low &&
            (test.meanDifference.low > 0 || test.meanDifference.high < 0),
        )
        .map((test) => ({ repetitions: test.repetitions!, score: test.score, meanDifference: test.meanDifference })),
    };
    const otherReport = reports[names.indexOf(otherName)]!;
    const saturated = [first, otherReport].every((report) =>
      report.rows.every((row) => row.repetitions === null || row.cer === 0),
    );
    const scoreText = (score: ScoreName) =>
      score === 'cer' ? 'CER' : pairScoreLabel(modelScoreLabel(first.model), modelScoreLabel(otherReport.model));
    const insertedTotal = first.rows.filter((row) => row.repetitions !== null).length;
    let verdict = pairVerdict(
      draft,
      alpha,
      expect,
      confidence,
      primaryEntries.length,
      saturated,
      scoreText,
      insertedTotal,
    );
    const inconclusive = [0, names.indexOf(otherName)]
      .filter((i) => reports[i]!.verdict.status === 'inconclusive')
      .map((i) => names[i]!);
    if (inconclusive.length > 0) {
      verdict += `; caution: the audit of ${inconclusive.join(' and ')} is inconclusive (${reports[names.indexOf(inconclusive[0]!)]!.verdict.inconclusiveReasons[0]!.split(' (')[0]}), so scores compared here may carry no information on memorization`;
    }
    return { ...draft, verdict };
  });

  return {
    schemaVersion: COMPARISON_REPORT_SCHEMA_VERSION,
    kind: 'rote-comparison-report',
    tool: { name: 'rote', version: TOOL_VERSION },
    canarySet: { setId: first.canarySet.setId, canaries: first.canarySet.canaries },
    settings: { alpha, confidence, bootstrapResamples, seed, scoreResolution: { ...SCORE_RESOLUTION }, expect },
    models: reports.map((report, i) => ({
      name: names[i]!,
      reportPath: sources[i]!.path,
      modelDir: report.model.dir,
      modelFingerprint: report.model.fingerprint,
      family: report.model.family,
      scoreLabel: modelScoreLabel(report.model),
      providers: report.providers,
      verdict: report.verdict.sentence,
      verdictStatus: report.verdict.status,
    })),
    groups,
    pairs,
    verdict: pairs.map((pair) => pair.verdict).join(' | '),
  };
}

/** Compares audit reports given as objects or as paths (report.json or the directory holding it). */
export async function compare(
  inputs: (AuditReport | string)[],
  options: CompareOptions = {},
): Promise<ComparisonReport> {
  const sources: ReportSource[] = [];
  for (const [i, input] of inputs.entries()) {
    if (typeof input === 'string') sources.push(await readAuditReport(input));
    else sources.push({ report: validateReport(input, `report ${i + 1}`), path: null });
  }
  const report = compareReports(sources, options);
  validateComparisonReport(report, 'the comparison being written');
  return report;
}

/** The files of a comparison, the only names a folder written by `rote compare` holds. */
const COMPARISON_FILES = { json: 'comparison.json', markdown: 'comparison.md', html: 'comparison.html' } as const;

const COMPARISON_OUTPUT: OutputFolderKind = {
  command: 'rote compare',
  thing: 'comparison',
  entries: new Set(Object.values(COMPARISON_FILES)),
  missing: 'has no comparison.json written by rote',
  async isOurs(dir) {
    try {
      const value = JSON.parse(await readFile(join(dir, COMPARISON_FILES.json), 'utf8')) as { kind?: unknown };
      return value?.kind === 'rote-comparison-report';
    } catch {
      return false;
    }
  },
};

export interface WriteComparisonOptions {
  /** Replace a comparison rote compare wrote at `out` (default false); anything else there is refused. */
  force?: boolean;
}

/**
 * Writes comparison.json, .md and .html as the folder `out` (default COMPARE_OPTION_SPECS' `out`), built in a
 * temporary sibling and renamed into place. An existing non-empty `out` is refused unless `force` and it holds a
 * comparison rote wrote (src/util/output-folder.ts).
 */
export async function writeComparisonReport(
  report: ComparisonReport,
  out?: string,
  options: WriteComparisonOptions = {},
): Promise<{ json: string; markdown: string; html: string }> {
  const dir = resolveOption(COMPARE_OPTION_SPECS, 'out', out)!;
  const force = resolveOption(COMPARE_OPTION_SPECS, 'force', options.force)!;
  const target = resolve(dir);
  await refuseOutputsOnInputs(
    report.models.flatMap((m) => (m.reportPath ? [{ path: m.reportPath, what: 'the audit report' }] : [])),
    [{ path: target, key: 'out', kind: 'folder' }],
  );
  const replacing = await checkOutputFolder(target, force, COMPARISON_OUTPUT);
  await mkdir(dirname(target), { recursive: true });
  const temporary = temporarySibling(target);
  try {
    await mkdir(temporary);
    await writeComparisonFiles(report, temporary);
    await moveIntoPlace(temporary, target, replacing);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw await explainWriteFailure(error, dir, '--out');
  }
  return comparisonPaths(dir);
}

const comparisonPaths = (dir: string) => ({
  json: join(dir, COMPARISON_FILES.json),
  markdown: join(dir, COMPARISON_FILES.markdown),
  html: join(dir, COMPARISON_FILES.html),
});

/** Writes the three comparison files into `dir`, a folder the caller owns (the demo's output); each file atomically. */
export async function writeComparisonFiles(
  report: ComparisonReport,
  dir: string,
): Promise<{ json: string; markdown: string; html: string }> {
  const paths = comparisonPaths(dir);
  await writeFileAtomic(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(paths.markdown, comparisonMarkdown(report));
  await writeFileAtomic(paths.html, comparisonHtml(report));
  return paths;
}
