/**
 * What compare checks in the audit reports it reads beyond their schema: every number in its range, the
 * group summaries agreeing with the rows (an edited report is refused, not used as it is), and the same
 * canaries with the same labels in every report. Each refusal names the file and the field.
 */
import { RoteError } from '../../util/errors.ts';
import { normalizeTranscript } from '../stats/metrics.ts';
import { groupLabel } from './labels.ts';
import type { AuditReport, CanaryRow, Interval } from './types.ts';

/**
 * The largest magnitude a model score (negative log-likelihood per character) may have. A log-softmax of
 * float32 logits gives a few hundred nats per frame at worst and a canary has a few frames per character;
 * beyond this the number is not a score, and sums of such numbers overflow.
 */
export const MODEL_SCORE_LIMIT = 1e6;

/** Relative tolerance of a stored mean against the mean of the rows (summation order). */
const MEAN_TOLERANCE = 1e-9;

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const close = (a: number, b: number) => Math.abs(a - b) <= MEAN_TOLERANCE * Math.max(1, Math.abs(a), Math.abs(b));
const length = (text: string) => Array.from(text).length;

function rowProblems(row: CanaryRow, field: string): string[] {
  const problems: string[] = [];
  // Levenshtein distance is at most the longer sequence, so an error rate is at most max(reference, hypothesis) / reference.
  const hypothesis = normalizeTranscript(row.hypothesis);
  const rates = [
    ['cer', row.cer, row.referenceCharacters, length(hypothesis)],
    ['wer', row.wer, row.referenceWords, hypothesis === '' ? 0 : hypothesis.split(' ').length],
  ] as const;
  for (const [key, rate, reference, hypothesisLength] of rates) {
    const most = Math.max(reference, hypothesisLength) / Math.max(1, reference);
    if (!(rate >= 0)) problems.push(`${field}.${key}: ${rate} is below 0 (an error rate is edits / reference length)`);
    else if (rate > most * (1 + MEAN_TOLERANCE))
      problems.push(
        `${field}.${key}: ${rate} is above ${+most.toFixed(6)}, the most a hypothesis of this length can give against this reference`,
      );
  }
  for (const key of ['referenceCharacters', 'referenceWords'] as const)
    if (row[key] < 1) problems.push(`${field}.${key}: ${row[key]}, but a canary's reference is never empty`);
  if (row.exactMatch !== (row.cer === 0))
    problems.push(`${field}.exactMatch: ${row.exactMatch} with a CER of ${row.cer} (an exact match is a CER of 0)`);
  for (const key of ['modelScore', 'modelScorePerToken'] as const) {
    const value = row[key];
    if (value !== null && Math.abs(value) > MODEL_SCORE_LIMIT)
      problems.push(`${field}.${key}: ${value} is beyond ±${MODEL_SCORE_LIMIT} (a log-likelihood per character)`);
  }
  return problems;
}

function intervalProblems(stored: Interval | null, values: number[], field: string, what: string): string[] {
  if (stored === null) return [];
  if (values.length === 0) return [`${field}: a summary, but no row of the group has ${what}`];
  const problems: string[] = [];
  const expected = mean(values);
  if (!close(stored.estimate, expected))
    problems.push(`${field}.estimate: ${stored.estimate}, but the group's rows give a mean ${what} of ${expected}`);
  if (!(stored.low <= stored.high)) problems.push(`${field}: low ${stored.low} is above high ${stored.high}`);
  return problems;
}

