/**
 * From transcription rows to the audit report: pure, order-independent (rows
 * are sorted by canary id, every bootstrap draws from its own seeded fork), so
 * a resumed audit gives the same report as an uninterrupted one.
 */
import type { CanarySet } from '../../canary/types.ts';
import { TOOL_VERSION } from '../../util/version.ts';
import { SeededRandom } from '../../util/random.ts';
import { errorRates } from '../stats/metrics.ts';
import { EPSILON_DEFAULTS, INFEASIBLE_LIMIT } from '../defaults.ts';
import { epsilonAudit, membershipInferenceSummary } from './privacy.ts';
import { holmMinimumP, mannWhitneyMinimumP } from '../stats/power.ts';
import { hasScore, modelScoreLabel } from '../report/score.ts';
import { formatP, groupLabel, NORMALIZATION_DESCRIPTION, RANDOM_STREAM } from '../report/labels.ts';
import { extrapolationExposures, interpolationExposures } from '../stats/exposure.ts';
import {
  bootstrapMeanInterval,
  holmAdjust,
  mannWhitneyLess,
  quantileSorted,
  wilsonInterval,
} from '../stats/statistics.ts';
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
  type ScoreCoverage,
  type ScoreExposureSummary,
  type ScoreName,
  type SkewNormalFitRecord,
  type ValueSummary,
} from '../report/types.ts';

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
  frameBudgets?: ReadonlyMap<
    string,
    { neededFrames: number; outputFrames: number; feasible: boolean; missingCharacters?: readonly string[] }
  >;
  /** The one-run ε audit of a --membership bernoulli set (default EPSILON_DEFAULTS: δ 1e-5, confidence 0.95). */
  epsilon?: { delta: number; confidence: number };
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

const value = (row: CanaryRow, score: ScoreName) => (score === 'cer' ? row.cer : row.modelScore!);

/** One row per canary, sorted by id: error rates and the model score from each transcription. */
function reportRows(input: BuildReportInput): CanaryRow[] {
  const { set } = input;
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
  return ids.map((id) => {
    const raw = byId.get(id)!;
    const canary = canaries.get(id)!;
    const rates = errorRates(canary.text, raw.hypothesis);
    const notes = raw.notes.slice();
    let score = raw.referenceScore;
    if (score && !(Number.isFinite(score.perCharacter) && Number.isFinite(score.perToken))) {
      notes.push('the reference score is not finite (the model gives the reference no probability); no score');
      score = null;
    }
    return {
      id,
      repetitions: canary.repetitions,
      reference: canary.text,
      hypothesis: raw.hypothesis,
      ...rates,
      modelScore: score ? -score.perCharacter : null,
      modelScorePerToken: score ? -score.perToken : null,
      durationSec: raw.durationSec,
      frames: raw.frames,
      exposure: null,
      notes,
    };
  });
}

/**
 * Exposure of every inserted canary that has the score against the held-out canaries that have it, per
 * score: sets each row's `exposure` and returns the skew-normal fits.
 */
function exposureFits(heldOut: CanaryRow[], inserted: CanaryRow[], coverage: ScoreCoverage[]): SkewNormalFitRecord[] {
  const tested = (score: ScoreName) => coverage.find((entry) => entry.score === score)!.tested;
  const fits: SkewNormalFitRecord[] = [];
  for (const score of ['cer', 'modelScore'] as const) {
    if (!tested(score)) {
      fits.push(fitRecord(score, null, coverage.find((entry) => entry.score === score)!.note));
      continue;
    }
    const references = heldOut.filter((row) => hasScore(row, score)).map((row) => value(row, score));
    const scored = inserted.filter((row) => hasScore(row, score));
    const interpolated = interpolationExposures(
      scored.map((row) => value(row, score)),
      references,
    );
    const extrapolated = extrapolationExposures(
      scored.map((row) => value(row, score)),
      references,
    );
    fits.push(fitRecord(score, extrapolated.fit, null));
    scored.forEach((row, i) => {
      const entry: CanaryExposure = {
        rank: interpolated[i]!.rank,
        interpolation: interpolated[i]!.exposure,
        extrapolation: extrapolated.exposures[i]!,
      };
      if (score === 'cer') row.exposure = { cer: entry, modelScore: null };
      else row.exposure!.modelScore = entry;
    });
  }

  return fits;
}

