/**
 * rote's public API: the front door, a named list of what users of the tool need
 * (generate, import, inject, verify, load and transcribe models, audit, compare, trajectory,
 * report I/O, errors, and the report and receipt types).
 *
 * Everything else stays reachable for scripts through the stage subpaths
 * (package.json "exports"): `rote/canary`, `rote/manifest`, `rote/audio` (also reachable by its older name `rote/features`)
 * (audio and frontends), `rote/asr`, `rote/audit`, and `rote/stats` (the pure
 * statistics: tests, intervals, exposure, ROC, the one-run ε bound).
 */
export { TOOL_VERSION } from './util/version.ts';
export { RoteError } from './util/errors.ts';
export { OptionError } from './util/options.ts';

// Canary sets: generate, import, read.
export {
  generateCanarySet,
  importCanarySet,
  readCanarySet,
  GENERATE_DEFAULTS,
  type GenerateOptions,
  type GenerateProgress,
  type GenerateResult,
  type ImportCanariesOptions,
  type ImportResult,
  type CanarySet,
  type CanaryRecord,
  type CanarySetParameters,
  type TrainingCanaryList,
} from './canary/index.ts';

// Training manifests: inject and verify.
export {
  injectCanaries,
  verifyInjection,
  VERIFY_EXIT_CODES,
  type InjectOptions,
  type VerifyOptions,
  type InjectionReceipt,
  type VerificationReport,
  type ManifestFormat,
} from './manifest/index.ts';

// Models: load, inspect, transcribe.
export {
  loadModel,
  detectModel,
  transcribeFiles,
  FeatureCache,
  type AsrModel,
  type ModelInfo,
  type LoadModelOptions,
  type ProviderName,
  type ProviderReport,
  type TranscribeItem,
  type TranscribeOptions,
  type TranscriptionRow,
} from './asr/index.ts';

// Audits and comparisons, their reports and their checks.
export {
  audit,
  compare,
  checkCanaries,
  readAuditReport,
  writeAuditReport,
  writeComparisonReport,
  validateReport,
  validateComparisonReport,
  AUDIT_DEFAULTS,
  AUDIT_EXIT_CODES,
  type AuditOptions,
  type CompareOptions,
  type CheckCanariesOptions,
  type CanaryCheckReport,
  type AuditReport,
  type AuditVerdict,
  type ComparisonReport,
  type ComparisonPair,
  type PairedTest,
  type GroupSummary,
  type CanaryRow,
  type EpsilonAudit,
  type MembershipInferenceSummary,
} from './audit/index.ts';

// Memorization over training: series of checkpoints, each audited, compared step by step.
export {
  trajectory,
  type TrajectoryOptions,
  type TrajectoryResult,
  type TrajectoryReport,
  type TrajectorySeriesInput,
} from './audit/trajectory/index.ts';
