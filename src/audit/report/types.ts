/**
 * The audit and comparison report formats: the source of truth for
 * report.json. The JSON Schemas in schema.ts mirror these types (test/audit
 * checks real reports against them); bump the schema versions on any
 * incompatible change.
 */
import type { ErrorRates } from '../stats/metrics.ts';
import type { Interval } from '../stats/statistics.ts';

export type { Interval } from '../stats/statistics.ts';
import type { ProviderChoice } from '../../setup/providers.ts';

export const AUDIT_REPORT_SCHEMA_VERSION = 3;
export const COMPARISON_REPORT_SCHEMA_VERSION = 3;

/** The scores the audit tests; lower means better recognized. */
export type ScoreName = 'cer' | 'modelScore';

/** The provider vocabulary of src/asr/runtime.ts (PROVIDER_CHOICES). */
export type AuditProvider = ProviderChoice;

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
  /**
   * The model's negative log-likelihood of the reference per character: CTC forced for CTC models,
   * teacher-forced for transducers (ScoreCoverage.label names it; reports of schema version 2 call it ctcScore). Null
   * where the model gives none for this canary (see notes).
   */
  modelScore: number | null;
  /** The same per token. */
  modelScorePerToken: number | null;
  durationSec: number;
  frames: number;
  /** Null for held-out canaries; per score, null where that score is missing. */
  exposure: { cer: CanaryExposure; modelScore: CanaryExposure | null } | null;
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
  modelScore: Interval | null;
  exposure: { cer: ScoreExposureSummary; modelScore: ScoreExposureSummary | null } | null;
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
  /** The smallest Holm-adjusted p-value these group sizes allow (no ties): 1 / C(n1 + n2, n1) times the number of tests. */
  minimumAdjustedPValue: number;
  /** False when minimumAdjustedPValue >= alpha: this test cannot find memorization, whatever the model did. */
  canReachAlpha: boolean;
  /**
   * The Holm-adjusted p-value this group would get if every one of its canaries
   * were recognized perfectly (score 0) against these held-out scores: at or
   * above alpha, the held-out group leaves no room to detect memorization.
   */
  perfectMemorizationPValue: number;
  rankBiserial: number;
  commonLanguage: number;
  significant: boolean;
}

/** Canaries the model cannot emit at all (their reference needs more output frames than their audio gives). */
export interface FeasibilitySummary {
  /** False when the report was built without the model's frame budgets; then nothing is known. */
  checked: boolean;
  canaries: number;
  infeasible: number;
  /** Share of canaries above which an audit that detects nothing is inconclusive. */
  limit: number;
  byGroup: { repetitions: number | null; count: number; infeasible: number }[];
  infeasibleIds: string[];
  /** Characters of canary texts the model's vocabulary cannot emit (their canaries count as infeasible); absent when none. */
  missingCharacters?: string[];
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
  /** 'inconclusive': nothing detected, but the audit could not have detected memorization (see inconclusiveReasons). */
  status: 'detected' | 'not-detected' | 'inconclusive';
  memorizationDetected: boolean;
  /** Smallest repetition count with a significant test; null when none. */
  smallestRepetitions: number | null;
  detectedRepetitions: number[];
  sentence: string;
  /** Why the audit refuses to conclude (empty unless status is 'inconclusive'). */
  inconclusiveReasons: string[];
  notes: string[];
}

/** What a model's reference score (the `modelScore` fields) is: CTC forced, or teacher-forced RNNT, TDT or stateless transducer. */
export type ReferenceScoreKind = 'ctc' | 'rnnt' | 'tdt' | 'transducer' | 'decoder';

export interface ModelRecord {
  dir: string;
  family: string;
  isCtc: boolean;
  /** Absent in reports of older rotes: then 'ctc' when isCtc, else 'transducer'. */
  scoreKind?: ReferenceScoreKind;
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
  /** 'groups': repetition groups and a held-out group; 'bernoulli': each candidate trained on once with probability 1/2 (the one-run ε audit). */
  membership: 'groups' | 'bernoulli';
  /** 'generated' by rote generate, or 'imported' by rote import-canaries from canaries made elsewhere. */
  origin: 'generated' | 'imported';
}

/** Membership inference of one inserted group (or of all inserted canaries: repetitions null) against the held-out group; see roc.ts. */
export interface MembershipInferenceGroup {
  /** Null: every inserted canary pooled. */
  repetitions: number | null;
  label: string;
  positives: number;
  negatives: number;
  /** ROC vertices, FPR ascending, from (0, 0) to (1, 1). */
  curve: { fpr: number[]; tpr: number[] };
  auc: Interval;
  /** TPR at each FPR of the report; tpr null (with a note) where the held-out group is too small to resolve that FPR. */
  tprAtFpr: { fpr: number; allowedFalsePositives: number; tpr: Interval | null; note: string | null }[];
}

