/**
 * The audit stage (`rote/audit`): statistics (stats/), the report model (report/), renderers (render/),
 * compare (compare/) and the audit pipeline (pipeline/).
 */
export { audit, writeAuditReport, modelRecord, AUDIT_DEFAULTS, type AuditOptions } from './pipeline/audit.ts';
export { readAuditReport } from './report/read.ts';
export {
  compare,
  compareReports,
  writeComparisonReport,
  COMPARE_EXPECTATIONS,
  type CompareOptions,
  type ReportSource,
} from './compare/index.ts';
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
} from './pipeline/demo.ts';
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
} from './pipeline/check-canaries.ts';
export { AUDIT_EXIT_CODES, EPSILON_DEFAULTS, INFEASIBLE_LIMIT } from './defaults.ts';
export { designReach, designWarnings, type DesignReach, type DesignSizes } from './stats/power.ts';
export { buildAuditReport, type BuildReportInput, type TranscribedRow } from './pipeline/build-report.ts';
export { groupLabel, NORMALIZATION_DESCRIPTION } from './report/labels.ts';
export * from './report/types.ts';
export {
  AUDIT_REPORT_JSON_SCHEMA,
  COMPARISON_REPORT_JSON_SCHEMA,
  schemaProblems,
  validateReport,
  validateComparisonReport,
  type JsonSchema,
} from './report/schema.ts';
export {
  auditHtml,
  auditMarkdown,
  auditTerminalTable,
  comparisonHtml,
  comparisonMarkdown,
  comparisonTerminalTable,
} from './render/index.ts';
// The pure statistics (rote/stats), and the audit-level pieces built on them.
export * from './stats/index.ts';
export { membershipInference, type MembershipInferenceResult } from './stats/roc.ts';
export { oneRunAudit, GUESS_SHARES, type OneRunAuditResult } from './stats/epsilon.ts';
export { MEMBERSHIP_FPRS, membershipScores } from './pipeline/privacy.ts';
// Memorization over training (rote trajectory): series of checkpoints, each audited, compared step by step.
export * from './trajectory/index.ts';