/**
 * The audit's tests: per group and score, inserted against held-out canaries (one-sided Mann-Whitney U),
 * Holm over groups x scores, each with what it could reach at best.
 */
function groupTests(
  heldOut: CanaryRow[],
  inserted: CanaryRow[],
  repetitionCounts: number[],
  tested: (score: ScoreName) => boolean,
  alpha: number,
): GroupTest[] {
  const untested: (Omit<
    GroupTest,
    'adjustedPValue' | 'significant' | 'minimumAdjustedPValue' | 'canReachAlpha' | 'perfectMemorizationPValue'
  > & { perfect: number })[] = [];
  for (const repetitions of repetitionCounts) {
    for (const score of ['cer', 'modelScore'] as const) {
      if (!tested(score)) continue;
      // Only canaries with the score: n1 and n2 below are the counts the test actually used.
      const members = inserted.filter((row) => row.repetitions === repetitions && hasScore(row, score));
      const references = heldOut.filter((row) => hasScore(row, score)).map((row) => value(row, score));
      if (members.length === 0) continue; // no canary of the group has it: scoreCoverage's note says so
      const result = mannWhitneyLess(
        members.map((row) => value(row, score)),
        references,
      );
      // The best a group could do: every canary recognized perfectly (CER 0; negative log-likelihood 0).
      const perfect = mannWhitneyLess(new Float64Array(members.length), references).pValue;
      untested.push({ repetitions, score, test: 'mann-whitney-u-one-sided', ...result, perfect });
    }
  }
  const adjusted = holmAdjust(untested.map((test) => test.pValue));
  const family = untested.length;
  return untested.map(({ perfect, ...test }, i) => {
    // The design's limit (no ties): what the group sizes and the correction allow at best.
    const minimumAdjustedPValue = holmMinimumP(mannWhitneyMinimumP(test.n1, test.n2), family);
    return {
      ...test,
      adjustedPValue: adjusted[i]!,
      minimumAdjustedPValue,
      canReachAlpha: minimumAdjustedPValue < alpha,
      perfectMemorizationPValue: Math.min(1, family * perfect),
      significant: adjusted[i]! < alpha,
    };
  });
}

