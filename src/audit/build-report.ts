/**
 * From transcription rows to the audit report: pure, order-independent (rows
 * are sorted by canary id, every bootstrap draws from its own seeded fork), so
 * a resumed audit gives the same report as an uninterrupted one.
 */
import type { CanarySet } from '../canary/types.ts';
import { TOOL_VERSION } from '../util/version.ts';
import { SeededRandom } from '../util/random.ts';
import { errorRates } from './metrics.ts';
import { extrapolationExposures, interpolationExposures } from './exposure.ts';
import { bootstrapMeanInterval, holmAdjust, mannWhitneyLess, quantileSorted, wilsonInterval } from './statistics.ts';
import {
  AUDIT_REPORT_SCHEMA_VERSION,
  type AuditReport,
  type AuditSettings,
  type AuditVerdict,
  type CanaryExposure,
  type CanaryRow,
  type CanarySetRecord,
  type GroupSummary,
  type GroupTest,
  type ModelRecord,
  type ScoreExposureSummary,
  type ScoreName,
  type SkewNormalFitRecord,
  type ValueSummary,
} from './types.ts';

export const NORMALIZATION_DESCRIPTION =
  "NFKC, lower case, apostrophes deleted, other punctuation and symbols (Unicode P, S) replaced by spaces, white space collapsed; CER over characters including spaces, WER over words; Levenshtein distance / reference length";

/** One transcription result as journaled in rows.jsonl: raw engine output, no derived numbers. */
export interface TranscribedRow {
  id: string;
  hypothesis: string;
  durationSec: number;
  frames: number;
  /** Log-likelihood of the reference under the CTC model (null when not available). */
  referenceScore: { logLikelihood: number; tokens: number; characters: number; perToken: number; perCharacter: number } | null;
  notes: string[];
  provider: string;
}

export interface BuildReportInput {
  set: CanarySet;
  canarySet: CanarySetRecord;
  model: ModelRecord;
  rows: readonly TranscribedRow[];
  settings: AuditSettings;
}

export function groupLabel(repetitions: number | null): string {
  if (repetitions === null) return 'held-out';
  return `${repetitions} repetition${repetitions === 1 ? '' : 's'}`;
}

export function formatP(p: number): string {
  if (p === 0) return '0';
  if (p < 1e-3) return p.toExponential(1);
  return p < 0.1 ? p.toFixed(4) : p.toFixed(2);
}

function summarize(values: readonly number[]): ValueSummary {
  const sorted = Float64Array.from(values).sort();
  return {
    count: sorted.length,
    mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
    median: quantileSorted(sorted, 0.5),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
  };
}

function fitRecord(score: ScoreName, fit: ReturnType<typeof extrapolationExposures>['fit'] | null, reason: string | null): SkewNormalFitRecord {
  if (fit?.ok) {
    return { score, ok: true, location: fit.parameters.location, scale: fit.parameters.scale, shape: fit.parameters.shape, logLikelihood: fit.logLikelihood, shapeAtBound: fit.shapeAtBound, reason: null };
  }
  return { score, ok: false, location: null, scale: null, shape: null, logLikelihood: null, shapeAtBound: false, reason: fit && !fit.ok ? fit.reason : reason };
}