function groupProblems(report: AuditReport): string[] {
  const problems: string[] = [];
  const labels = [...new Set(report.rows.map((row) => row.repetitions))];
  const groupKeys = report.groups.map((group) => group.repetitions);
  for (const label of labels)
    if (!groupKeys.includes(label))
      problems.push(`$.groups: no summary of the ${groupLabel(label)} group that rows are labelled with`);
  report.groups.forEach((group, g) => {
    const field = `$.groups[${g}]`;
    const members = report.rows.filter((row) => row.repetitions === group.repetitions);
    if (groupKeys.indexOf(group.repetitions) !== g)
      problems.push(`${field}.repetitions: a second ${group.label} group`);
    if (members.length === 0) {
      problems.push(`${field}: the ${group.label} group has no rows`);
      return;
    }
    if (group.count !== members.length)
      problems.push(`${field}.count: ${group.count}, but ${members.length} rows are labelled ${group.label}`);
    const exact = members.filter((row) => row.exactMatch).length;
    if (group.exactMatches !== exact)
      problems.push(`${field}.exactMatches: ${group.exactMatches}, but ${exact} of its rows are exact matches`);
    if (!close(group.exactMatchRate.estimate, exact / members.length))
      problems.push(
        `${field}.exactMatchRate.estimate: ${group.exactMatchRate.estimate}, not ${exact} / ${members.length}`,
      );
    problems.push(
      ...intervalProblems(
        group.cer,
        members.map((row) => row.cer),
        `${field}.cer`,
        'CER',
      ),
      ...intervalProblems(
        group.wer,
        members.map((row) => row.wer),
        `${field}.wer`,
        'WER',
      ),
      ...intervalProblems(
        group.modelScore,
        members.flatMap((row) => (row.modelScore === null ? [] : [row.modelScore])),
        `${field}.modelScore`,
        'model score',
      ),
    );
  });
  report.tests.forEach((test, t) => {
    if (!groupKeys.includes(test.repetitions))
      problems.push(`$.tests[${t}].repetitions: ${test.repetitions}, a group the report does not have`);
  });
  if (report.canarySet.canaries !== report.rows.length)
    problems.push(`$.canarySet.canaries: ${report.canarySet.canaries}, but the report has ${report.rows.length} rows`);
  return problems;
}

/** Refuses a report whose numbers are out of range or whose summaries disagree with its rows, naming `source` and each field. */
export function checkReportConsistency(report: AuditReport, source: string): void {
  const problems = [...report.rows.flatMap((row, i) => rowProblems(row, `$.rows[${i}]`)), ...groupProblems(report)];
  if (problems.length > 0)
    throw new RoteError(
      `${source}: this audit report does not agree with itself (edited, or not written by rote audit):\n  ${problems.slice(0, 20).join('\n  ')}` +
        `${problems.length > 20 ? `\n  ... and ${problems.length - 20} more` : ''}\nRe-run the audit to get a report that compare can read.`,
    );
}

/**
 * Refuses reports whose canaries differ or carry different labels (held-out in one, inserted in another, or
 * another repetition count). `where(i)` names report i.
 */
export function checkSameCanaries(reports: readonly AuditReport[], where: (i: number) => string): void {
  const first = reports[0]!;
  reports.forEach((report, i) => {
    const ids = report.rows.map((row) => row.id).join('\n');
    if (ids !== first.rows.map((row) => row.id).join('\n'))
      throw new RoteError(
        `${where(i)} and ${where(0)} hold different canaries although their set ids match; re-run both audits with this rote`,
      );
    report.rows.forEach((row, r) => {
      const label = first.rows[r]!.repetitions;
      if (row.repetitions !== label)
        throw new RoteError(
          `${where(i)}: $.rows[${r}].repetitions: canary ${row.id} is ${groupLabel(row.repetitions)} there but ${groupLabel(label)} in ${where(0)}; ` +
            'the reports of one canary set label every canary alike: re-run the audits from the same canary set',
        );
    });
  });
}

/** Whether two reports are one audit: the same model and the same transcription and scores of every canary. */
export function sameAudit(a: AuditReport, b: AuditReport): boolean {
  return (
    a.model.fingerprint === b.model.fingerprint &&
    a.rows.length === b.rows.length &&
    a.rows.every((row, i) => {
      const other = b.rows[i]!;
      return (
        row.id === other.id &&
        row.hypothesis === other.hypothesis &&
        row.cer === other.cer &&
        row.modelScore === other.modelScore
      );
    })
  );
}
