/**
 * The smallest p-value each test of rote's audit and comparison can reach with
 * a design's group sizes and its multiple-testing correction: a test that
 * cannot go below alpha can never find anything, and must say so rather than
 * report "no difference". Pure arithmetic on sizes; a light module (no
 * statistics tables), so `rote generate` can check a design before any audio
 * is made.
 *
 * - One-sided Mann-Whitney U (audit, inserted group of n1 vs n2 held-out): the
 *   most extreme assignment (all n1 below all n2) has probability 1 / C(n1+n2, n1)
 *   without ties.
 * - Wilcoxon signed-rank on n non-zero paired differences (compare): all signs
 *   the same way, 1 / 2^n one-sided, 2 / 2^n two-sided.
 * - Holm over m tests: the smallest adjusted p-value is m times the smallest raw
 *   one (the first step of the step-down).
 */
import { AUDIT_DEFAULTS } from '../defaults.ts';

/** log(C(n, k)) by summing logs (exact enough for the sizes of canary sets). */
function logChoose(n: number, k: number): number {
  let sum = 0;
  for (let i = 1; i <= k; i++) sum += Math.log(n - k + i) - Math.log(i);
  return sum;
}

/** 1 / C(n1 + n2, n1): the one-sided Mann-Whitney U test's smallest p-value without ties. */
export function mannWhitneyMinimumP(n1: number, n2: number): number {
  return Math.exp(-logChoose(n1 + n2, Math.min(n1, n2)));
}

/** 1 / 2^n one-sided, 2 / 2^n two-sided: the Wilcoxon signed-rank test's smallest p-value on n non-zero differences. */
export function signedRankMinimumP(n: number, twoSided: boolean): number {
  return Math.min(1, (twoSided ? 2 : 1) * 2 ** -n);
}

/** The smallest Holm-adjusted p-value of a family of m tests whose smallest raw p-value is `p`. */
export function holmMinimumP(p: number, m: number): number {
  return Math.min(1, m * p);
}

/** What an audit or comparison of a design can reach; `margin` = alpha / smallest adjusted p (>= 1 needed, more is better). */
export interface DesignReach {
  test: string;
  minimumAdjustedPValue: number;
  alpha: number;
  canReachAlpha: boolean;
  margin: number;
  /** What to change in `rote generate`. */
  remedy: string;
}

export interface DesignSizes {
  /** Canaries per inserted group. */
  perGroup: number;
  /** Inserted groups (repetition counts). */
  groups: number;
  holdout: number;
  /** Scores tested per canary (2 for CTC models: CER and CTC score; 1 otherwise). Default 2, the worst case. */
  scores?: number;
  alpha?: number;
  /** Models compared against the reference (default 1). */
  otherModels?: number;
}

/**
 * The reach of the default audit (per-group one-sided Mann-Whitney, Holm over
 * groups x scores) and the default comparison (primary: one-sided signed-rank
 * over all inserted canaries, Holm over models x scores; secondary: per group,
 * Holm over groups x scores) for a design, assuming no tied differences.
 */
export function designReach(sizes: DesignSizes): DesignReach[] {
  const alpha = sizes.alpha ?? AUDIT_DEFAULTS.alpha;
  const scores = sizes.scores ?? 2;
  const others = sizes.otherModels ?? 1;
  const reach = (test: string, p: number, remedy: string): DesignReach => ({
    test,
    minimumAdjustedPValue: p,
    alpha,
    canReachAlpha: p < alpha,
    margin: alpha / p,
    remedy,
  });
  return [
    reach(
      'audit: per-group Mann-Whitney vs held-out',
      holmMinimumP(mannWhitneyMinimumP(sizes.perGroup, sizes.holdout), sizes.groups * scores),
      'use more canaries per group (--per-group) and held out (--holdout)',
    ),
    reach(
      'compare: pooled paired test (primary)',
      holmMinimumP(signedRankMinimumP(sizes.perGroup * sizes.groups, false), others * scores),
      'use more canaries per group (--per-group)',
    ),
    reach(
      'compare: per-group paired tests (secondary)',
      holmMinimumP(signedRankMinimumP(sizes.perGroup, false), sizes.groups * scores),
      'use more canaries per group (--per-group)',
    ),
  ];
}

/** Warnings for a design: one per test that cannot reach alpha, and one per test whose margin is under `minimumMargin` (default 4). */
export function designWarnings(sizes: DesignSizes, minimumMargin = 4): string[] {
  return designReach(sizes).flatMap((entry) => {
    if (!entry.canReachAlpha) {
      return [
        `${entry.test} can never reach alpha = ${entry.alpha}: its smallest possible Holm-corrected p-value is ${entry.minimumAdjustedPValue.toPrecision(2)}; ${entry.remedy}`,
      ];
    }
    if (entry.margin < minimumMargin) {
      return [
        `${entry.test} can barely reach alpha = ${entry.alpha}: its smallest possible Holm-corrected p-value is ${entry.minimumAdjustedPValue.toPrecision(2)} ` +
          `(only ${entry.margin.toFixed(1)}x below alpha), so a tie or a canary pointing the other way can lose it: ${entry.remedy}`,
      ];
    }
    return [];
  });
}
