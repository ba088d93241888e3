/**
 * Tests and intervals for the audit: numbers in, numbers out.
 *
 * Exact null distributions are counted by dynamic programming over doubled
 * mid-ranks (integers even with ties), so "exact" means the permutation
 * distribution conditional on the observed ties. Large samples fall back to the
 * normal approximation with tie and continuity (0.5) corrections, as scipy does.
 */
import { normalCdf, normalQuantile } from './normal.ts';
import type { SeededRandom } from '../../util/random.ts';

/** Mid-ranks (1-based, ties get their average rank) and the tie-group sizes. */
export function midRanks(values: ArrayLike<number>): { ranks: Float64Array; tieSizes: number[] } {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(n);
  const tieSizes: number[] = [];
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && values[order[end]!] === values[order[start]!]) end++;
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]!] = rank;
    tieSizes.push(end - start);
    start = end;
  }
  return { ranks, tieSizes };
}

function checkFinite(values: ArrayLike<number>, name: string): void {
  for (let i = 0; i < values.length; i++)
    if (!Number.isFinite(values[i]!)) throw new RangeError(`${name}: value ${i} is not finite (${values[i]})`);
}

export type TestMethod = 'exact' | 'normal';

export interface MannWhitneyResult {
  /** #pairs with x < y plus half the tied pairs: large when x is smaller. */
  u: number;
  n1: number;
  n2: number;
  /** One-sided P(U >= u) under H0 (x and y exchangeable), for H1: x tends to be smaller than y. */
  pValue: number;
  method: TestMethod;
  ties: boolean;
  /** The smallest p-value these sample sizes and ties can give (the most extreme assignment). */
  minimumPValue: number;
  /** 2U / (n1 n2) - 1, in [-1, 1]; 1 when every x is below every y. */
  rankBiserial: number;
  /** U / (n1 n2): probability a random x is below a random y (ties half). */
  commonLanguage: number;
}

export interface ExactLimitOptions {
  /** Largest dynamic-programming work (cells) for which the exact distribution is used. Default 5e7. */
  exactWorkLimit?: number;
}

/**
 * One-sided Mann-Whitney U test of H1: x is stochastically smaller than y
 * (for the audit: inserted canaries' CER below held-out ones).
 */
/**
 * Counts of the doubled rank sums of all size-`size` subsets of `doubled` (0..maxSum). It depends only on the
 * multiset of ranks, so it is kept per tie pattern: audits of one canary design (a trajectory's checkpoints, the
 * demo's models) test the same group sizes over and over, and without ties the ranks are always 1..n.
 */
function rankSumDistribution(doubled: number[], size: number, maxSum: number): Float64Array {
  // Summed in rank order whatever the samples' order, so that a kept distribution is the one a fresh call computes.
  const sorted = [...doubled].sort((a, b) => a - b);
  const key = `${size} ${sorted.join(',')}`;
  const known = RANK_SUM_DISTRIBUTIONS.get(key);
  if (known) return known;
  const n = sorted.length;
  const counts = Array.from({ length: size + 1 }, () => new Float64Array(maxSum + 1));
  counts[0]![0] = 1;
  let reach = 0; // the largest sum any subset of the items so far reaches
  for (let item = 0; item < n; item++) {
    const value = sorted[item]!;
    reach = Math.min(maxSum, reach + value);
    for (let k = Math.min(item + 1, size); k >= 1; k--) {
      const from = counts[k - 1]!;
      const to = counts[k]!;
      for (let s = Math.min(maxSum, reach) - value; s >= 0; s--) if (from[s] !== 0) to[s + value]! += from[s]!;
    }
  }
  const distribution = counts[size]!;
  if (RANK_SUM_DISTRIBUTIONS.size >= 256) RANK_SUM_DISTRIBUTIONS.delete(RANK_SUM_DISTRIBUTIONS.keys().next().value!);
  RANK_SUM_DISTRIBUTIONS.set(key, distribution);
  return distribution;
}

