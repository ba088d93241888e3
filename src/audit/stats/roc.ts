/**
 * Membership inference as a classifier: inserted canaries (positives) against
 * held-out ones (negatives), by a score where higher means "more likely trained
 * on". The ROC curve, its area, and the true-positive rate at a fixed
 * false-positive rate, each with a percentile-bootstrap interval.
 *
 * Rule: a canary is called "in" when its score is at least the threshold.
 * - ROC vertices: one per distinct score, from (0, 0) to (1, 1); tied scores of
 *   both kinds move the curve diagonally.
 * - AUC: P(positive > negative) + P(tie) / 2 (= the trapezoid area of the curve;
 *   = the Mann-Whitney common-language effect size).
 * - TPR at FPR f: the largest TPR of a threshold that lets at most
 *   floor(f * negatives) held-out canaries through (no randomized thresholds, no
 *   interpolation). When floor(f * negatives) is 0 the rate cannot be resolved:
 *   every threshold above all held-out canaries has FPR 0 on this sample, which
 *   says nothing about FPR f; the figure is then null, not a number.
 * - Intervals: percentile bootstrap, positives and negatives resampled
 *   separately (their counts fixed), the threshold re-chosen in every resample,
 *   so a TPR interval includes the uncertainty of where the f-FPR threshold
 *   lies. With few held-out canaries the threshold rests on the top few of them
 *   and the interval is wide; with every positive above every negative the
 *   bootstrap collapses to [1, 1], which is a limit of the sample, not certainty.
 */
import type { SeededRandom } from '../../util/random.ts';
import { quantileSorted, type Interval } from './statistics.ts';

export interface RocCurve {
  fpr: number[];
  tpr: number[];
}

function descending(values: ArrayLike<number>): Float64Array {
  const sorted = Float64Array.from(values as ArrayLike<number>);
  for (let i = 0; i < sorted.length; i++) if (Number.isNaN(sorted[i]!)) throw new RangeError(`roc: score ${i} is NaN`);
  return sorted.sort().reverse();
}

function checkSizes(positives: ArrayLike<number>, negatives: ArrayLike<number>): void {
  if (positives.length === 0 || negatives.length === 0)
    throw new RangeError(
      `roc: both classes need scores (got ${positives.length} positives and ${negatives.length} negatives)`,
    );
}

/** ROC vertices (FPR ascending). */
export function rocCurve(positives: ArrayLike<number>, negatives: ArrayLike<number>): RocCurve {
  checkSizes(positives, negatives);
  const p = descending(positives);
  const n = descending(negatives);
  const fpr = [0];
  const tpr = [0];
  let i = 0;
  let j = 0;
  while (i < p.length || j < n.length) {
    const threshold = Math.max(i < p.length ? p[i]! : -Infinity, j < n.length ? n[j]! : -Infinity);
    while (i < p.length && p[i]! >= threshold) i++;
    while (j < n.length && n[j]! >= threshold) j++;
    fpr.push(j / n.length);
    tpr.push(i / p.length);
  }
  return { fpr, tpr };
}

/** AUC of descending-sorted scores. */
function aucSorted(p: Float64Array, n: Float64Array): number {
  // Walk ascending: for each positive, count negatives below it and tied with it.
  let below = 0;
  let total = 0;
  let j = n.length - 1;
  for (let i = p.length - 1; i >= 0; i--) {
    const value = p[i]!;
    while (j >= 0 && n[j]! < value) {
      below++;
      j--;
    }
    let ties = 0;
    for (let k = j; k >= 0 && n[k]! === value; k--) ties++;
    total += below + ties / 2;
  }
  return total / (p.length * n.length);
}

export function rocAuc(positives: ArrayLike<number>, negatives: ArrayLike<number>): number {
  checkSizes(positives, negatives);
  return aucSorted(descending(positives), descending(negatives));
}

/** False positives a threshold may let through at FPR f with this many negatives (0: the rate is not resolvable). */
export function allowedFalsePositives(fpr: number, negatives: number): number {
  return Math.floor(fpr * negatives + 1e-9);
}

