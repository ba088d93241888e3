/**
 * From transcription rows to the audit report: pure, order-independent (rows
 * are sorted by canary id, every bootstrap draws from its own seeded fork), so
 * a resumed audit gives the same report as an uninterrupted one.
 */
import type { CanarySet } from '../canary/types.ts';
import { TOOL_VERSION } from '../util/version.ts';
import { SeededRandom } from '../util/random.ts';
import { errorRates } from './metrics.ts';
import { EPSILON_DEFAULTS, INFEASIBLE_LIMIT } from './defaults.ts';
import { epsilonAudit, membershipInferenceSummary } from './privacy.ts';
import { holmMinimumP, mannWhitneyMinimumP } from './power.ts';
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
  type FeasibilitySummary,
  type GroupSummary,
  type GroupTest,
  type ModelRecord,
  type ScoreExposureSummary,
  type ScoreName,
  type SkewNormalFitRecord,
  type ValueSummary,
} from './types.ts';

export const NORMALIZATION_DESCRIPTION =
  'NFKC, lower case, apostrophes deleted, other punctuation and symbols (Unicode P, S) replaced by spaces, white space collapsed; CER over characters including spaces, WER over words; Levenshtein distance / reference length';

/** One transcription result as journaled in rows.jsonl: raw engine output, no derived numbers. */
export interface TranscribedRow {
  id: string;
  hypothesis: string;
  durationSec: number;
  frames: number;
  /** Log-likelihood of the reference under the CTC model (null when not available). */
  referenceScore: {
    logLikelihood: number;
    tokens: number;
    characters: number;
    perToken: number;
    perCharacter: number;
  } | null;
  notes: string[];
  provider: string;
}

export interface BuildReportInput {
  set: CanarySet;
  canarySet: CanarySetRecord;
  model: ModelRecord;
  rows: readonly TranscribedRow[];
  settings: AuditSettings;
  /**
   * Per canary id: output frames its reference needs and its audio gives
   * (src/asr/feasibility.ts). audit() passes them; without them the report
   * says feasibility was not checked.
   */
  frameBudgets?: ReadonlyMap<string, { neededFrames: number; outputFrames: number; feasible: boolean }>;
  /** The one-run ε audit of a --membership bernoulli set (default EPSILON_DEFAULTS: δ 1e-5, confidence 0.95). */
  epsilon?: { delta: number; confidence: number };
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

function fitRecord(
  score: ScoreName,
  fit: ReturnType<typeof extrapolationExposures>['fit'] | null,
  reason: string | null,
): SkewNormalFitRecord {
  if (fit?.ok) {
    return {
      score,
      ok: true,
      location: fit.parameters.location,
      scale: fit.parameters.scale,
      shape: fit.parameters.shape,
      logLikelihood: fit.logLikelihood,
      shapeAtBound: fit.shapeAtBound,
      reason: null,
    };
  }
  return {
    score,
    ok: false,
    location: null,
    scale: null,
    shape: null,
    logLikelihood: null,
    shapeAtBound: false,
    reason: fit && !fit.ok ? fit.reason : reason,
  };
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
  if (missing.length > 0)
    throw new RangeError(`${missing.length} canaries have no transcription yet (first: ${missing[0]})`);

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
  const feasibility = feasibilitySummary(rows, input.frameBudgets);

  const heldOut = rows.filter((row) => row.repetitions === null);
  const inserted = rows.filter((row) => row.repetitions !== null);
  if (heldOut.length === 0)
    throw new RangeError(`canary set ${set.setId} has no held-out canaries: nothing to compare against`);
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
      interpolated.map((entry, i) => ({
        rank: entry.rank,
        interpolation: entry.exposure,
        extrapolation: extrapolated.exposures[i]!,
      })),
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
      cer: bootstrapMeanInterval(
        members.map((row) => row.cer),
        random.fork(`${label}/cer`),
        bootstrap,
      ),
      wer: bootstrapMeanInterval(
        members.map((row) => row.wer),
        random.fork(`${label}/wer`),
        bootstrap,
      ),
      exactMatches,
      exactMatchRate: wilsonInterval(exactMatches, members.length, settings.confidence),
      ctcScore: ctcAvailable
        ? bootstrapMeanInterval(
            members.map((row) => row.ctcScore!),
            random.fork(`${label}/ctcScore`),
            bootstrap,
          )
        : null,
      exposure:
        repetitions === null
          ? null
          : { cer: summarizeExposure(members, 'cer')!, ctcScore: summarizeExposure(members, 'ctcScore') },
    };
  });

  const untested: (Omit<
    GroupTest,
    'adjustedPValue' | 'significant' | 'minimumAdjustedPValue' | 'canReachAlpha' | 'perfectMemorizationPValue'
  > & { perfect: number })[] = [];
  for (const repetitions of repetitionCounts) {
    const members = inserted.filter((row) => row.repetitions === repetitions);
    for (const score of ctcAvailable ? (['cer', 'ctcScore'] as const) : (['cer'] as const)) {
      const value = (row: CanaryRow) => (score === 'cer' ? row.cer : row.ctcScore!);
      const result = mannWhitneyLess(members.map(value), heldOut.map(value));
      // The best a group could do: every canary recognized perfectly (CER 0; CTC negative log-likelihood 0).
      const perfect = mannWhitneyLess(new Float64Array(members.length), heldOut.map(value)).pValue;
      untested.push({ repetitions, score, test: 'mann-whitney-u-one-sided', ...result, perfect });
    }
  }
  const adjusted = holmAdjust(untested.map((test) => test.pValue));
  const family = untested.length;
  const tests: GroupTest[] = untested.map(({ perfect, ...test }, i) => {
    // The design's limit (no ties): what the group sizes and the correction allow at best.
    const minimumAdjustedPValue = holmMinimumP(mannWhitneyMinimumP(test.n1, test.n2), family);
    return {
      ...test,
      adjustedPValue: adjusted[i]!,
      minimumAdjustedPValue,
      canReachAlpha: minimumAdjustedPValue < settings.alpha,
      perfectMemorizationPValue: Math.min(1, family * perfect),
      significant: adjusted[i]! < settings.alpha,
    };
  });

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
    feasibility,
    membershipInference: membershipInferenceSummary(rows, random.fork('membership'), {
      resamples: settings.bootstrapResamples,
      confidence: settings.confidence,
      label: groupLabel,
    }),
    epsilon: set.parameters.membership === 'bernoulli' ? epsilonAudit(rows, input.epsilon ?? EPSILON_DEFAULTS) : null,
    verdict: auditVerdict(groups, tests, settings.alpha, ctcNote(rows), feasibility, rows),
  };
}

