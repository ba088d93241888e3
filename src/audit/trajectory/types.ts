/**
 * The trajectory report (trajectory.json): what every checkpoint's audit found, step by step, for one or
 * more series of checkpoints audited with one canary set. Built from the audits' own reports (their
 * intervals, Holm-corrected tests, membership inference, ε̂) and compare()'s paired tests at each step
 * the series share; nothing is re-estimated here.
 */
import type { Interval } from '../stats/statistics.ts';
import type { CompareExpectation, PairedTest, ScoreName } from '../report/types.ts';

export const TRAJECTORY_REPORT_SCHEMA_VERSION = 1;

/** One group (held-out or a repetition count) of one checkpoint's audit. */
export interface TrajectoryGroupPoint {
  repetitions: number | null;
  label: string;
  count: number;
  /** Mean CER with the audit's bootstrap interval. */
  cer: Interval;
  /** Mean model score (negative log-likelihood per character) with its interval; null where the audit has none. */
  modelScore: Interval | null;
  exactMatchRate: Interval;
  /** Mean exposure (interpolation, bits) per score; null for held-out, or a score the audit has not. */
  exposure: { cer: number; modelScore: number | null } | null;
  /** The audit's Holm-adjusted p-value per score (one-sided Mann-Whitney against held-out); null for held-out. */
  adjustedPValue: { cer: number | null; modelScore: number | null } | null;
  /** Whether the audit's own Holm-corrected test finds this group memorized (any score). */
  detected: boolean;
}

/** The pooled membership inference of one checkpoint's audit. */
export interface TrajectoryMembershipPoint {
  score: ScoreName;
  auc: Interval;
  /** TPR at each of the audit's low FPRs; null where the held-out group cannot resolve that FPR. */
  tprAtFpr: { fpr: number; tpr: Interval | null }[];
}

/** One checkpoint: where its model and audit are, and what the audit found. */
export interface TrajectoryPoint {
  step: number;
  modelDir: string;
  modelFingerprint: string;
  /** The audit's folder, relative to the trajectory's folder. */
  auditDir: string;
  /** 'audited' in this run, 'reused' (an earlier run's audit of the same files), or 'resumed' (a killed audit finished). */
  audit: 'audited' | 'reused' | 'resumed';
  /** Where a reused report came from when it was not this trajectory's own folder (e.g. the demo's audit of the same files). */
  reusedFrom: string | null;
  verdict: 'detected' | 'not-detected' | 'inconclusive';
  detectedRepetitions: number[];
  groups: TrajectoryGroupPoint[];
  membership: TrajectoryMembershipPoint;
  /** The one-run ε lower bound and its maximum for this design (sets from --membership bernoulli); null otherwise. */
  epsilon: { epsilon: number; maximumEpsilon: number } | null;
}

/** When each group is first found memorized by the audit's own Holm-corrected test. */
export interface TrajectoryDetection {
  repetitions: number;
  label: string;
  /** The first audited step whose test is significant (any score); null when none is. */
  firstStep: number | null;
  /** Per score, the first step significant on that score. */
  firstStepByScore: { cer: number | null; modelScore: number | null };
  /** Every step at which the group is detected (a group can come and go). */
  detectedSteps: number[];
}

export interface TrajectorySeries {
  name: string;
  points: TrajectoryPoint[];
  detection: TrajectoryDetection[];
}

/** compare()'s primary test of one series against the first, at one step both have. */
export interface TrajectoryComparisonPair {
  other: string;
  /** One per score: the pooled paired Wilcoxon test over all inserted canaries (compare's primary test). */
  primary: {
    score: ScoreName;
    meanDifference: Interval;
    pValue: number;
    adjustedPValue: number | null;
    finding: PairedTest['finding'];
  }[];
  verdict: string;
}

export interface TrajectoryComparison {
  step: number;
  /** The first series: the others are tested against it. */
  reference: string;
  /** The comparison's files, relative to the trajectory's folder. */
  comparisonDir: string;
  pairs: TrajectoryComparisonPair[];
}

export interface TrajectoryReport {
  schemaVersion: typeof TRAJECTORY_REPORT_SCHEMA_VERSION;
  kind: 'rote-trajectory-report';
  tool: { name: 'rote'; version: string };
  canarySet: {
    dir: string;
    setId: string;
    fileSha256: string;
    canaries: number;
    repetitions: number[];
    holdout: number;
    membership: 'groups' | 'bernoulli';
  };
  /** The one model family every checkpoint has. */
  family: string;
  /** The scores the audits report: CER, and the model score under its name (e.g. 'CTC score'). */
  scores: { score: ScoreName; label: string }[];
  settings: {
    alpha: number;
    confidence: number;
    bootstrapResamples: number;
    seed: string;
    /** compare's direction at every common step. */
    expect: CompareExpectation;
  };
  series: TrajectorySeries[];
  /** Steps every series has, each compared (empty for one series). */
  comparisons: TrajectoryComparison[];
  /** Sentences that sum it up. */
  summary: string[];
}
