/**
 * The audit and comparison report formats: the source of truth for
 * report.json. The JSON Schemas in schema.ts mirror these types (test/audit
 * checks real reports against them); bump the schema versions on any
 * incompatible change.
 */
import type { ErrorRates } from './metrics.ts';
import type { Interval } from './statistics.ts';

export type { Interval } from './statistics.ts';

export const AUDIT_REPORT_SCHEMA_VERSION = 1;
export const COMPARISON_REPORT_SCHEMA_VERSION = 1;

/** The scores the audit tests; lower means better recognized. */
export type ScoreName = 'cer' | 'ctcScore';

export type AuditProvider = 'auto' | 'cuda' | 'webgpu' | 'cpu';

/** Everything that shaped the numbers, recorded in the report. */
export interface AuditSettings {
  alpha: number;
  /** Confidence level of every interval (bootstrap and Wilson). */
  confidence: number;
  bootstrapResamples: number;
  /** Seed of the bootstrap; each group draws from its own fork. */
  seed: string;
  provider: AuditProvider;
  deviceId: number | null;
  threads: number | null;
  batchFrames: number | null;
}

export interface CanaryExposure {
  /** 1 + number of held-out scores <= this canary's score. */
  rank: number;
  /** log2 |R| - log2 rank. */
  interpolation: number;
  /** -log2 CDF of the skew-normal fitted to the held-out scores; null when the fit was refused. */
  extrapolation: number | null;
}

/** One canary's row: its error rates (normalized as metrics.ts documents) and scores. */
export interface CanaryRow extends ErrorRates {
  id: string;
  /** Repetitions in training; null for held-out canaries. */
  repetitions: number | null;
  reference: string;
  hypothesis: string;
  /** CTC negative log-likelihood of the reference per character (null when the model is not CTC). */
  ctcScore: number | null;
  /** The same per token. */
  ctcScorePerToken: number | null;
  durationSec: number;
  frames: number;
  /** Null for held-out canaries; per score, null where that score is missing. */
  exposure: { cer: CanaryExposure; ctcScore: CanaryExposure | null } | null;
  notes: string[];
}

export interface ValueSummary {
  count: number;
  mean: number;
  median: number;
  min: number;
  max: number;
}

export interface ScoreExposureSummary {
  interpolation: ValueSummary;
  extrapolation: ValueSummary | null;
}

export interface GroupSummary {
  repetitions: number | null;
  label: string;
  count: number;
  cer: Interval;
  wer: Interval;
  exactMatches: number;
  /** Wilson interval of the exact-match rate. */
  exactMatchRate: Interval;
  ctcScore: Interval | null;
  exposure: { cer: ScoreExposureSummary; ctcScore: ScoreExposureSummary | null } | null;
}

export interface GroupTest {
  repetitions: number;
  score: ScoreName;
  /** One-sided Mann-Whitney U, H1: this group's scores are lower than held-out ones. */
  test: 'mann-whitney-u-one-sided';
  n1: number;
  n2: number;
  u: number;
  pValue: number;
  /** Holm-adjusted across every test of the report (groups x scores). */
  adjustedPValue: number;
  method: 'exact' | 'normal';
  ties: boolean;
  minimumPValue: number;
  rankBiserial: number;
  commonLanguage: number;
  significant: boolean;
}

export interface SkewNormalFitRecord {
  score: ScoreName;
  ok: boolean;
  location: number | null;
  scale: number | null;
  shape: number | null;
  logLikelihood: number | null;
  shapeAtBound: boolean;
  reason: string | null;
}

export interface AuditVerdict {
  memorizationDetected: boolean;
  /** Smallest repetition count with a significant test; null when none. */
  smallestRepetitions: number | null;
  detectedRepetitions: number[];
  sentence: string;
  notes: string[];
}

export interface ModelRecord {
  dir: string;
  family: string;
  isCtc: boolean;
  /** sha256 over "path sha256" lines of every model file, sorted by path. */
  fingerprint: string;
  files: { path: string; sha256: string }[];
}

export interface CanarySetRecord {
  dir: string;
  setId: string;
  /** sha256 of canary-set.json as read. */
  fileSha256: string;
  canaries: number;
  repetitions: number[];
  holdout: number;
  speed: number;
  sampleRate: number;
}

export interface AuditReport {
  schemaVersion: typeof AUDIT_REPORT_SCHEMA_VERSION;
  kind: 'rote-audit-report';
  tool: { name: 'rote'; version: string };
  canarySet: CanarySetRecord;
  model: ModelRecord;
  /** Execution providers that produced the rows (several only if a resumed run used another). */
  providers: string[];
  settings: AuditSettings;
  normalization: string;
  rows: CanaryRow[];
  fits: SkewNormalFitRecord[];
  groups: GroupSummary[];
  tests: GroupTest[];
  verdict: AuditVerdict;
}

export interface ComparisonModel {
  name: string;
  reportPath: string | null;
  modelDir: string;
  modelFingerprint: string;
  family: string;
  providers: string[];
  verdict: string;
}

export interface ComparisonGroupEntry {
  name: string;
  count: number;
  cer: Interval;
  exactMatchRate: Interval;
  ctcScore: Interval | null;
  meanCerExposure: number | null;
  /** The model's own Holm-adjusted Mann-Whitney p-value on CER against held-out (null for held-out). */
  cerAdjustedPValue: number | null;
}

export interface ComparisonGroup {
  repetitions: number | null;
  label: string;
  models: ComparisonGroupEntry[];
}

export interface PairedTest {
  repetitions: number | null;
  score: ScoreName;
  test: 'wilcoxon-signed-rank-two-sided';
  /** Canaries of the group (pairs); zeros = pairs with no difference, dropped by the test. */
  pairs: number;
  zeros: number;
  /** Mean of (other - baseline) per canary, with its bootstrap interval. */
  meanDifference: Interval;
  medianDifference: number;
  wPlus: number;
  wMinus: number;
  pValue: number;
  /** Holm-adjusted over the inserted groups x scores of this pair (held-out rows are reported, not counted). */
  adjustedPValue: number | null;
  method: 'exact' | 'normal';
  rankBiserial: number;
  /** For inserted groups: 'other-memorizes-less' when the other model's scores are significantly higher. */
  finding: 'other-memorizes-less' | 'other-memorizes-more' | 'no-difference' | 'other-better-on-held-out' | 'other-worse-on-held-out';
}

export interface ComparisonPair {
  baseline: string;
  other: string;
  tests: PairedTest[];
  verdict: string;
}

export interface ComparisonReport {
  schemaVersion: typeof COMPARISON_REPORT_SCHEMA_VERSION;
  kind: 'rote-comparison-report';
  tool: { name: 'rote'; version: string };
  canarySet: { setId: string; canaries: number };
  /** scoreResolution: paired differences below it were counted as ties (see SCORE_RESOLUTION in compare.ts). */
  settings: { alpha: number; confidence: number; bootstrapResamples: number; seed: string; scoreResolution: Record<ScoreName, number> };
  models: ComparisonModel[];
  groups: ComparisonGroup[];
  pairs: ComparisonPair[];
  verdict: string;
}