export interface MembershipInferenceSummary {
  /**
   * The score ranked: the model's log-likelihood per character (higher = "in") where the audit tests it, on the
   * canaries that have it (positives and negatives count them); else CER (lower = "in").
   */
  score: ScoreName;
  /** How the intervals are computed and what they mean. */
  method: string;
  /** Pooled first, then one per repetition group. */
  groups: MembershipInferenceGroup[];
}

/** One k+ of the one-run audit's grid: guesses r (ties never split, so r >= k+), correct v, and the bound at the corrected significance. */
export interface EpsilonGuess {
  guesses: number;
  guessed: number;
  correct: number;
  epsilon: number;
}

/** The one-run ε lower bound (Steinke, Nasr, Jagielski, NeurIPS 2023) of a --membership bernoulli set; see epsilon.ts. */
export interface EpsilonAudit {
  method: 'one-run';
  score: ScoreName;
  candidates: number;
  included: number;
  delta: number;
  confidence: number;
  /** (1 - confidence) / grid size: Bonferroni over the fixed k+ grid. */
  significancePerGuess: number;
  grid: EpsilonGuess[];
  /** The largest bound over the grid; 0 when no k+ rejects ε = 0. */
  epsilon: number;
  /** The largest ε̂ this design could show (every guess right at the best k+): the audit's power. */
  maximumEpsilon: number;
  best: EpsilonGuess | null;
  /** What ε̂ means, in words. */
  sentence: string;
}

/**
 * Which canaries one score was computed for. Each score's tests, exposure, membership inference and ε
 * use only the canaries that have it; the model score is left out only when too few have it.
 */
export interface ScoreCoverage {
  score: ScoreName;
  /** 'CER', or the model score's name: 'CTC score', 'RNNT score', 'TDT score', 'transducer score'. */
  label: string;
  /** Canaries with this score, of all canaries. */
  used: number;
  canaries: number;
  /** Per group, held-out first. */
  byGroup: { repetitions: number | null; count: number; used: number }[];
  /** Canaries without the score, by reason ('infeasible: no score', or the transcription's note). */
  leftOut: { reason: string; ids: string[] }[];
  /** False when the score is not tested at all (see note). */
  tested: boolean;
  /** Why the score is not tested, or which groups it cannot test; null when nothing is missing. */
  note: string | null;
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
  feasibility: FeasibilitySummary;
  /** Absent in reports of older rotes (which dropped a score missing on any canary). */
  scores?: ScoreCoverage[];
  membershipInference: MembershipInferenceSummary;
  /** Null unless the set was generated with --membership bernoulli. */
  epsilon: EpsilonAudit | null;
  verdict: AuditVerdict;
}

export interface ComparisonModel {
  name: string;
  reportPath: string | null;
  modelDir: string;
  modelFingerprint: string;
  family: string;
  /**
   * The name of this model's reference score (the modelScore fields): 'CTC score', 'RNNT score', 'TDT score' or
   * 'transducer score'. Absent in comparisons of older rotes (the same schema version): renderers say 'model score'.
   */
  scoreLabel?: string;
  providers: string[];
  verdict: string;
  /** The model's own audit verdict status; 'inconclusive' audits make any comparison with them inconclusive too. */
  verdictStatus: AuditVerdict['status'];
}

export interface ComparisonGroupEntry {
  name: string;
  count: number;
  cer: Interval;
  exactMatchRate: Interval;
  modelScore: Interval | null;
  meanCerExposure: number | null;
  /** The model's own Holm-adjusted Mann-Whitney p-value on CER against held-out (null for held-out). */
  cerAdjustedPValue: number | null;
}

export interface ComparisonGroup {
  repetitions: number | null;
  label: string;
  models: ComparisonGroupEntry[];
}

/** What `compare` tests for: 'less' = the other models memorize less than the reference (higher scores on inserted canaries). */
export type CompareExpectation = 'less' | 'more' | 'either';

/**
 * One paired Wilcoxon signed-rank test of other - baseline per canary. Scope
 * 'all-inserted' is the primary test (every inserted canary, one-sided as
 * --expect asks, Holm over models x scores); 'group' the secondary per-group
 * tests (same sidedness, Holm over the pair's groups x scores); 'held-out'
 * a two-sided context test, not corrected.
 */