const RANK_SUM_DISTRIBUTIONS = new Map<string, Float64Array>();

export function mannWhitneyLess(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  options: ExactLimitOptions = {},
): MannWhitneyResult {
  checkFinite(x, 'mannWhitneyLess x');
  checkFinite(y, 'mannWhitneyLess y');
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError(`mannWhitneyLess: both samples need values (got ${n1} and ${n2})`);
  const pooled = [...Array.from(x), ...Array.from(y)];
  const n = n1 + n2;
  const { ranks, tieSizes } = midRanks(pooled);
  const doubled = Array.from(ranks, (rank) => Math.round(2 * rank));
  let doubledRankSum = 0;
  for (let i = 0; i < n1; i++) doubledRankSum += doubled[i]!;
  const u = n1 * n2 + (n1 * (n1 + 1)) / 2 - doubledRankSum / 2;
  const ties = tieSizes.some((size) => size > 1);
  const effect = { rankBiserial: (2 * u) / (n1 * n2) - 1, commonLanguage: u / (n1 * n2) };

  const small = Math.min(n1, n2);
  const maxSum = 2 * n * small;
  const work = n * small * maxSum;
  if (work <= (options.exactWorkLimit ?? 5e7)) {
    // Distribution of the doubled rank sum of a random subset of size n1 (or of its complement).
    const useFirst = n1 <= n2;
    const size = useFirst ? n1 : n2;
    const distribution = rankSumDistribution(doubled, size, maxSum);
    let total = 0;
    for (let s = 0; s <= maxSum; s++) total += distribution[s]!;
    // x smaller <=> x's rank sum small <=> (if counting y's subset) y's rank sum large.
    const observed = useFirst ? doubledRankSum : n * (n + 1) - doubledRankSum;
    let tail = 0;
    let extreme = 0;
    if (useFirst) {
      for (let s = 0; s <= observed; s++) tail += distribution[s]!;
      for (let s = 0; s <= maxSum; s++)
        if (distribution[s]! > 0) {
          extreme = distribution[s]!;
          break;
        }
    } else {
      for (let s = observed; s <= maxSum; s++) tail += distribution[s]!;
      for (let s = maxSum; s >= 0; s--)
        if (distribution[s]! > 0) {
          extreme = distribution[s]!;
          break;
        }
    }
    return {
      u,
      n1,
      n2,
      pValue: Math.min(1, tail / total),
      method: 'exact',
      ties,
      minimumPValue: extreme / total,
      ...effect,
    };
  }

  const mean = (n1 * n2) / 2;
  const tieTerm = tieSizes.reduce((sum, t) => sum + (t * t * t - t), 0) / (n * (n - 1));
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm);
  const sd = Math.sqrt(variance);
  const pValue = sd > 0 ? normalCdf(-(u - mean - 0.5) / sd) : 1;
  const minimumPValue = sd > 0 ? normalCdf(-(n1 * n2 - mean - 0.5) / sd) : 1;
  return { u, n1, n2, pValue: Math.min(1, pValue), method: 'normal', ties, minimumPValue, ...effect };
}

export interface WilcoxonResult {
  /** Pairs with a non-zero difference (zeros are dropped, Wilcoxon's original convention). */
  n: number;
  zeros: number;
  /** Sum of the ranks of |d| over positive differences. */
  wPlus: number;
  wMinus: number;
  /** H1: differences tend to be positive. */
  pGreater: number;
  /** H1: differences tend to be negative. */
  pLess: number;
  pTwoSided: number;
  method: TestMethod;
  ties: boolean;
  /** (W+ - W-) / (W+ + W-), in [-1, 1]: the matched-pairs rank-biserial correlation. */
  rankBiserial: number;
  /**
   * The smallest one-sided p-value these pairs can give (every sign the same way):
   * 1 / 2^n exactly, whatever the ties among |d|; double it for the two-sided test.
   */
  minimumPOneSided: number;
}