/** Throws RangeError when rows and set disagree (a missing or unknown canary). */
export function buildAuditReport(input: BuildReportInput): AuditReport {
  const { set, settings } = input;
  const rows = reportRows(input);
  const feasibility = feasibilitySummary(rows, input.frameBudgets);

  const heldOut = rows.filter((row) => row.repetitions === null);
  const inserted = rows.filter((row) => row.repetitions !== null);
  if (heldOut.length === 0)
    throw new RangeError(`canary set ${set.setId} has no held-out canaries: nothing to compare against`);
  const coverage = (['cer', 'modelScore'] as const).map((score) =>
    scoreCoverage(rows, score, score === 'cer' ? 'CER' : modelScoreLabel(input.model), feasibility),
  );
  const tested = (score: ScoreName) => coverage.find((entry) => entry.score === score)!.tested;

  const fits = exposureFits(heldOut, inserted, coverage);

  const repetitionCounts = [...new Set(inserted.map((row) => row.repetitions!))].sort((a, b) => a - b);
  const random = new SeededRandom(settings.seed);
  const bootstrap = { resamples: settings.bootstrapResamples, confidence: settings.confidence };
  const summarizeExposure = (members: CanaryRow[], score: ScoreName): ScoreExposureSummary | null => {
    const entries = members.flatMap((row) => (row.exposure?.[score] ? [row.exposure[score]] : []));
    if (entries.length === 0) return null;
    const extrapolations = entries.map((entry) => entry.extrapolation);
    return {
      interpolation: summarize(entries.map((entry) => entry.interpolation)),
      extrapolation: extrapolations.every((value) => value !== null) ? summarize(extrapolations as number[]) : null,
    };
  };
  const groups: GroupSummary[] = [null, ...repetitionCounts].map((repetitions) => {
    const members = rows.filter((row) => row.repetitions === repetitions);
    const label = groupLabel(repetitions);
    const exactMatches = members.filter((row) => row.exactMatch).length;
    const modelScores = members.filter((row) => hasScore(row, 'modelScore')).map((row) => row.modelScore!);
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
      modelScore:
        tested('modelScore') && modelScores.length > 0
          ? bootstrapMeanInterval(modelScores, random.fork(`${label}/${RANDOM_STREAM.modelScore}`), bootstrap)
          : null,
      exposure:
        repetitions === null
          ? null
          : { cer: summarizeExposure(members, 'cer')!, modelScore: summarizeExposure(members, 'modelScore') },
    };
  });

  const tests = groupTests(heldOut, inserted, repetitionCounts, tested, settings.alpha);

  // Membership inference and ε rank by the model score wherever the audit tests it, else by CER.
  const membershipScore: ScoreName = tested('modelScore') ? 'modelScore' : 'cer';
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
    scores: coverage,
    membershipInference: membershipInferenceSummary(rows, membershipScore, random.fork('membership'), {
      resamples: settings.bootstrapResamples,
      confidence: settings.confidence,
      label: groupLabel,
    }),
    epsilon:
      set.parameters.membership === 'bernoulli'
        ? epsilonAudit(rows, membershipScore, {
            ...(input.epsilon ?? EPSILON_DEFAULTS),
            scoreLabel: modelScoreLabel(input.model),
          })
        : null,
    verdict: auditVerdict(groups, tests, settings.alpha, coverageNotes(coverage), feasibility, rows, coverage),
  };
}

