/**
 * The privacy auditor's figures of an audit report: membership inference (ROC,
 * AUC, TPR at low FPR; roc.ts) per group and pooled, and the one-run ε lower
 * bound (epsilon.ts) of a --membership bernoulli set. Rows in, report fields out.
 */
import type { SeededRandom } from '../../util/random.ts';
import { hasScore } from '../report/score.ts';
import { maximumOneRunEpsilon, oneRunAudit } from '../stats/epsilon.ts';
import { membershipInference } from '../stats/roc.ts';
import type {
  CanaryRow,
  EpsilonAudit,
  MembershipInferenceGroup,
  MembershipInferenceSummary,
  ScoreName,
} from '../report/types.ts';

/** The false-positive rates at which the report gives the true-positive rate. */
export const MEMBERSHIP_FPRS: readonly number[] = [0.001, 0.01, 0.1];

export const MEMBERSHIP_METHOD =
  'Inserted canaries are the positives, held-out canaries the negatives; a canary is called "in" when its score is at least a threshold. ' +
  'AUC = P(inserted scores higher than held-out) + P(tie)/2. TPR at FPR f: the largest TPR of a threshold that lets at most floor(f x held-out) held-out canaries through; ' +
  'where that is 0 the held-out group is too small to measure FPR f and no number is given. ' +
  'Intervals: percentile bootstrap, inserted and held-out canaries resampled separately and the threshold re-chosen in every resample, so they include the uncertainty of where the threshold lies; ' +
  'with few held-out canaries a low-FPR threshold rests on the top few of them and its interval is wide, and when every inserted canary outscores every held-out one the bootstrap collapses to [1, 1] (a limit of the sample, not certainty).';

/**
 * The rows that have `score` and their membership scores, higher = "in": the model's log-likelihood per
 * character, or -CER. Rows without the score take no part (the report's score coverage says how many).
 * Without `score` (the rote/audit API before score coverage): the model score where every row has it, else CER.
 */
export function membershipScores(
  all: readonly CanaryRow[],
  score: ScoreName = all.length > 0 && all.every((row) => hasScore(row, 'modelScore')) ? 'modelScore' : 'cer',
): { score: ScoreName; rows: CanaryRow[]; values: Float64Array } {
  const rows = all.filter((row) => hasScore(row, score));
  return {
    score,
    rows,
    values: Float64Array.from(rows, (row) => (score === 'modelScore' ? -row.modelScore! : -row.cer)),
  };
}

export function membershipInferenceSummary(
  all: readonly CanaryRow[],
  score: ScoreName,
  random: SeededRandom,
  options: { resamples: number; confidence: number; label: (repetitions: number | null) => string },
): MembershipInferenceSummary {
  const { rows, values } = membershipScores(all, score);
  const negatives = rows.flatMap((row, i) => (row.repetitions === null ? [values[i]!] : []));
  const repetitionCounts = [
    ...new Set(rows.filter((row) => row.repetitions !== null).map((row) => row.repetitions!)),
  ].sort((a, b) => a - b);
  const keys: (number | null)[] = repetitionCounts.length > 1 ? [null, ...repetitionCounts] : [null];
  const groups: MembershipInferenceGroup[] = keys.map((repetitions) => {
    const positives = rows.flatMap((row, i) =>
      row.repetitions !== null && (repetitions === null || row.repetitions === repetitions) ? [values[i]!] : [],
    );
    const label = repetitions === null ? 'all inserted' : options.label(repetitions);
    const result = membershipInference(positives, negatives, random.fork(`membership/${label}`), {
      fprs: MEMBERSHIP_FPRS,
      resamples: options.resamples,
      confidence: options.confidence,
    });
    return { repetitions, label, ...result };
  });
  return { score, method: MEMBERSHIP_METHOD, groups };
}

function percent(confidence: number): string {
  return `${+(confidence * 100).toFixed(2)}%`;
}

/**
 * The one-run audit of a bernoulli set: every canary is a candidate, the
 * trained-on ones (repetitions 1) are the members.
 */
export function epsilonAudit(
  all: readonly CanaryRow[],
  score: ScoreName,
  options: { delta: number; confidence: number; scoreLabel: string },
): EpsilonAudit {
  const { rows, values } = membershipScores(all, score);
  const included = rows.map((row) => row.repetitions !== null);
  const result = oneRunAudit(values, included, options);
  // The most this design can show: every guess right, ties included (a tie extends a guess of k+ to r > k+).
  const maximum = maximumOneRunEpsilon(
    rows.length,
    result.included,
    options.delta,
    result.significancePerGuess,
    result.grid.map((row) => row.guesses),
  );
  const scoreText =
    score === 'modelScore'
      ? `${options.scoreLabel} (log-likelihood per character)${rows.length < all.length ? `, the ${rows.length} of ${all.length} canaries that have it` : ''}`
      : 'CER (lower = in)';
  const level = percent(options.confidence);
  const design = `${result.candidates} candidates, ${result.included} trained on; guesses ranked by ${scoreText}; k+ from {${result.grid.map((row) => row.guesses).join(', ')}}, Bonferroni over ${result.grid.length}; the largest ε̂ these candidates could show is ${maximum.toFixed(2)}`;
  const sentence = result.best
    ? `ε̂ = ${result.epsilon.toFixed(2)}: with ${level} confidence this model is not (${result.epsilon.toFixed(2)}, ${options.delta})-DP for its canaries ` +
      `(${result.best.correct} of ${result.best.guessed} "in" guesses right; ${design}). For training without DP noise this is a comparable leakage figure, not a privacy guarantee: it bounds ε from below only.`
    : `ε̂ = 0: at ${level} confidence the canaries do not rule out (ε, ${options.delta})-DP for any ε > 0 (${design}). This is no privacy guarantee: ε̂ is a lower bound, and more candidates give the audit more power.`;
  return {
    method: 'one-run',
    score,
    candidates: result.candidates,
    included: result.included,
    delta: options.delta,
    confidence: options.confidence,
    significancePerGuess: result.significancePerGuess,
    grid: result.grid,
    epsilon: result.epsilon,
    maximumEpsilon: maximum,
    best: result.best,
    sentence,
  };
}