export interface PairedTest {
  scope: 'all-inserted' | 'group' | 'held-out';
  /** The group's repetition count; null for held-out and all-inserted. */
  repetitions: number | null;
  score: ScoreName;
  test: 'wilcoxon-signed-rank';
  /** H1 on d = other - baseline: 'greater' (other scores higher: memorizes less), 'less', or 'two-sided'. */
  alternative: 'greater' | 'less' | 'two-sided';
  /** Canaries (pairs); zeros = pairs with no difference, dropped by the test. */
  pairs: number;
  zeros: number;
  /** Mean of (other - baseline) per canary, with its bootstrap interval (all-inserted: resampled within groups). */
  meanDifference: Interval;
  medianDifference: number;
  wPlus: number;
  wMinus: number;
  pValue: number;
  /** Holm-adjusted within the test's family (see scope); null for held-out. */
  adjustedPValue: number | null;
  method: 'exact' | 'normal';
  rankBiserial: number;
  /** Smallest p-value these pairs can give (all signs one way: 1/2^n one-sided). */
  minimumPValue: number;
  /** The same after the family's correction (Holm: max(own, family size x the family's smallest), a lower bound). */
  minimumAdjustedPValue: number;
  /** False when even the most extreme data could not reach alpha: the test cannot find anything, which is not "no difference". */
  canReachAlpha: boolean;
  /**
   * Primary tests: 'other-memorizes-less'/'-more' only when the inserted difference also goes beyond the
   * held-out one (see BeyondHeldOutTest); 'not-beyond-held-out' when the Wilcoxon test is significant but
   * the control did not show the inserted difference beyond the held-out one (it may be general accuracy).
   */
  finding:
    | 'other-memorizes-less'
    | 'other-memorizes-more'
    | 'not-beyond-held-out'
    | 'no-difference'
    | 'cannot-reach-alpha'
    | 'other-better-on-held-out'
    | 'other-worse-on-held-out';
}

/**
 * The control of a primary test (difference in differences): a Mann-Whitney U test of the paired
 * differences (other - baseline) on inserted canaries against those on held-out canaries, per score,
 * in the primary tests' direction, Holm over models x scores. A model that is less accurate everywhere
 * shifts both alike; only a difference beyond the held-out one is memorization.
 */
export interface BeyondHeldOutTest {
  score: ScoreName;
  test: 'mann-whitney-u';
  /** H1 on the inserted differences relative to the held-out ones: 'greater' (other memorizes less), 'less', 'two-sided'. */
  alternative: 'greater' | 'less' | 'two-sided';
  inserted: number;
  heldOut: number;
  /** Mean inserted difference minus mean held-out difference. */
  differenceInDifferences: number;
  pValue: number;
  /** Holm-adjusted over models x scores. */
  adjustedPValue: number;
  method: 'exact' | 'normal';
  /** Rank-biserial correlation, positive when the inserted differences tend to be larger than the held-out ones. */
  rankBiserial: number;
  minimumPValue: number;
  minimumAdjustedPValue: number;
  canReachAlpha: boolean;
  /** 'inserted-higher'/'inserted-lower': the inserted differences are significantly above/below the held-out ones. */
  finding: 'inserted-higher' | 'inserted-lower' | 'no-difference' | 'cannot-reach-alpha';
}

export interface ComparisonPair {
  baseline: string;
  other: string;
  /** The primary tests, one per score, over all inserted canaries. */
  primary: PairedTest[];
  /** Secondary: one per inserted group and score (effect sizes with intervals; tests Holm-corrected within the pair). */
  groups: PairedTest[];
  /** Context: one per score on the held-out canaries (a difference there is general accuracy, not memorization). */
  heldOut: PairedTest[];
  /** Control, one per score: do the inserted differences go beyond the held-out ones? (A primary finding needs both.) */
  beyondHeldOut: BeyondHeldOutTest[];
  /** Inserted groups whose mean-difference interval excludes zero for some score (groups of 3+ canaries with an interval of positive width only). */
  groupsExcludingZero: { repetitions: number; score: ScoreName; meanDifference: Interval }[];
  verdict: string;
}

export interface ComparisonReport {
  schemaVersion: typeof COMPARISON_REPORT_SCHEMA_VERSION;
  kind: 'rote-comparison-report';
  tool: { name: 'rote'; version: string };
  canarySet: { setId: string; canaries: number };
  /** scoreResolution: paired differences below it were counted as ties (see SCORE_RESOLUTION in compare.ts). */
  settings: {
    alpha: number;
    confidence: number;
    bootstrapResamples: number;
    seed: string;
    scoreResolution: Record<ScoreName, number>;
    /** The primary tests' direction (see CompareExpectation). */
    expect: CompareExpectation;
  };
  models: ComparisonModel[];
  groups: ComparisonGroup[];
  pairs: ComparisonPair[];
  verdict: string;
}
