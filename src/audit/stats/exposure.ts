/**
 * Exposure (Carlini et al., "The Secret Sharer"), as TensorFlow Privacy's
 * secret_sharer computes it, for scores where lower means better recognized
 * (CER, WER, CTC negative log-likelihood). References R are held-out scores.
 *
 * Interpolation: rank(c) = 1 + #{r in R : r <= score(c)} (ties count against
 * the canary), exposure = log2 |R| - log2 rank. Its maximum is log2 |R| (rank 1);
 * a canary scoring worse than every reference gets log2 |R| - log2(|R| + 1) < 0.
 * Extrapolation: fit a skew-normal to R; exposure = -log2 CDF(score(c)).
 */
import { fitSkewNormal, skewNormalLogCdf, type SkewNormalFit, type SkewNormalParameters } from './skew-normal.ts';

export interface InterpolatedExposure {
  rank: number;
  exposure: number;
}

function sortedCopy(values: ArrayLike<number>): Float64Array {
  const sorted = Float64Array.from(values);
  if (sorted.some((value) => Number.isNaN(value))) throw new RangeError('exposure: a reference score is NaN');
  return sorted.sort();
}

/** Number of entries of ascending `sorted` that are <= value. */
function countAtMost(sorted: Float64Array, value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Interpolated exposure of each score against the references. */
export function interpolationExposures(
  scores: ArrayLike<number>,
  references: ArrayLike<number>,
): InterpolatedExposure[] {
  if (references.length === 0) throw new RangeError('interpolationExposures: no reference scores');
  const sorted = sortedCopy(references);
  const log2References = Math.log2(sorted.length);
  return Array.from(scores as ArrayLike<number>, (score) => {
    if (Number.isNaN(score)) throw new RangeError('interpolationExposures: a canary score is NaN');
    const rank = 1 + countAtMost(sorted, score);
    return { rank, exposure: log2References - Math.log2(rank) };
  });
}

export function interpolationExposure(score: number, references: ArrayLike<number>): InterpolatedExposure {
  return interpolationExposures([score], references)[0]!;
}

/** -log2 CDF(score) under a fitted skew-normal; null where it is not finite. */
export function extrapolationExposure(score: number, parameters: SkewNormalParameters): number | null {
  const exposure = -skewNormalLogCdf(score, parameters) / Math.LN2;
  if (!Number.isFinite(exposure)) return null;
  return exposure === 0 ? 0 : exposure; // no -0 in reports
}

export interface ExtrapolatedExposures {
  fit: SkewNormalFit;
  exposures: (number | null)[];
}

/** Fits the references once and grades every score; all null when the fit is refused. */
export function extrapolationExposures(
  scores: ArrayLike<number>,
  references: ArrayLike<number>,
): ExtrapolatedExposures {
  const fit = fitSkewNormal(references);
  const exposures = Array.from(scores as ArrayLike<number>, (score) =>
    fit.ok ? extrapolationExposure(score, fit.parameters) : null,
  );
  return { fit, exposures };
}