/** Wilcoxon signed-rank test on paired differences d = b - a. */
export function wilcoxonSignedRank(
  differences: ArrayLike<number>,
  options: { exactLimit?: number } = {},
): WilcoxonResult {
  checkFinite(differences, 'wilcoxonSignedRank');
  const nonZero = Array.from(differences).filter((d) => d !== 0);
  const zeros = differences.length - nonZero.length;
  const n = nonZero.length;
  if (n === 0)
    return {
      n,
      zeros,
      wPlus: 0,
      wMinus: 0,
      pGreater: 1,
      pLess: 1,
      pTwoSided: 1,
      method: 'exact',
      ties: false,
      rankBiserial: 0,
      minimumPOneSided: 1,
    };
  const { ranks, tieSizes } = midRanks(nonZero.map(Math.abs));
  const doubled = Array.from(ranks, (rank) => Math.round(2 * rank));
  let doubledPlus = 0;
  for (let i = 0; i < n; i++) if (nonZero[i]! > 0) doubledPlus += doubled[i]!;
  const doubledTotal = n * (n + 1);
  const wPlus = doubledPlus / 2;
  const wMinus = (doubledTotal - doubledPlus) / 2;
  const ties = tieSizes.some((size) => size > 1);
  const rankBiserial = (wPlus - wMinus) / (wPlus + wMinus);

  if (n <= (options.exactLimit ?? 400)) {
    // Each |d| carries a + or - sign with probability 1/2: distribution of the doubled W+.
    let distribution = new Float64Array(doubledTotal + 1);
    distribution[0] = 1;
    let reach = 0;
    for (const value of doubled) {
      const next = new Float64Array(doubledTotal + 1);
      for (let s = 0; s <= reach; s++) {
        const count = distribution[s]!;
        if (count === 0) continue;
        next[s]! += count;
        next[s + value]! += count;
      }
      reach += value;
      distribution = next;
    }
    let total = 0;
    let atMost = 0;
    let atLeast = 0;
    for (let s = 0; s <= doubledTotal; s++) {
      total += distribution[s]!;
      if (s <= doubledPlus) atMost += distribution[s]!;
      if (s >= doubledPlus) atLeast += distribution[s]!;
    }
    const pGreater = atLeast / total;
    const pLess = atMost / total;
    const minimumPOneSided = distribution[doubledTotal]! / total;
    return {
      n,
      zeros,
      wPlus,
      wMinus,
      pGreater,
      pLess,
      pTwoSided: Math.min(1, 2 * Math.min(pGreater, pLess)),
      method: 'exact',
      ties,
      rankBiserial,
      minimumPOneSided,
    };
  }

  const mean = (n * (n + 1)) / 4;
  const variance = (n * (n + 1) * (2 * n + 1)) / 24 - tieSizes.reduce((sum, t) => sum + (t * t * t - t), 0) / 48;
  const sd = Math.sqrt(variance);
  const pGreater = normalCdf(-(wPlus - mean - 0.5) / sd);
  const pLess = normalCdf((wPlus - mean + 0.5) / sd);
  const minimumPOneSided = Math.min(1, normalCdf(-((n * (n + 1)) / 2 - mean - 0.5) / sd));
  return {
    n,
    zeros,
    wPlus,
    wMinus,
    pGreater: Math.min(1, pGreater),
    pLess: Math.min(1, pLess),
    pTwoSided: Math.min(1, 2 * Math.min(pGreater, pLess)),
    method: 'normal',
    ties,
    rankBiserial,
    minimumPOneSided,
  };
}

