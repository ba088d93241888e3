/**
 * `rote/stats`: the pure statistics behind audits and comparisons (numbers in,
 * numbers out; no models, no files), for scripts that analyse scores themselves.
 */
export {
  mannWhitneyLess,
  wilcoxonSignedRank,
  holmAdjust,
  wilsonInterval,
  bootstrapMeanInterval,
  stratifiedBootstrapMeanInterval,
  pairedDifference,
  midRanks,
  type MannWhitneyResult,
  type WilcoxonResult,
  type PairedDifference,
} from './statistics.ts';
export { holmMinimumP, mannWhitneyMinimumP, signedRankMinimumP } from './power.ts';
export {
  interpolationExposure,
  interpolationExposures,
  extrapolationExposure,
  extrapolationExposures,
  type InterpolatedExposure,
} from './exposure.ts';
export {
  fitSkewNormal,
  skewNormalCdf,
  skewNormalLogCdf,
  skewNormalLogPdf,
  sampleSkewNormal,
  type SkewNormalParameters,
  type SkewNormalFit,
} from './skew-normal.ts';
export { owensT, normalCdf, logNormalCdf } from './normal.ts';
export { rocCurve, rocAuc, tprAtFpr, allowedFalsePositives, type RocCurve, type TprAtFprResult } from './roc.ts';
export { oneRunPValue, oneRunEpsilon, guessGrid, type OneRunGuess } from './epsilon.ts';
export { editDistance, errorRates, normalizeTranscript, type ErrorRates } from './metrics.ts';