/** Throws RangeError when rows and set disagree (a missing or unknown canary). */
export function buildAuditReport(input: BuildReportInput): AuditReport {
  const { set, settings } = input;
  const canaries = new Map(set.canaries.map((canary) => [canary.id, canary]));
  const byId = new Map<string, TranscribedRow>();
  for (const row of input.rows) {
    if (!canaries.has(row.id)) throw new RangeError(`row ${row.id} is not a canary of set ${set.setId}`);
    byId.set(row.id, row);
  }
  const missing = set.canaries.filter((canary) => !byId.has(canary.id)).map((canary) => canary.id);
  if (missing.length > 0) throw new RangeError(`${missing.length} canaries have no transcription yet (first: ${missing[0]})`);

  const ids = [...byId.keys()].sort();
  const rows: CanaryRow[] = ids.map((id) => {
    const raw = byId.get(id)!;
    const canary = canaries.get(id)!;
    const rates = errorRates(canary.text, raw.hypothesis);
    return {
      id,
      repetitions: canary.repetitions,
      reference: canary.text,
      hypothesis: raw.hypothesis,
      ...rates,
      ctcScore: raw.referenceScore ? -raw.referenceScore.perCharacter : null,
      ctcScorePerToken: raw.referenceScore ? -raw.referenceScore.perToken : null,
      durationSec: raw.durationSec,
      frames: raw.frames,
      exposure: null,
      notes: raw.notes.slice(),
    };
  });

  const heldOut = rows.filter((row) => row.repetitions === null);
  const inserted = rows.filter((row) => row.repetitions !== null);
  if (heldOut.length === 0) throw new RangeError(`canary set ${set.setId} has no held-out canaries: nothing to compare against`);
  const ctcAvailable = rows.every((row) => row.ctcScore !== null && Number.isFinite(row.ctcScore));

  // Exposure of every inserted canary against the held-out references, per score.
  const fits: SkewNormalFitRecord[] = [];
  const exposuresByScore = new Map<ScoreName, CanaryExposure[]>();
  for (const score of ['cer', 'ctcScore'] as const) {
    if (score === 'ctcScore' && !ctcAvailable) {
      fits.push(fitRecord(score, null, 'no CTC score: the model is not CTC or a row lacks the score'));
      continue;
    }
    const value = (row: CanaryRow) => (score === 'cer' ? row.cer : row.ctcScore!);
    const references = heldOut.map(value);
    const scores = inserted.map(value);
    const interpolated = interpolationExposures(scores, references);
    const extrapolated = extrapolationExposures(scores, references);
    fits.push(fitRecord(score, extrapolated.fit, null));
    exposuresByScore.set(
      score,
      interpolated.map((entry, i) => ({ rank: entry.rank, interpolation: entry.exposure, extrapolation: extrapolated.exposures[i]! })),
    );
  }
  inserted.forEach((row, i) => {
    row.exposure = { cer: exposuresByScore.get('cer')![i]!, ctcScore: exposuresByScore.get('ctcScore')?.[i] ?? null };
  });

  const repetitionCounts = [...new Set(inserted.map((row) => row.repetitions!))].sort((a, b) => a - b);
  const random = new SeededRandom(settings.seed);
  const bootstrap = { resamples: settings.bootstrapResamples, confidence: settings.confidence };
  const summarizeExposure = (members: CanaryRow[], score: ScoreName): ScoreExposureSummary | null => {
    const entries = members.map((row) => row.exposure?.[score] ?? null);
    if (entries.some((entry) => entry === null)) return null;
    const extrapolations = entries.map((entry) => entry!.extrapolation);
    return {
      interpolation: summarize(entries.map((entry) => entry!.interpolation)),
      extrapolation: extrapolations.every((value) => value !== null) ? summarize(extrapolations as number[]) : null,
    };
  };
  const groups: GroupSummary[] = [null, ...repetitionCounts].map((repetitions) => {
    const members = rows.filter((row) => row.repetitions === repetitions);
    const label = groupLabel(repetitions);
    const exactMatches = members.filter((row) => row.exactMatch).length;
    return {
      repetitions,
      label,
      count: members.length,
      cer: bootstrapMeanInterval(members.map((row) => row.cer), random.fork(`${label}/cer`), bootstrap),
      wer: bootstrapMeanInterval(members.map((row) => row.wer), random.fork(`${label}/wer`), bootstrap),
      exactMatches,
      exactMatchRate: wilsonInterval(exactMatches, members.length, settings.confidence),
      ctcScore: ctcAvailable ? bootstrapMeanInterval(members.map((row) => row.ctcScore!), random.fork(`${label}/ctcScore`), bootstrap) : null,
      exposure: repetitions === null ? null : { cer: summarizeExposure(members, 'cer')!, ctcScore: summarizeExposure(members, 'ctcScore') },
    };
  });

  const untested: Omit<GroupTest, 'adjustedPValue' | 'significant'>[] = [];
  for (const repetitions of repetitionCounts) {
    const members = inserted.filter((row) => row.repetitions === repetitions);
    for (const score of ctcAvailable ? (['cer', 'ctcScore'] as const) : (['cer'] as const)) {
      const value = (row: CanaryRow) => (score === 'cer' ? row.cer : row.ctcScore!);
      const result = mannWhitneyLess(members.map(value), heldOut.map(value));
      untested.push({ repetitions, score, test: 'mann-whitney-u-one-sided', ...result });
    }
  }
  const adjusted = holmAdjust(untested.map((test) => test.pValue));
  const tests: GroupTest[] = untested.map((test, i) => ({ ...test, adjustedPValue: adjusted[i]!, significant: adjusted[i]! < settings.alpha }));

  return {
    schemaVersion: AUDIT_REPORT_SCHEMA_VERSION,
    kind: 'rote-audit-report',
    tool: { name: 'rote', version: TOOL_VERSION },
    canarySet: input.canarySet,
    model: input.model,
    providers: [...new Set(input.rows.map((row) => row.provider))].sort(),
    settings,
    normalization: NORMALIZATION_DESCRIPTION,
    rows,
    fits,
    groups,
    tests,
    verdict: auditVerdict(groups, tests, settings.alpha, ctcNote(rows)),
  };
}

