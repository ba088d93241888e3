/**
 * compare(): models audited on the same canary set, side by side. Each model
 * is tested against the first (the reference) per score:
 *
 * - Primary: one Wilcoxon signed-rank test over ALL inserted canaries, paired
 *   by canary (d = other - reference), one-sided in the direction the user
 *   expects (default: the other model memorizes less, d > 0), Holm over models
 *   x scores. Pooling is valid whatever the groups: under H0 each canary's
 *   difference is symmetric about zero independently of the others, so the
 *   sign-flip null distribution is the same with or without strata; pooling
 *   gives a clear effect spread over small groups the power that no single
 *   group has (a 1-repetition effect in 4 canaries cannot reach alpha alone).
 *   We do not weight groups (Van Elteren): the groups are equal in size by
 *   design, where its weights are all equal anyway.
 * - Secondary, per group: the mean difference with a bootstrap interval (the
 *   effect size) and the same test per group, Holm over the pair's groups x
 *   scores, marked secondary.
 * - Control (difference in differences): a model that is less accurate
 *   everywhere also scores higher on inserted canaries. Per score, a one-sided
 *   Mann-Whitney U test (same direction) of the paired differences on inserted
 *   canaries against those on held-out canaries, Holm over models x scores. A
 *   primary finding ("memorizes less/more") needs both this test and the
 *   primary one; a primary test that is significant while the inserted
 *   difference is not beyond the held-out one is 'not-beyond-held-out'.
 * - Context: held-out canaries, two-sided, per score: a difference there is
 *   general accuracy, not memorization.
 *
 * Every test records the smallest p-value it could reach; a test that cannot
 * reach alpha says so instead of "no difference". A score is paired only on the
 * canaries that have it in both models (an infeasible canary has no CTC score),
 * so each test's counts, and what it can reach, are those of its own pairs.
 */
import { basename } from 'node:path';
import { RoteError } from '../../util/errors.ts';
import { OptionError, resolveOptions, type OptionsOf } from '../../util/options.ts';
import { SeededRandom } from '../../util/random.ts';
import { TOOL_VERSION } from '../../util/version.ts';
import { AUDIT_DEFAULTS } from '../defaults.ts';
import { COMPARE_EXPECTATIONS, COMPARE_SETTING_SPECS } from '../options.ts';
import { groupLabel } from '../report/labels.ts';
import { readAuditReport } from '../report/read.ts';
import { modelScoreLabel, pairScoreLabel } from '../report/score.ts';
import { validateComparisonReport, validateReport } from '../report/schema.ts';
import { checkReportConsistency, checkSameCanaries, sameAudit } from '../report/consistency.ts';
import {
  COMPARISON_REPORT_SCHEMA_VERSION,
  type AuditReport,
  type ComparisonGroup,
  type ComparisonPair,
  type ComparisonReport,
  type ScoreName,
} from '../report/types.ts';
import { pairDraft, pairTests, SCORE_RESOLUTION, type PairSettings } from './paired-tests.ts';
import { pairVerdict } from './verdict.ts';

/** The options of compare(): one per COMPARE_SETTING_SPECS (src/audit/options.ts: types, defaults and help there). */
export type CompareOptions = OptionsOf<typeof COMPARE_SETTING_SPECS>;

export { COMPARE_EXPECTATIONS };

export interface ReportSource {
  report: AuditReport;
  path: string | null;
}

function defaultNames(reports: AuditReport[]): string[] {
  const names = reports.map((report) => basename(report.model.dir) || report.model.fingerprint.slice(0, 8));
  if (new Set(names).size === names.length) return names;
  return reports.map((_, i) => String.fromCharCode(65 + (i % 26)) + (i >= 26 ? String(Math.floor(i / 26)) : ''));
}

/** The reports' settings resolved against COMPARE_SETTING_SPECS; alpha defaults to the reports' common one. */
function compareSettings(reports: AuditReport[], options: CompareOptions) {
  const alphas = [...new Set(reports.map((report) => report.settings.alpha))];
  const reportsAlpha = alphas.length === 1 ? alphas[0]! : AUDIT_DEFAULTS.alpha;
  const { alpha, confidence, bootstrapResamples, seed, expect } = resolveOptions(COMPARE_SETTING_SPECS, {
    ...options,
    alpha: options.alpha ?? reportsAlpha,
  });
  return { alpha: alpha!, confidence, bootstrapResamples, seed, expect };
}

/** Refuses what cannot be compared: fewer than two reports, other canary sets, reports that disagree with themselves or each other. */
function checkComparable(sources: ReportSource[]): void {
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
    checkReportConsistency(report, where(i));
  });
  checkSameCanaries(reports, where);
}

/** The display names, one per report, distinct. */
function reportNames(reports: AuditReport[], names: string[] | undefined): string[] {
  const chosen = names ?? defaultNames(reports);
  if (chosen.length !== reports.length)
    throw new OptionError((name) => `${name('names')} gives ${chosen.length} names for ${reports.length} reports`);
  if (new Set(chosen).size !== chosen.length)
    throw new OptionError((name) => `${name('names')} repeats a name: ${chosen.join(', ')}`);
  return chosen;
}

