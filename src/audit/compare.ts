/**
 * compare(): models audited on the same canary set, side by side, with a
 * paired test per group (Wilcoxon signed-rank on per-canary scores, each
 * model against the first, the baseline) and the mean difference with a
 * bootstrap interval. Differences are other - baseline: positive CER
 * differences on inserted canaries mean the other model recognizes them
 * worse, i.e. memorizes less.
 */
import { basename, join } from 'node:path';
import { RoteError } from '../util/errors.ts';
import { SeededRandom } from '../util/random.ts';
import { TOOL_VERSION } from '../util/version.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { formatP, groupLabel } from './build-report.ts';
import { holmAdjust, pairedDifference } from './statistics.ts';
import { readAuditReport } from './audit.ts';
import { comparisonHtml, comparisonMarkdown } from './render.ts';
import { validateComparisonReport, validateReport } from './schema.ts';
import {
  COMPARISON_REPORT_SCHEMA_VERSION,
  type AuditReport,
  type CanaryRow,
  type ComparisonGroup,
  type ComparisonPair,
  type ComparisonReport,
  type PairedTest,
  type ScoreName,
} from './types.ts';


/**
 * Paired differences smaller than this count as ties (zeros in the Wilcoxon
 * test). CER differences are exact. CTC scores (negative log-likelihood per
 * character) from the same model differ by ~1e-5 between inference engines,
 * providers and thread counts (ONNX Runtime vs PyTorch agreed to 2e-5 on the
 * reference models), so two models that both fit a canary perfectly would
 * otherwise "differ" significantly by rounding noise alone.
 */
export const SCORE_RESOLUTION: Record<ScoreName, number> = { cer: 0, ctcScore: 1e-3 };

export interface CompareOptions {
  /** Display names, one per report (default: the model directories' names, or A, B, ... when those repeat). */
  names?: string[];
  /** Significance level (default: the reports' common alpha, else 0.01). */
  alpha?: number;
  confidence?: number;
  bootstrapResamples?: number;
  seed?: string;
}

export interface ReportSource {
  report: AuditReport;
  path: string | null;
}

function defaultNames(reports: AuditReport[]): string[] {
  const names = reports.map((report) => basename(report.model.dir) || report.model.fingerprint.slice(0, 8));
  if (new Set(names).size === names.length) return names;
  return reports.map((_, i) => String.fromCharCode(65 + (i % 26)) + (i >= 26 ? String(Math.floor(i / 26)) : ''));
}

function describeRepetitions(counts: number[], all: number[]): string {
  const sorted = [...counts].sort((a, b) => a - b);
  const from = sorted[0]!;
  const upward = all.filter((r) => r >= from);
  if (!upward.every((r) => sorted.includes(r))) return `at ${sorted.join(', ')} repetitions`;
  return upward.length === 1 ? `at ${groupLabel(from)}` : `from ${groupLabel(from)} up`;
}

function pairVerdict(baseline: string, other: string, tests: PairedTest[], insertedCounts: number[], alpha: number): string {
  const less = [...new Set(tests.filter((test) => test.finding === 'other-memorizes-less').map((test) => test.repetitions!))];
  const more = [...new Set(tests.filter((test) => test.finding === 'other-memorizes-more').map((test) => test.repetitions!))];
  const parts: string[] = [];
  if (less.length > 0) parts.push(`${other} memorizes less than ${baseline} ${describeRepetitions(less, insertedCounts)}`);
  if (more.length > 0) parts.push(`${other} memorizes more than ${baseline} ${describeRepetitions(more, insertedCounts)}`);
  let sentence = parts.length > 0 ? parts.join(', and ') : `no difference detected between ${other} and ${baseline} at alpha = ${alpha}`;
  const heldOut = tests.find((test) => test.repetitions === null && test.score === 'cer');
  if (heldOut && (heldOut.finding === 'other-worse-on-held-out' || heldOut.finding === 'other-better-on-held-out')) {
    const worse = heldOut.finding === 'other-worse-on-held-out';
    sentence +=
      ` (held-out canaries differ too: ${other} recognizes unseen canaries ${worse ? 'worse' : 'better'}, mean CER difference ` +
      `${heldOut.meanDifference.estimate >= 0 ? '+' : ''}${heldOut.meanDifference.estimate.toFixed(3)}, p = ${formatP(heldOut.pValue)}; part of the difference may be general accuracy)`;
  }
  return sentence;
}