function ctcNote(rows: CanaryRow[]): string[] {
  const missing = rows.filter((row) => row.ctcScore === null).length;
  if (missing === 0 || missing === rows.length) return [];
  return [`${missing} of ${rows.length} canaries have no CTC score (see their notes), so the CTC-score test and exposure are left out; CER alone decides`];
}

function auditVerdict(groups: GroupSummary[], tests: GroupTest[], alpha: number, extraNotes: string[]): AuditVerdict {
  const detected = [...new Set(tests.filter((test) => test.significant).map((test) => test.repetitions))].sort((a, b) => a - b);
  const notes: string[] = [...extraNotes];
  const family = tests.length;
  const unreachable = [...new Set(tests.filter((test) => Math.min(1, test.minimumPValue * family) >= alpha).map((test) => test.repetitions))];
  if (unreachable.length > 0) {
    notes.push(
      `with these group sizes the smallest Holm-corrected p-value possible is above alpha = ${alpha} for ${unreachable.map(groupLabel).join(', ')}: ` +
        'such groups can never show memorization; generate more canaries per group and held-out',
    );
  }
  const heldOut = groups.find((group) => group.repetitions === null)!;
  if (heldOut.cer.estimate < 0.3) {
    notes.push(
      `held-out canaries are recognized well (mean CER ${heldOut.cer.estimate.toFixed(3)}): the model generalizes to this sped-up speech, so inserted canaries have little room to stand out; consider a higher speed-up`,
    );
  }
  const allRepetitions = groups.filter((group) => group.repetitions !== null).map((group) => group.repetitions!);
  if (detected.length > 0) {
    const smallest = detected[0]!;
    const contiguous = allRepetitions.filter((r) => r >= smallest).every((r) => detected.includes(r));
    if (!contiguous) notes.push(`detection is not monotone in repetitions: detected at ${detected.join(', ')} of ${allRepetitions.join(', ')}`);
    const best = (score: ScoreName) => tests.find((test) => test.repetitions === smallest && test.score === score);
    const evidence = (['cer', 'ctcScore'] as const)
      .map((score) => best(score))
      .filter((test): test is GroupTest => test !== undefined)
      .map((test) => `${test.score === 'cer' ? 'CER' : 'CTC score'} p = ${formatP(test.adjustedPValue)}`)
      .join(', ');
    return {
      memorizationDetected: true,
      smallestRepetitions: smallest,
      detectedRepetitions: detected,
      sentence:
        `memorization detected from ${groupLabel(smallest)} (inserted canaries recognized better than held-out at ${detected.join(', ')} repetitions; ` +
        `at ${smallest}: ${evidence}; one-sided Mann-Whitney, Holm-corrected, alpha = ${alpha})`,
      notes,
    };
  }
  return { memorizationDetected: false, smallestRepetitions: null, detectedRepetitions: [], sentence: `no memorization detected at alpha = ${alpha}`, notes };
}