/** Groups side by side: each model's own summary of each group. */
function groupsSideBySide(reports: AuditReport[], names: string[]): ComparisonGroup[] {
  return reports[0]!.groups.map(({ repetitions }) => ({
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
        modelScore: group.modelScore,
        meanCerExposure: group.exposure ? group.exposure.cer.interpolation.mean : null,
        cerAdjustedPValue: cerTest ? cerTest.adjustedPValue : null,
      };
    }),
  }));
}

/** A pair's verdict sentence, with what the reports themselves say about it (the same audit, an inconclusive audit). */
function pairWithVerdict(
  pair: Omit<ComparisonPair, 'verdict'>,
  reports: AuditReport[],
  names: string[],
  settings: ReturnType<typeof compareSettings>,
  family: number,
): ComparisonPair {
  const first = reports[0]!;
  const otherReport = reports[names.indexOf(pair.other)]!;
  const saturated = [first, otherReport].every((report) =>
    report.rows.every((row) => row.repetitions === null || row.cer === 0),
  );
  const scoreText = (score: ScoreName) =>
    score === 'cer' ? 'CER' : pairScoreLabel(modelScoreLabel(first.model), modelScoreLabel(otherReport.model));
  const insertedTotal = first.rows.filter((row) => row.repetitions !== null).length;
  let verdict = pairVerdict(
    pair,
    settings.alpha,
    settings.expect,
    settings.confidence,
    family,
    saturated,
    scoreText,
    insertedTotal,
  );
  if (sameAudit(first, otherReport))
    verdict =
      `${pair.other} and ${pair.baseline} are the same audit (model ${first.model.fingerprint.slice(0, 12)}, every transcription and score identical): ` +
      `comparing an audit with itself finds no difference by construction; compare audits of different models. ${verdict}`;
  const inconclusive = [0, names.indexOf(pair.other)]
    .filter((i) => reports[i]!.verdict.status === 'inconclusive')
    .map((i) => names[i]!);
  if (inconclusive.length > 0) {
    verdict += `; caution: the audit of ${inconclusive.join(' and ')} is inconclusive (${reports[names.indexOf(inconclusive[0]!)]!.verdict.inconclusiveReasons[0]!.split(' (')[0]}), so scores compared here may carry no information on memorization`;
  }
  return { ...pair, verdict };
}

/** The comparison from reports already read (pure). */
export function compareReports(sources: ReportSource[], options: CompareOptions = {}): ComparisonReport {
  checkComparable(sources);
  const reports = sources.map((source) => source.report);
  const first = reports[0]!;
  const names = reportNames(reports, options.names);
  const settings = compareSettings(reports, options);
  const { alpha, confidence, bootstrapResamples, seed, expect } = settings;
  const pairSettings: PairSettings = {
    alpha,
    confidence,
    bootstrapResamples,
    alternative: expect === 'less' ? 'greater' : expect === 'more' ? 'less' : 'two-sided',
    random: new SeededRandom(seed),
  };
  const drafts = reports.slice(1).map((other, k) => pairDraft(first, other, names[0]!, names[k + 1]!, pairSettings));
  const tested = pairTests(drafts, pairSettings);
  // The primary tests of every pair form one Holm family.
  const family = tested.reduce((sum, pair) => sum + pair.primary.length, 0);
  const pairs = tested.map((pair) => pairWithVerdict(pair, reports, names, settings, family));
  return {
    schemaVersion: COMPARISON_REPORT_SCHEMA_VERSION,
    kind: 'rote-comparison-report',
    tool: { name: 'rote', version: TOOL_VERSION },
    canarySet: { setId: first.canarySet.setId, canaries: first.canarySet.canaries },
    settings: { alpha, confidence, bootstrapResamples, seed, scoreResolution: { ...SCORE_RESOLUTION }, expect },
    models: reports.map((report, i) => ({
      name: names[i]!,
      reportPath: sources[i]!.path,
      modelDir: report.model.dir,
      modelFingerprint: report.model.fingerprint,
      family: report.model.family,
      scoreLabel: modelScoreLabel(report.model),
      providers: report.providers,
      verdict: report.verdict.sentence,
      verdictStatus: report.verdict.status,
    })),
    groups: groupsSideBySide(reports, names),
    pairs,
    verdict: pairs.map((pair) => pair.verdict).join(' | '),
  };
}

/** Compares audit reports given as objects or as paths (report.json or the directory holding it). */
export async function compare(
  inputs: (AuditReport | string)[],
  options: CompareOptions = {},
): Promise<ComparisonReport> {
  const sources: ReportSource[] = [];
  for (const [i, input] of inputs.entries()) {
    if (typeof input === 'string') sources.push(await readAuditReport(input));
    else sources.push({ report: validateReport(input, `report ${i + 1}`), path: null });
  }
  const report = compareReports(sources, options);
  validateComparisonReport(report, 'the comparison being written');
  return report;
}
