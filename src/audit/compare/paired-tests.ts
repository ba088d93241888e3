/**
 * The tests of compare (see compare.ts for the design), in named steps: the paired differences of a pair of
 * models per scope and score (rawDifferences), their effect sizes and Wilcoxon tests (analyse), the control
 * against held-out canaries (controlDrafts), then the Holm families over every pair (pairTests).
 */
import type { SeededRandom } from '../../util/random.ts';
import {
  bootstrapMeanInterval,
  holmAdjust,
  mannWhitneyLess,
  quantileSorted,
  stratifiedBootstrapMeanInterval,
  wilcoxonSignedRank,
  type WilcoxonResult,
} from '../stats/statistics.ts';
import { mannWhitneyMinimumP } from '../stats/power.ts';
import { groupLabel, RANDOM_STREAM } from '../report/labels.ts';
import { hasScore } from '../report/score.ts';
import type {
  AuditReport,
  BeyondHeldOutTest,
  CanaryRow,
  ComparisonPair,
  Interval,
  PairedTest,
  ScoreName,
} from '../report/types.ts';

/**
 * Paired differences smaller than this count as ties (zeros in the Wilcoxon
 * test). CER differences are exact. CTC scores (negative log-likelihood per
 * character) from the same model differ by ~1e-5 between inference engines,
 * providers and thread counts (ONNX Runtime vs PyTorch agreed to 2e-5 on the
 * reference models), so two models that both fit a canary perfectly would
 * otherwise "differ" significantly by rounding noise alone.
 */
export const SCORE_RESOLUTION: Record<ScoreName, number> = { cer: 0, modelScore: 1e-3 };

/** Groups with fewer canaries than this are not listed as "interval excludes zero" (their bootstrap is degenerate). */
const MINIMUM_GROUP_FOR_INTERVAL = 3;

/** What every pair is tested with. */
export interface PairSettings {
  alpha: number;
  confidence: number;
  bootstrapResamples: number;
  alternative: PairedTest['alternative'];
  random: SeededRandom;
}

/** The differences other - baseline of one scope and score, with each canary's group (the bootstrap's strata). */
interface RawDifferences {
  scope: PairedTest['scope'];
  repetitions: number | null;
  score: ScoreName;
  differences: Float64Array;
  strata: (number | null)[];
}

interface Analysed {
  raw: RawDifferences;
  mean: Interval;
  median: number;
  wilcoxon: WilcoxonResult;
  sides: PairedTest['alternative'];
  pValue: number;
  minimumPValue: number;
}

type ControlDraft = Omit<
  BeyondHeldOutTest,
  'test' | 'alternative' | 'adjustedPValue' | 'minimumAdjustedPValue' | 'canReachAlpha' | 'finding'
>;

/** One pair's tests before the Holm corrections that span every pair. */
export interface PairDraft {
  baselineName: string;
  otherName: string;
  analysed: Analysed[];
  control: ControlDraft[];
}

const scoreValue = (row: CanaryRow, score: ScoreName) => (score === 'cer' ? row.cer : row.modelScore!);

/**
 * The paired differences of every scope (all inserted, each group, held-out) and score, each on the canaries
 * that have the score in both models (rows of both reports are in the same canary order). A score is
 * compared when both models have it on some inserted and some held-out canaries.
 */
function rawDifferences(first: AuditReport, other: AuditReport): RawDifferences[] {
  const insertedCounts = first.groups.map((group) => group.repetitions).filter((r): r is number => r !== null);
  const paired = (index: number, score: ScoreName) =>
    hasScore(first.rows[index]!, score) && hasScore(other.rows[index]!, score);
  const differencesOf = (rows: number[], score: ScoreName): Float64Array =>
    Float64Array.from(rows, (index) => {
      const a = scoreValue(first.rows[index]!, score);
      const b = scoreValue(other.rows[index]!, score);
      // Snapped to 1e-12 so that equal differences compare equal (0.4 - 0.2 and 0.3 - 0.1 differ in the last bit).
      return Math.abs(b - a) < SCORE_RESOLUTION[score] ? 0 : Math.round((b - a) * 1e12) / 1e12;
    });
  const indicesOf = (keep: (row: CanaryRow) => boolean, score: ScoreName) =>
    first.rows.flatMap((row, index) => (keep(row) && paired(index, score) ? [index] : []));
  const scores = (['cer', 'modelScore'] as const).filter(
    (score) =>
      indicesOf((row) => row.repetitions !== null, score).length > 0 &&
      indicesOf((row) => row.repetitions === null, score).length > 0,
  );
  const raws: RawDifferences[] = [];
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
  return raws;
}

/** Effect size (bootstrap mean interval, median) and the Wilcoxon signed-rank test of each set of differences. */
function analyse(raws: RawDifferences[], pairName: string, settings: PairSettings): Analysed[] {
  return raws.map((raw) => {
    const label = raw.scope === 'all-inserted' ? 'all inserted' : groupLabel(raw.repetitions);
    const fork = settings.random.fork(`${pairName}/${label}/${RANDOM_STREAM[raw.score]}`);
    const bootstrap = { resamples: settings.bootstrapResamples, confidence: settings.confidence };
    const mean =
      raw.scope === 'all-inserted'
        ? stratifiedBootstrapMeanInterval(raw.differences, raw.strata, fork, bootstrap)
        : bootstrapMeanInterval(raw.differences, fork, bootstrap);
    const sorted = Float64Array.from(raw.differences).sort();
    const wilcoxon = wilcoxonSignedRank(raw.differences);
    const sides = raw.scope === 'held-out' ? 'two-sided' : settings.alternative;
    const pValue = sides === 'greater' ? wilcoxon.pGreater : sides === 'less' ? wilcoxon.pLess : wilcoxon.pTwoSided;
    const minimumPValue = Math.min(1, (sides === 'two-sided' ? 2 : 1) * wilcoxon.minimumPOneSided);
    return { raw, mean, median: quantileSorted(sorted, 0.5), wilcoxon, sides, pValue, minimumPValue };
  });
}

