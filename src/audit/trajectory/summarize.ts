/**
 * Pure pieces of the trajectory: one audit report -> one point, a series' points -> when each group is
 * first detected, a comparison at one step -> its primary tests, and the summary sentences.
 */
import type { AuditReport, ComparisonReport, ScoreName } from '../report/types.ts';
import type {
  TrajectoryComparison,
  TrajectoryComparisonPair,
  TrajectoryDetection,
  TrajectoryGroupPoint,
  TrajectoryMembershipPoint,
  TrajectoryPoint,
  TrajectorySeries,
} from './types.ts';

type PointFacts = Pick<TrajectoryPoint, 'verdict' | 'detectedRepetitions' | 'groups' | 'membership' | 'epsilon'>;

/** What one checkpoint's audit found, read from its report (intervals and tests are the audit's own). */
export function pointFromReport(report: AuditReport): PointFacts {
  const test = (repetitions: number, score: ScoreName) =>
    report.tests.find((entry) => entry.repetitions === repetitions && entry.score === score) ?? null;
  const groups: TrajectoryGroupPoint[] = report.groups.map((group) => {
    const inserted = group.repetitions !== null;
    const cerTest = inserted ? test(group.repetitions!, 'cer') : null;
    const scoreTest = inserted ? test(group.repetitions!, 'modelScore') : null;
    return {
      repetitions: group.repetitions,
      label: group.label,
      count: group.count,
      cer: group.cer,
      modelScore: group.modelScore,
      exactMatchRate: group.exactMatchRate,
      exposure: group.exposure
        ? {
            cer: group.exposure.cer.interpolation.mean,
            modelScore: group.exposure.modelScore?.interpolation.mean ?? null,
          }
        : null,
      adjustedPValue: inserted
        ? { cer: cerTest?.adjustedPValue ?? null, modelScore: scoreTest?.adjustedPValue ?? null }
        : null,
      detected: Boolean(cerTest?.significant || scoreTest?.significant),
    };
  });
  const pooled = report.membershipInference.groups.find((group) => group.repetitions === null)!;
  const membership: TrajectoryMembershipPoint = {
    score: report.membershipInference.score,
    auc: pooled.auc,
    tprAtFpr: pooled.tprAtFpr.map((entry) => ({ fpr: entry.fpr, tpr: entry.tpr })),
  };
  return {
    verdict: report.verdict.status,
    detectedRepetitions: report.verdict.detectedRepetitions,
    groups,
    membership,
    epsilon: report.epsilon ? { epsilon: report.epsilon.epsilon, maximumEpsilon: report.epsilon.maximumEpsilon } : null,
  };
}

/** When each inserted group is first detected by its audit's own Holm-corrected test (points sorted by step). */
export function detectionSteps(
  points: readonly TrajectoryPoint[],
  reports: readonly AuditReport[],
): TrajectoryDetection[] {
  const repetitions = [
    ...new Set(points.flatMap((point) => point.groups.map((group) => group.repetitions)).filter((r) => r !== null)),
  ].sort((a, b) => a - b);
  return repetitions.map((count) => {
    const firstOn = (score: ScoreName) => {
      const index = reports.findIndex((report) =>
        report.tests.some((test) => test.repetitions === count && test.score === score && test.significant),
      );
      return index < 0 ? null : points[index]!.step;
    };
    const detectedSteps = points
      .filter((point) => point.groups.some((group) => group.repetitions === count && group.detected))
      .map((point) => point.step);
    return {
      repetitions: count,
      label: points[0]!.groups.find((group) => group.repetitions === count)?.label ?? `${count} repetitions`,
      firstStep: detectedSteps[0] ?? null,
      firstStepByScore: { cer: firstOn('cer'), modelScore: firstOn('modelScore') },
      detectedSteps,
    };
  });
}

/** compare()'s primary tests at one step: each other series against the first. */
export function comparisonAtStep(
  step: number,
  comparison: ComparisonReport,
  comparisonDir: string,
): TrajectoryComparison {
  const pairs: TrajectoryComparisonPair[] = comparison.pairs.map((pair) => ({
    other: pair.other,
    primary: pair.primary.map((test) => ({
      score: test.score,
      meanDifference: test.meanDifference,
      pValue: test.pValue,
      adjustedPValue: test.adjustedPValue,
      finding: test.finding,
    })),
    verdict: pair.verdict,
  }));
  return { step, reference: comparison.models[0]!.name, comparisonDir, pairs };
}

const listSteps = (steps: readonly number[]) => steps.join(', ');
const listCounts = (counts: readonly number[]) =>
  `${counts.length > 1 ? `${counts.slice(0, -1).join(', ')} and ${counts[counts.length - 1]}` : counts[0]} repetition${counts.length === 1 && counts[0] === 1 ? '' : 's'}`;

/** Sentences that sum the trajectory up: per series, when each group is first detected and what the last step shows. */
export function summarize(series: readonly TrajectorySeries[], comparisons: readonly TrajectoryComparison[]): string[] {
  const lines: string[] = [];
  for (const one of series) {
    const steps = one.points.map((point) => point.step);
    const detected = one.detection.filter((entry) => entry.firstStep !== null);
    const never = one.detection.filter((entry) => entry.firstStep === null).map((entry) => entry.label);
    const byStep = new Map<number, number[]>();
    for (const entry of detected)
      byStep.set(entry.firstStep!, [...(byStep.get(entry.firstStep!) ?? []), entry.repetitions]);
    const first = [...byStep.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([step, counts]) => `at step ${step} for ${listCounts(counts)}`);
    const last = one.points[one.points.length - 1]!;
    lines.push(
      `${one.name} (steps ${listSteps(steps)}): ` +
        (first.length ? `memorization first detected ${first.join('; ')}` : 'no group detected at any step') +
        (never.length && first.length ? `; never detected: ${never.join(', ')}` : '') +
        `; at step ${last.step} the audit says ${last.verdict}${last.detectedRepetitions.length ? ` (groups ${last.detectedRepetitions.join(', ')})` : ''}.`,
    );
  }
  for (const comparison of comparisons) {
    for (const pair of comparison.pairs) {
      const found = pair.primary.filter(
        (test) => test.finding === 'other-memorizes-less' || test.finding === 'other-memorizes-more',
      );
      if (found.length === 0) continue;
      lines.push(
        `step ${comparison.step}: ${pair.other} ${found[0]!.finding === 'other-memorizes-less' ? 'memorizes less' : 'memorizes more'} than ${comparison.reference} ` +
          `(${found.map((test) => `${test.score === 'cer' ? 'CER' : 'model score'} adjusted p ${formatP(test.adjustedPValue ?? test.pValue)}`).join(', ')}).`,
      );
    }
  }
  if (comparisons.length > 0 && !lines.some((line) => line.startsWith('step ')))
    lines.push(
      `At no common step (${listSteps(comparisons.map((entry) => entry.step))}) does compare find a series memorizing ` +
        `less or more than ${comparisons[0]!.reference} beyond the held-out difference.`,
    );
  return lines;
}

export function formatP(p: number): string {
  if (p === 0) return '0';
  if (p < 1e-3) return p.toExponential(1);
  return p.toPrecision(2);
}
