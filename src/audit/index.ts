/**
 * The audit stage: scoring (CER/WER, CTC score), exposure, statistics, the
 * audit and comparison reports.
 */
export { audit, readAuditReport, writeAuditReport, modelRecord, AUDIT_DEFAULTS, type AuditOptions } from './audit.ts';
export {
  compare,
  compareReports,
  writeComparisonReport,
  COMPARE_EXPECTATIONS,
  type CompareOptions,
  type ReportSource,
} from './compare.ts';
export {
  runDemo,
  listDemoModels,
  DEMO_CANARIES_DIR,
  DEMO_MODELS_DIR,
  DEMO_MODEL_DESCRIPTIONS,
  DEMO_MODEL_ORDER,
  DEMO_OUT,
  type DemoModel,
  type DemoModelResult,
  type DemoOptions,
  type DemoResult,
} from './demo.ts';
export {
  AUDIT_OPTION_SPECS,
  CHECK_CANARIES_OPTION_SPECS,
  COMPARE_OPTION_SPECS,
  DEMO_OPTION_SPECS,
  resolveAuditSettings,
  type AuditSettingsInput,
  type ResolvedAuditSettings,
} from './options.ts';
export {
  checkCanaries,
  type CanaryCheck,
  type CanaryCheckReport,
  type CheckCanariesOptions,
} from './check-canaries.ts';
export { AUDIT_EXIT_CODES, EPSILON_DEFAULTS, INFEASIBLE_LIMIT } from './defaults.ts';
export {
  designReach,
  designWarnings,
  holmMinimumP,
  mannWhitneyMinimumP,
  signedRankMinimumP,
  type DesignReach,
  type DesignSizes,
} from './power.ts';
export {
  buildAuditReport,
  groupLabel,
  NORMALIZATION_DESCRIPTION,
  type BuildReportInput,
  type TranscribedRow,
} from './build-report.ts';
export * from './types.ts';
export {
  AUDIT_REPORT_JSON_SCHEMA,
  COMPARISON_REPORT_JSON_SCHEMA,
  schemaProblems,
  validateReport,
  validateComparisonReport,
  type JsonSchema,
} from './schema.ts';
export {
  auditHtml,
  auditMarkdown,
  auditTerminalTable,
  comparisonHtml,
  comparisonMarkdown,
  comparisonTerminalTable,
} from './render.ts';
export { editDistance, errorRates, normalizeTranscript, type ErrorRates } from './metrics.ts';
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
export {
  mannWhitneyLess,
  wilcoxonSignedRank,
  holmAdjust,
  wilsonInterval,
  bootstrapMeanInterval,
  pairedDifference,
  stratifiedBootstrapMeanInterval,
  midRanks,
  type MannWhitneyResult,
  type WilcoxonResult,
  type PairedDifference,
} from './statistics.ts';
export { owensT, normalCdf, logNormalCdf } from './normal.ts';
export {
  rocCurve,
  rocAuc,
  tprAtFpr,
  allowedFalsePositives,
  membershipInference,
  type RocCurve,
  type MembershipInferenceResult,
  type TprAtFprResult,
} from './roc.ts';
export {
  oneRunPValue,
  oneRunEpsilon,
  oneRunAudit,
  guessGrid,
  GUESS_SHARES,
  type OneRunAuditResult,
  type OneRunGuess,
} from './epsilon.ts';
export { MEMBERSHIP_FPRS, membershipScores } from './privacy.ts';