/** The control: inserted differences against held-out differences (difference in differences), per score. */
function controlDrafts(raws: RawDifferences[], alternative: PairedTest['alternative']): ControlDraft[] {
  const meanOf = (values: Float64Array) => values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);
  const scores = raws.filter((raw) => raw.scope === 'all-inserted').map((raw) => raw.score);
  return scores.map((score) => {
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
}

/** One pair's differences, tests and control, before the Holm corrections. */
export function pairDraft(
  first: AuditReport,
  other: AuditReport,
  baselineName: string,
  otherName: string,
  settings: PairSettings,
): PairDraft {
  const raws = rawDifferences(first, other);
  return {
    baselineName,
    otherName,
    analysed: analyse(raws, `${otherName}-${baselineName}`, settings),
    control: controlDrafts(raws, settings.alternative),
  };
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

/** A Holm family: each member's adjusted p-value and the smallest it could reach. */
function holmFamily<T>(members: T[], pValue: (member: T) => number, minimum: (member: T) => number) {
  const adjusted = holmAdjust(members.map(pValue));
  const minima = holmMinimumAdjusted(members.map(minimum));
  return {
    adjusted: (member: T) => adjusted[members.indexOf(member)]!,
    minimum: (member: T) => minima[members.indexOf(member)]!,
  };
}

/** The control tests of one pair, Holm-corrected over every pair's controls. */
function controlTests(
  draft: PairDraft,
  family: ReturnType<typeof holmFamily<ControlDraft>>,
  alpha: number,
  alternative: PairedTest['alternative'],
): BeyondHeldOutTest[] {
  return draft.control.map((entry) => {
    const adjustedPValue = family.adjusted(entry);
    const minimumAdjustedPValue = family.minimum(entry);
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
}

/** What a paired test found, from its p-values and, for the primary test, the control. */
function pairedFinding(
  entry: Analysed,
  adjustedPValue: number | null,
  canReachAlpha: boolean,
  alpha: number,
  control: BeyondHeldOutTest[],
): PairedTest['finding'] {
  const { raw, wilcoxon } = entry;
  const positive = wilcoxon.wPlus > wilcoxon.wMinus;
  if (raw.scope === 'held-out') {
    // Too few held-out canaries (or too many tied) to reach alpha is not "no difference"; all tied is.
    if (entry.pValue < alpha) return positive ? 'other-worse-on-held-out' : 'other-better-on-held-out';
    return canReachAlpha || wilcoxon.n === 0 ? 'no-difference' : 'cannot-reach-alpha';
  }
  if (adjustedPValue! < alpha) {
    // Memorization only where the inserted difference also goes beyond the held-out one (the control).
    if (raw.scope === 'all-inserted') {
      const found = control.find((test) => test.score === raw.score)!.finding;
      if (found !== (positive ? 'inserted-higher' : 'inserted-lower')) return 'not-beyond-held-out';
    }
    return positive ? 'other-memorizes-less' : 'other-memorizes-more';
  }
  return canReachAlpha ? 'no-difference' : 'cannot-reach-alpha';
}

/**
 * Every pair's tests with their Holm corrections: the primary tests of every pair form one family, the
 * controls of every pair another, each pair's group tests a family of their own; held-out tests are
 * uncorrected context.
 */
export function pairTests(drafts: PairDraft[], settings: PairSettings): Omit<ComparisonPair, 'verdict'>[] {
  const { alpha, alternative } = settings;
  const primaryEntries = drafts.flatMap((draft) =>
    draft.analysed.filter((entry) => entry.raw.scope === 'all-inserted'),
  );
  const primaryFamily = holmFamily(
    primaryEntries,
    (entry) => entry.pValue,
    (entry) => entry.minimumPValue,
  );
  const controlFamily = holmFamily(
    drafts.flatMap((draft) => draft.control),
    (entry) => entry.pValue,
    (entry) => entry.minimumPValue,
  );
  return drafts.map((draft) => {
    const beyondHeldOut = controlTests(draft, controlFamily, alpha, alternative);
    const groupFamily = holmFamily(
      draft.analysed.filter((entry) => entry.raw.scope === 'group'),
      (entry) => entry.pValue,
      (entry) => entry.minimumPValue,
    );
    const tests: PairedTest[] = draft.analysed.map((entry) => {
      const { raw, wilcoxon } = entry;
      const family = raw.scope === 'all-inserted' ? primaryFamily : raw.scope === 'group' ? groupFamily : null;
      const adjustedPValue = family ? family.adjusted(entry) : null;
      const minimumAdjustedPValue = family ? family.minimum(entry) : entry.minimumPValue;
      const canReachAlpha = minimumAdjustedPValue < alpha;
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
        finding: pairedFinding(entry, adjustedPValue, canReachAlpha, alpha, beyondHeldOut),
      };
    });
    const groupTests = tests.filter((test) => test.scope === 'group');
    return {
      baseline: draft.baselineName,
      other: draft.otherName,
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
  });
}