/** Holm's step-down adjusted p-values, in the input order. */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p || a.i - b.i);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, k) => {
    running = Math.max(running, Math.min(1, (m - k) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

/** Wilson score interval for a binomial proportion. */
export function wilsonInterval(successes: number, trials: number, confidence = 0.95): Interval {
  if (!Number.isInteger(successes) || !Number.isInteger(trials) || trials <= 0 || successes < 0 || successes > trials) {
    throw new RangeError(`wilsonInterval(${successes}, ${trials}): need integers 0 <= successes <= trials, trials > 0`);
  }
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = successes / trials;
  const z2n = (z * z) / trials;
  const center = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / trials + (z * z) / (4 * trials * trials));
  return { estimate: p, low: Math.max(0, center - half), high: Math.min(1, center + half) };
}

/** Sample quantile with linear interpolation (R type 7) of ascending values. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below]! + (position - below) * (sorted[above]! - sorted[below]!);
}

export interface BootstrapOptions {
  resamples?: number;
  confidence?: number;
}

/** Percentile-bootstrap interval for the mean; draws come from `random` only. */
export function bootstrapMeanInterval(
  values: ArrayLike<number>,
  random: SeededRandom,
  options: BootstrapOptions = {},
): Interval {
  checkFinite(values, 'bootstrapMeanInterval');
  const n = values.length;
  if (n === 0) throw new RangeError('bootstrapMeanInterval: no values');
  const resamples = options.resamples ?? 2000;
  const confidence = options.confidence ?? 0.95;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const mean = sum / n;
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let total = 0;
    for (let i = 0; i < n; i++) total += values[random.nextInt(n)]!;
    means[b] = total / n;
  }
  means.sort();
  return {
    estimate: mean,
    low: quantileSorted(means, (1 - confidence) / 2),
    high: quantileSorted(means, 1 - (1 - confidence) / 2),
  };
}

export interface PairedDifference {
  /** Mean of b - a with its percentile-bootstrap interval (pairs resampled). */
  mean: Interval;
  median: number;
  wilcoxon: WilcoxonResult;
}

/** Paired comparison of b against a (same items, same order): d = b - a. */
export function pairedDifference(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  random: SeededRandom,
  options: BootstrapOptions & { exactLimit?: number } = {},
): PairedDifference {
  if (a.length !== b.length)
    throw new RangeError(`pairedDifference: ${a.length} values against ${b.length}; pairs must line up`);
  const differences = Float64Array.from({ length: a.length }, (_, i) => b[i]! - a[i]!);
  const sorted = Float64Array.from(differences).sort();
  return {
    mean: bootstrapMeanInterval(differences, random, options),
    median: quantileSorted(sorted, 0.5),
    wilcoxon: wilcoxonSignedRank(differences, options),
  };
}

/**
 * Percentile-bootstrap interval for the mean over all values when they come in
 * strata (repetition groups): each resample draws within every stratum as many
 * values as it holds, so every resample keeps the design's group sizes.
 */
export function stratifiedBootstrapMeanInterval(
  values: ArrayLike<number>,
  strata: ArrayLike<number | string | null>,
  random: SeededRandom,
  options: BootstrapOptions = {},
): Interval {
  checkFinite(values, 'stratifiedBootstrapMeanInterval');
  const n = values.length;
  if (n === 0) throw new RangeError('stratifiedBootstrapMeanInterval: no values');
  if (strata.length !== n)
    throw new RangeError(`stratifiedBootstrapMeanInterval: ${n} values but ${strata.length} strata labels`);
  const resamples = options.resamples ?? 2000;
  const confidence = options.confidence ?? 0.95;
  const members = new Map<number | string | null, number[]>();
  for (let i = 0; i < n; i++) {
    const list = members.get(strata[i]!) ?? [];
    list.push(values[i]!);
    members.set(strata[i]!, list);
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const groups = [...members.values()];
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let total = 0;
    for (const group of groups) for (let i = 0; i < group.length; i++) total += group[random.nextInt(group.length)]!;
    means[b] = total / n;
  }
  means.sort();
  return {
    estimate: sum / n,
    low: quantileSorted(means, (1 - confidence) / 2),
    high: quantileSorted(means, 1 - (1 - confidence) / 2),
  };
}
