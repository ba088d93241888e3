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
export { designReach, designWarnings, type DesignReach, type DesignSizes } from './power.ts';
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
// The pure statistics (rote/stats), and the audit-level pieces built on them.
export * from './stats.ts';
export { membershipInference, type MembershipInferenceResult } from './roc.ts';
export { oneRunAudit, GUESS_SHARES, type OneRunAuditResult } from './epsilon.ts';
export { MEMBERSHIP_FPRS, membershipScores } from './privacy.ts';
// Memorization over training (rote trajectory): series of checkpoints, each audited, compared step by step.
export * from './trajectory/index.ts';