function feasibilitySummary(rows: CanaryRow[], budgets: BuildReportInput['frameBudgets']): FeasibilitySummary {
  const infeasible = new Set<string>();
  if (budgets) {
    for (const row of rows) {
      const budget = budgets.get(row.id);
      if (budget && !budget.feasible) {
        infeasible.add(row.id);
        row.notes.push(
          `cannot be recognized by this model at any level of memorization: the reference needs ${budget.neededFrames} output frames, the audio gives at most ${budget.outputFrames}`,
        );
      }
    }
  }
  const keys = [...new Set(rows.map((row) => row.repetitions))].sort((a, b) =>
    a === null ? -1 : b === null ? 1 : a - b,
  );
  return {
    checked: budgets !== undefined,
    canaries: rows.length,
    infeasible: infeasible.size,
    limit: INFEASIBLE_LIMIT,
    byGroup: keys.map((repetitions) => {
      const members = rows.filter((row) => row.repetitions === repetitions);
      return { repetitions, count: members.length, infeasible: members.filter((row) => infeasible.has(row.id)).length };
    }),
    infeasibleIds: rows.filter((row) => infeasible.has(row.id)).map((row) => row.id),
  };
}

/** Why an audit that detected nothing could not have detected anything (empty when it could). */
function inconclusiveReasons(
  groups: GroupSummary[],
  tests: GroupTest[],
  alpha: number,
  feasibility: FeasibilitySummary,
  rows: CanaryRow[],
): string[] {
  const reasons: string[] = [];
  // A model that writes nothing for any canary measured nothing (a wrong vocabulary, frontend or head): every
  // CER is 1 and the tests would read "not detected" although no recognition was ever observed.
  if (rows.length > 0 && rows.every((row) => row.hypothesis.trim() === '')) {
    reasons.push(
      `the model produced no text for any of the ${rows.length} canaries (every transcript is empty): ` +
        'check its vocabulary, frontend and head with rote inspect-model and rote transcribe on ordinary speech before auditing',
    );
  }
  if (feasibility.checked && feasibility.infeasible > feasibility.limit * feasibility.canaries) {
    reasons.push(
      `${feasibility.infeasible} of ${feasibility.canaries} canaries cannot be recognized by this model at any level of memorization ` +
        `(their references need more output frames than the model emits for their audio; an audit may lose at most ${Math.round(feasibility.limit * 100)}%): ` +
        'generate canaries with a lower --speed or --rate for this model (rote check-canaries tells before training)',
    );
  }
  if (tests.length > 0 && tests.every((test) => test.perfectMemorizationPValue >= alpha)) {
    const best = Math.min(...tests.map((test) => test.perfectMemorizationPValue));
    const heldOut = groups.find((group) => group.repetitions === null)!;
    const designLimited = tests.every((test) => !test.canReachAlpha);
    reasons.push(
      designLimited
        ? `with these group sizes no test can reach alpha = ${alpha} (smallest Holm-corrected p-value possible ${formatP(Math.min(...tests.map((t) => t.minimumAdjustedPValue)))}): generate more canaries per group and held out`
        : `the held-out canaries are recognized too well to tell memorization from chance (mean CER ${heldOut.cer.estimate.toFixed(3)}, ${heldOut.exactMatches} of ${heldOut.count} exact): ` +
            `even a group recognized perfectly would get a Holm-corrected p-value of ${formatP(best)}, not below alpha = ${alpha}; use a higher --speed`,
    );
  }
  return reasons;
}