/** TPR of descending-sorted scores at most `allowed` negatives through (allowed >= 1). */
function tprSorted(p: Float64Array, n: Float64Array, allowed: number): number {
  if (allowed >= n.length) return 1;
  // Threshold just above the (allowed + 1)-th highest negative.
  const bar = n[allowed]!;
  let count = 0;
  while (count < p.length && p[count]! > bar) count++;
  return count / p.length;
}

export function tprAtFpr(positives: ArrayLike<number>, negatives: ArrayLike<number>, fpr: number): number | null {
  checkSizes(positives, negatives);
  const allowed = allowedFalsePositives(fpr, negatives.length);
  if (allowed < 1) return null;
  return tprSorted(descending(positives), descending(negatives), allowed);
}

export interface TprAtFprResult {
  fpr: number;
  /** Held-out canaries the threshold may let through: floor(fpr * held-out). */
  allowedFalsePositives: number;
  /** Null when allowedFalsePositives is 0 (see note). */
  tpr: Interval | null;
  note: string | null;
}

export interface MembershipInferenceResult {
  positives: number;
  negatives: number;
  curve: RocCurve;
  auc: Interval;
  tprAtFpr: TprAtFprResult[];
}

/** The curve, AUC and TPR at each FPR, with percentile-bootstrap intervals drawn from `random` only. */
/**
 * One bootstrap resample of `sorted` (descending) into `out`, itself descending: the draws are counted per index
 * and written back in index order, which is the sorted resample without a sort (same draws, same result).
 */
function resampleDescending(sorted: Float64Array, counts: Int32Array, out: Float64Array, random: SeededRandom): void {
  counts.fill(0);
  for (let i = 0; i < sorted.length; i++) counts[random.nextInt(sorted.length)]!++;
  let at = 0;
  for (let j = 0; j < sorted.length; j++) for (let c = counts[j]!; c > 0; c--) out[at++] = sorted[j]!;
}

export function membershipInference(
  positives: ArrayLike<number>,
  negatives: ArrayLike<number>,
  random: SeededRandom,
  options: { fprs: readonly number[]; resamples: number; confidence: number },
): MembershipInferenceResult {
  checkSizes(positives, negatives);
  const p = descending(positives);
  const n = descending(negatives);
  const allowed = options.fprs.map((fpr) => allowedFalsePositives(fpr, n.length));
  const aucs = new Float64Array(options.resamples);
  const tprs = options.fprs.map(() => new Float64Array(options.resamples));
  const rp = new Float64Array(p.length);
  const rn = new Float64Array(n.length);
  const pCounts = new Int32Array(p.length);
  const nCounts = new Int32Array(n.length);
  for (let b = 0; b < options.resamples; b++) {
    resampleDescending(p, pCounts, rp, random);
    resampleDescending(n, nCounts, rn, random);
    aucs[b] = aucSorted(rp, rn);
    allowed.forEach((a, k) => {
      if (a >= 1) tprs[k]![b] = tprSorted(rp, rn, a);
    });
  }
  const interval = (estimate: number, draws: Float64Array): Interval => {
    draws.sort();
    return {
      estimate,
      low: quantileSorted(draws, (1 - options.confidence) / 2),
      high: quantileSorted(draws, 1 - (1 - options.confidence) / 2),
    };
  };
  return {
    positives: p.length,
    negatives: n.length,
    curve: rocCurve(p, n),
    auc: interval(aucSorted(p, n), aucs),
    tprAtFpr: options.fprs.map((fpr, k) => {
      const a = allowed[k]!;
      if (a < 1) {
        return {
          fpr,
          allowedFalsePositives: 0,
          tpr: null,
          note: `not resolvable: ${n.length} held-out canaries cannot measure a false-positive rate of ${fpr * 100}% (it needs at least ${Math.ceil(1 / fpr - 1e-9)}, and many more for a tight interval)`,
        };
      }
      return {
        fpr,
        allowedFalsePositives: a,
        tpr: interval(tprSorted(p, n, a), tprs[k]!),
        note: a < 5 ? `the threshold rests on the top ${a + 1} held-out scores: coarse, the interval is wide` : null,
      };
    }),
  };
}