function feasibilitySummary(rows: CanaryRow[], budgets: BuildReportInput['frameBudgets']): FeasibilitySummary {
  const infeasible = new Set<string>();
  const missing = new Set<string>();
  if (budgets) {
    for (const row of rows) {
      const budget = budgets.get(row.id);
      if (budget && !budget.feasible) {
        infeasible.add(row.id);
        const unemittable = budget.missingCharacters ?? [];
        unemittable.forEach((character) => missing.add(character));
        row.notes.push(
          unemittable.length > 0
            ? `cannot be recognized by this model at any level of memorization: its vocabulary cannot emit ${unemittable.map((c) => JSON.stringify(c)).join(' ')}`
            : `cannot be recognized by this model at any level of memorization: the reference needs ${budget.neededFrames} output frames, the audio gives at most ${budget.outputFrames}`,
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
    ...(missing.size > 0 ? { missingCharacters: [...missing] } : {}),
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
    const missing = feasibility.missingCharacters ?? [];
    reasons.push(
      `${feasibility.infeasible} of ${feasibility.canaries} canaries cannot be recognized by this model at any level of memorization ` +
        (missing.length > 0
          ? `(their texts hold characters its vocabulary cannot emit: ${missing.map((c) => JSON.stringify(c)).join(' ')}, or need more output frames than the model emits for their audio; an audit may lose at most ${Math.round(feasibility.limit * 100)}%): ` +
            'generate canaries in the language (rote generate --language) and script the model writes'
          : `(their references need more output frames than the model emits for their audio; an audit may lose at most ${Math.round(feasibility.limit * 100)}%): ` +
            'generate canaries with a lower --speed or --rate for this model') +
        ' (rote check-canaries tells before training)',
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

/** Why a row has no model score: infeasible (too few output frames), or the transcription's note. */
function missingReason(row: CanaryRow, infeasible: ReadonlySet<string>): string {
  if (infeasible.has(row.id) || row.notes.some((note) => /output frames.*no score/.test(note)))
    return 'infeasible: no score';
  const note = row.notes.find((text) => /no score|reference score/.test(text));
  return note ? `no score: ${note.replace(/; no score$/, '')}` : 'no score';
}

function scoreCoverage(
  rows: CanaryRow[],
  score: ScoreName,
  label: string,
  feasibility: FeasibilitySummary,
): ScoreCoverage {
  const infeasible = new Set(feasibility.infeasibleIds);
  const leftOut = new Map<string, string[]>();
  for (const row of rows) {
    if (hasScore(row, score)) continue;
    const reason = missingReason(row, infeasible);
    leftOut.set(reason, [...(leftOut.get(reason) ?? []), row.id]);
  }
  const keys = [...new Set(rows.map((row) => row.repetitions))].sort((a, b) =>
    a === null ? -1 : b === null ? 1 : a - b,
  );
  const byGroup = keys.map((repetitions) => {
    const members = rows.filter((row) => row.repetitions === repetitions);
    return { repetitions, count: members.length, used: members.filter((row) => hasScore(row, score)).length };
  });
  const used = byGroup.reduce((sum, group) => sum + group.used, 0);
  const heldOut = byGroup.find((group) => group.repetitions === null)!;
  const insertedUsed = used - heldOut.used;
  const entries = [...leftOut].map(([reason, ids]) => ({ reason, ids }));
  const counts = `${used} of ${rows.length} canaries${entries.length > 0 ? ` (${entries.map((entry) => `${entry.ids.length} ${entry.reason}`).join('; ')})` : ''}`;
  const tested = heldOut.used > 0 && insertedUsed > 0;
  let note: string | null = null;
  if (used === 0) note = `no ${label}: the model gives none for these canaries`;
  else if (!tested)
    note =
      `${label} not tested: ${counts}; ${heldOut.used} of ${heldOut.count} held-out and ${insertedUsed} of ${rows.length - heldOut.count} inserted canaries have it, ` +
      'too few to compare inserted against held-out';
  else if (entries.length > 0) {
    const empty = byGroup.filter((group) => group.repetitions !== null && group.used === 0);
    note =
      `${label}: ${counts}; its tests, exposure and membership inference use those` +
      (empty.length > 0
        ? `; not tested for ${empty.map((group) => groupLabel(group.repetitions)).join(', ')} (no canary there has it)`
        : '');
  }
  return { score, label, used, canaries: rows.length, byGroup, leftOut: entries, tested, note };
}

function coverageNotes(coverage: ScoreCoverage[]): string[] {
  // A model without any reference score is said once by the report's model line, not as a note.
  return coverage.filter((entry) => entry.note !== null && entry.used > 0).map((entry) => entry.note!);
}

function auditVerdict(
  groups: GroupSummary[],
  tests: GroupTest[],
  alpha: number,
  extraNotes: string[],
  feasibility: FeasibilitySummary,
  rows: CanaryRow[],
  coverage: ScoreCoverage[],
): AuditVerdict {
  const label = (score: ScoreName) => coverage.find((entry) => entry.score === score)!.label;
  const detected = [...new Set(tests.filter((test) => test.significant).map((test) => test.repetitions))].sort(
    (a, b) => a - b,
  );
  const notes: string[] = [...extraNotes];
  const unreachable = [...new Set(tests.filter((test) => !test.canReachAlpha).map((test) => test.repetitions))];
  if (unreachable.length > 0) {
    // Name the scores where a group's other scores can still reach alpha (a score with canaries left out).
    const where = unreachable.map((repetitions) => {
      const own = tests.filter((test) => test.repetitions === repetitions);
      const stuck = own.filter((test) => !test.canReachAlpha);
      return stuck.length === own.length
        ? groupLabel(repetitions)
        : `${groupLabel(repetitions)} (${stuck.map((test) => `${label(test.score)}, ${test.n1} vs ${test.n2} canaries`).join('; ')})`;
    });
    notes.push(
      `with these group sizes the smallest Holm-corrected p-value possible is above alpha = ${alpha} for ${where.join(', ')}: ` +
        'such tests can never show memorization; generate more canaries per group and held-out',
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
    const evidence = (['cer', 'modelScore'] as const)
      .map((score) => best(score))
      .filter((test): test is GroupTest => test !== undefined)
      .map((test) => `${label(test.score)} p = ${formatP(test.adjustedPValue)}`)
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