function ctcNote(rows: CanaryRow[]): string[] {
  const missing = rows.filter((row) => row.ctcScore === null).length;
  if (missing === 0 || missing === rows.length) return [];
  return [
    `${missing} of ${rows.length} canaries have no CTC score (see their notes), so the CTC-score test and exposure are left out; CER alone decides`,
  ];
}

function auditVerdict(
  groups: GroupSummary[],
  tests: GroupTest[],
  alpha: number,
  extraNotes: string[],
  feasibility: FeasibilitySummary,
  rows: CanaryRow[],
): AuditVerdict {
  const detected = [...new Set(tests.filter((test) => test.significant).map((test) => test.repetitions))].sort(
    (a, b) => a - b,
  );
  const notes: string[] = [...extraNotes];
  const unreachable = [...new Set(tests.filter((test) => !test.canReachAlpha).map((test) => test.repetitions))];
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
    if (!contiguous)
      notes.push(
        `detection is not monotone in repetitions: detected at ${detected.join(', ')} of ${allRepetitions.join(', ')}`,
      );
    const best = (score: ScoreName) => tests.find((test) => test.repetitions === smallest && test.score === score);
    const evidence = (['cer', 'ctcScore'] as const)
      .map((score) => best(score))
      .filter((test): test is GroupTest => test !== undefined)
      .map((test) => `${test.score === 'cer' ? 'CER' : 'CTC score'} p = ${formatP(test.adjustedPValue)}`)
      .join(', ');
    if (feasibility.infeasible > 0) {
      notes.push(
        `${feasibility.infeasible} of ${feasibility.canaries} canaries cannot be recognized by this model at any level of memorization (too fast for its output frame rate); the detection stands without them`,
      );
    }
    return {
      status: 'detected',
      inconclusiveReasons: [],
      memorizationDetected: true,
      smallestRepetitions: smallest,
      detectedRepetitions: detected,
      sentence:
        `memorization detected from ${groupLabel(smallest)} (inserted canaries recognized better than held-out at ${detected.join(', ')} repetitions; ` +
        `at ${smallest}: ${evidence}; one-sided Mann-Whitney, Holm-corrected, alpha = ${alpha})`,
      notes,
    };
  }
  const reasons = inconclusiveReasons(groups, tests, alpha, feasibility, rows);
  if (reasons.length > 0) {
    return {
      status: 'inconclusive',
      memorizationDetected: false,
      smallestRepetitions: null,
      detectedRepetitions: [],
      sentence: `inconclusive: ${reasons[0]!.split(' (')[0]}; this audit can neither detect nor rule out memorization`,
      inconclusiveReasons: reasons,
      notes,
    };
  }
  if (feasibility.infeasible > 0) {
    notes.push(
      `${feasibility.infeasible} of ${feasibility.canaries} canaries cannot be recognized by this model at any level of memorization (within the ${Math.round(feasibility.limit * 100)}% an audit may lose)`,
    );
  }
  if (!feasibility.checked)
    notes.push(
      "whether the model can emit every canary was not checked (report built without the model's frame budgets)",
    );
  return {
    status: 'not-detected',
    memorizationDetected: false,
    smallestRepetitions: null,
    detectedRepetitions: [],
    sentence: `no memorization detected at alpha = ${alpha}`,
    inconclusiveReasons: [],
    notes,
  };
}