/** The comparison from reports already read (pure). */
export function compareReports(sources: ReportSource[], options: CompareOptions = {}): ComparisonReport {
  if (sources.length < 2) throw new RoteError(`compare needs at least two audit reports, got ${sources.length}`);
  const reports = sources.map((source) => source.report);
  const where = (i: number) => sources[i]!.path ?? `report ${i + 1}`;
  const first = reports[0]!;
  reports.forEach((report, i) => {
    if (report.canarySet.setId !== first.canarySet.setId) {
      throw new RoteError(
        `${where(i)} audits canary set ${report.canarySet.setId.slice(0, 12)} but ${where(0)} audits ${first.canarySet.setId.slice(0, 12)}: ` +
          'compare only reports of the same canary set (the models must be trained with the same canaries)',
      );
    }
    const ids = report.rows.map((row) => row.id).join('\n');
    if (ids !== first.rows.map((row) => row.id).join('\n')) throw new RoteError(`${where(i)} and ${where(0)} hold different canaries although their set ids match; re-run both audits with this rote`);
  });
  const names = options.names ?? defaultNames(reports);
  if (names.length !== reports.length) throw new RoteError(`--names gives ${names.length} names for ${reports.length} reports`);
  if (new Set(names).size !== names.length) throw new RoteError(`--names repeats a name: ${names.join(', ')}`);
  const alphas = [...new Set(reports.map((report) => report.settings.alpha))];
  const alpha = options.alpha ?? (alphas.length === 1 ? alphas[0]! : 0.01);
  const confidence = options.confidence ?? 0.95;
  const bootstrapResamples = options.bootstrapResamples ?? 2000;
  const seed = options.seed ?? 'rote-compare';
  if (!(alpha > 0 && alpha < 1)) throw new RoteError(`--alpha must be between 0 and 1 (exclusive), got ${alpha}`);

  const groupKeys = first.groups.map((group) => group.repetitions);
  const insertedCounts = groupKeys.filter((r): r is number => r !== null);
  const groups: ComparisonGroup[] = groupKeys.map((repetitions) => ({
    repetitions,
    label: groupLabel(repetitions),
    models: reports.map((report, i) => {
      const group = report.groups.find((g) => g.repetitions === repetitions)!;
      const cerTest = report.tests.find((test) => test.repetitions === repetitions && test.score === 'cer');
      return {
        name: names[i]!,
        count: group.count,
        cer: group.cer,
        exactMatchRate: group.exactMatchRate,
        ctcScore: group.ctcScore,
        meanCerExposure: group.exposure ? group.exposure.cer.interpolation.mean : null,
        cerAdjustedPValue: cerTest ? cerTest.adjustedPValue : null,
      };
    }),
  }));

  const random = new SeededRandom(seed);
  const pairs: ComparisonPair[] = reports.slice(1).map((other, k) => {
    const baselineName = names[0]!;
    const otherName = names[k + 1]!;
    const scores: ScoreName[] = ['cer'];
    if (first.rows.every((row) => row.ctcScore !== null) && other.rows.every((row) => row.ctcScore !== null)) scores.push('ctcScore');
    const value = (row: CanaryRow, score: ScoreName) => (score === 'cer' ? row.cer : row.ctcScore!);
    const raw = groupKeys.flatMap((repetitions) =>
      scores.map((score) => {
        const a = first.rows.filter((row) => row.repetitions === repetitions).map((row) => value(row, score));
        const b = other.rows.filter((row) => row.repetitions === repetitions).map((row, i) => {
          const otherScore = value(row, score);
          return Math.abs(otherScore - a[i]!) < SCORE_RESOLUTION[score] ? a[i]! : otherScore;
        });
        const result = pairedDifference(
          a,
          b,
          random.fork(`${otherName}-${baselineName}/${groupLabel(repetitions)}/${score}`),
          { resamples: bootstrapResamples, confidence },
        );
        return { repetitions, score, result };
      }),
    );
    const insertedIndices = raw.map((entry, i) => (entry.repetitions === null ? -1 : i)).filter((i) => i >= 0);
    const adjusted = holmAdjust(insertedIndices.map((i) => raw[i]!.result.wilcoxon.pTwoSided));
    const adjustedByIndex = new Map(insertedIndices.map((index, j) => [index, adjusted[j]!]));
    const tests: PairedTest[] = raw.map(({ repetitions, score, result }, i) => {
      const adjustedPValue = adjustedByIndex.get(i) ?? null;
      const positive = result.wilcoxon.wPlus > result.wilcoxon.wMinus;
      let finding: PairedTest['finding'] = 'no-difference';
      if (repetitions === null) {
        if (result.wilcoxon.pTwoSided < alpha) finding = positive ? 'other-worse-on-held-out' : 'other-better-on-held-out';
      } else if (adjustedPValue !== null && adjustedPValue < alpha) {
        finding = positive ? 'other-memorizes-less' : 'other-memorizes-more';
      }
      return {
        repetitions,
        score,
        test: 'wilcoxon-signed-rank-two-sided',
        pairs: result.wilcoxon.n + result.wilcoxon.zeros,
        zeros: result.wilcoxon.zeros,
        meanDifference: result.mean,
        medianDifference: result.median,
        wPlus: result.wilcoxon.wPlus,
        wMinus: result.wilcoxon.wMinus,
        pValue: result.wilcoxon.pTwoSided,
        adjustedPValue,
        method: result.wilcoxon.method,
        rankBiserial: result.wilcoxon.rankBiserial,
        finding,
      };
    });
    return { baseline: baselineName, other: otherName, tests, verdict: pairVerdict(baselineName, otherName, tests, insertedCounts, alpha) };
  });

  return {
    schemaVersion: COMPARISON_REPORT_SCHEMA_VERSION,
    kind: 'rote-comparison-report',
    tool: { name: 'rote', version: TOOL_VERSION },
    canarySet: { setId: first.canarySet.setId, canaries: first.canarySet.canaries },
    settings: { alpha, confidence, bootstrapResamples, seed, scoreResolution: { ...SCORE_RESOLUTION } },
    models: reports.map((report, i) => ({
      name: names[i]!,
      reportPath: sources[i]!.path,
      modelDir: report.model.dir,
      modelFingerprint: report.model.fingerprint,
      family: report.model.family,
      providers: report.providers,
      verdict: report.verdict.sentence,
    })),
    groups,
    pairs,
    verdict: pairs.map((pair) => pair.verdict).join('; '),
  };
}

/** Compares audit reports given as objects or as paths (report.json or the directory holding it). */
export async function compare(inputs: (AuditReport | string)[], options: CompareOptions = {}): Promise<ComparisonReport> {
  const sources: ReportSource[] = [];
  for (const [i, input] of inputs.entries()) {
    if (typeof input === 'string') sources.push(await readAuditReport(input));
    else sources.push({ report: validateReport(input, `report ${i + 1}`), path: null });
  }
  const report = compareReports(sources, options);
  validateComparisonReport(report, 'the comparison being written');
  return report;
}

/** Writes comparison.json, comparison.md and comparison.html into `dir`, each atomically. */
export async function writeComparisonReport(report: ComparisonReport, dir: string): Promise<{ json: string; markdown: string; html: string }> {
  const paths = { json: join(dir, 'comparison.json'), markdown: join(dir, 'comparison.md'), html: join(dir, 'comparison.html') };
  await writeFileAtomic(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(paths.markdown, comparisonMarkdown(report));
  await writeFileAtomic(paths.html, comparisonHtml(report));
  return paths;
}
