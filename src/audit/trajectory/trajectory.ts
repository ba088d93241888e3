/**
 * trajectory(): audits every checkpoint of one or more series with one canary set (each audit in
 * OUT/audits/<series>/<step>/, reused when done, resumed when cut short), compares the series at every
 * step they share (OUT/comparisons/step-<N>/), and writes trajectory.{json,md,html} atomically.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { detectModel, externalDataPath, FeatureCache, readOnnxFile } from '../../asr/index.ts';
import { openCanarySet, type OpenedCanarySet } from '../../canary/index.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { RoteError } from '../../util/errors.ts';
import { sha256File } from '../../util/hash.ts';
import { OptionError, resolveOption } from '../../util/options.ts';
import { TOOL_VERSION } from '../../util/version.ts';
import { audit, writeAuditReport } from '../pipeline/audit.ts';
import { readAuditReport } from '../report/read.ts';
import { compare, writeComparisonFiles } from '../compare/index.ts';
import { resolveAuditSettings, type AuditSettingsInput } from '../options.ts';
import type { AuditReport, CompareExpectation } from '../report/types.ts';
import { TRAJECTORY_OPTION_SPECS } from './options.ts';
import { trajectoryHtml, trajectoryMarkdown } from './render.ts';
import { checkSeries, parseSeriesSpec, type TrajectorySeriesInput } from './series.ts';
import { comparisonAtStep, detectionSteps, pointFromReport, summarize } from './summarize.ts';
import {
  TRAJECTORY_REPORT_SCHEMA_VERSION,
  type TrajectoryComparison,
  type TrajectoryPoint,
  type TrajectoryReport,
  type TrajectorySeries,
} from './types.ts';

export interface TrajectoryOptions extends Omit<AuditSettingsInput, 'delta' | 'epsilonConfidence' | 'maxDurationSec'> {
  /** Canary-set directory: every checkpoint is audited with it. */
  canaries: string;
  /** Series of checkpoints: `NAME=GLOB` / `NAME=STEP:DIR,...` strings (as `--series` takes them) or objects. The first is the comparisons' reference. */
  series: (string | TrajectorySeriesInput)[];
  /** Output folder (default 'trajectory'): an absent or empty folder, or an earlier trajectory of the same canary set (continued). */
  out?: string;
  /** Direction of compare's primary test at every common step (default 'less': the other series memorize less than the first). */
  expect?: CompareExpectation;
  /**
   * Audit reports (report.json or their folders) made elsewhere that may stand for a checkpoint: one is used where its
   * model files, canary set and statistical settings are the checkpoint's (the demo passes its own audits).
   */
  reuseAudits?: string[];
  /** Called before each checkpoint's audit (or reuse). */
  onCheckpoint?: (checkpoint: { series: string; step: number; model: string; index: number; total: number }) => void;
  /** Called after each canary of the checkpoint being audited. */
  onProgress?: (done: number, total: number) => void;
  onNotice?: (message: string, kind: 'info' | 'warning') => void;
  /** Features kept across the checkpoints' audits (default: a new cache, so each canary's features are computed once per frontend). */
  featureCache?: FeatureCache;
}

export interface TrajectoryResult {
  report: TrajectoryReport;
  out: string;
  paths: { json: string; markdown: string; html: string };
}

const MARKER = '.rote-trajectory.json';
const OUTPUT_ENTRIES = new Set([
  MARKER,
  'audits',
  'comparisons',
  'trajectory.json',
  'trajectory.md',
  'trajectory.html',
  '.rote.lock',
]);

const inside = (child: string, parent: string) => child === parent || child.startsWith(parent + sep);

/** Claims `out` for this trajectory: absent, empty, or an earlier trajectory of the same canary set; refuses the rest. */
async function prepareOut(out: string, opened: OpenedCanarySet, inputs: string[]): Promise<void> {
  for (const input of inputs) {
    if (inside(out, input))
      throw new OptionError(
        (name) =>
          `${name('out')} ${out} is inside the input ${input}; choose an output folder outside the models and canaries`,
      );
    if (inside(input, join(out, 'audits')) || inside(input, join(out, 'comparisons')))
      throw new OptionError(
        (name) =>
          `the input ${input} lies inside ${name('out')} ${out}'s own folders; move it or choose another ${name('out')}`,
      );
  }
  let names: string[] = [];
  try {
    if (!(await stat(out)).isDirectory())
      throw new OptionError((name) => `${name('out')} ${out} is a file; rote trajectory writes a folder`);
    names = await readdir(out);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (names.length > 0) {
    if (!names.includes(MARKER))
      throw new OptionError(
        (name) =>
          `${name('out')} ${out} holds files not written by rote trajectory; choose an empty or new folder (an earlier trajectory's folder is continued)`,
      );
    let marker: { setId?: string; canarySetSha256?: string; canaries?: string };
    try {
      marker = JSON.parse(await readFile(join(out, MARKER), 'utf8'));
    } catch (error) {
      throw new RoteError(
        `${join(out, MARKER)}: not readable (${(error as Error).message}); remove ${out} to start afresh`,
      );
    }
    if (marker.canarySetSha256 !== opened.hash)
      throw new RoteError(
        `${out} holds a trajectory audited with the canary set ${marker.canaries ?? '?'} (set ${String(marker.setId).slice(0, 12)}), ` +
          `not with ${opened.dir} (set ${opened.set.setId.slice(0, 12)}): one trajectory, one canary set; choose another --out`,
      );
    const foreign = names.filter((entry) => !OUTPUT_ENTRIES.has(entry) && !entry.startsWith('.'));
    if (foreign.length > 0)
      throw new OptionError(
        (name) =>
          `${name('out')} ${out} also holds ${foreign.slice(0, 3).join(', ')}, which rote trajectory did not write; move them away`,
      );
    return;
  }
  await mkdir(out, { recursive: true });
  await writeFileAtomic(
    join(out, MARKER),
    `${JSON.stringify({ kind: 'rote-trajectory-output', setId: opened.set.setId, canarySetSha256: opened.hash, canaries: opened.dir }, null, 2)}\n`,
  );
}

/** Refuses a checkpoint whose model family differs from the first checkpoint's, before anything is audited. */
async function commonFamily(series: TrajectorySeriesInput[]): Promise<string> {
  let first: { family: string; where: string } | null = null;
  for (const one of series) {
    for (const checkpoint of one.checkpoints) {
      const { family } = await detectModel(checkpoint.model);
      const where = `series ${one.name} step ${checkpoint.step} (${checkpoint.model})`;
      if (!first) first = { family, where };
      else if (family !== first.family)
        throw new RoteError(
          `${where} is a ${family} model, but ${first.where} is ${first.family}: a trajectory follows one model through training, ` +
            'so every checkpoint must be the same kind of model; audit the other one separately (rote audit)',
        );
    }
  }
  return first!.family;
}

/** Whether `report` is an audit of the files now in `modelDir` with this canary set and these statistical settings. */
async function reportFits(
  report: AuditReport,
  modelDir: string,
  opened: OpenedCanarySet,
  family: string,
  settings: ReturnType<typeof resolveAuditSettings>['settings'],
): Promise<boolean> {
  if (report.canarySet.fileSha256 !== opened.hash || report.model.family !== family) return false;
  const s = report.settings;
  if (
    s.alpha !== settings.alpha ||
    s.confidence !== settings.confidence ||
    s.bootstrapResamples !== settings.bootstrapResamples ||
    s.seed !== settings.seed
  )
    return false;
  const listed = new Set(report.model.files.map((file) => resolve(modelDir, file.path)));
  for (const file of report.model.files) {
    const path = join(modelDir, file.path);
    if (!existsSync(path) || (await sha256File(path)) !== file.sha256) return false;
    // The weights an .onnx file keeps outside itself (external data) must be in the report too: a report of an
    // older rote lists the .onnx files alone, and checkpoints saved that way share one .onnx file byte for byte.
    if (path.toLowerCase().endsWith('.onnx'))
      for (const data of (await readOnnxFile(path)).externalData) {
        const dataPath = externalDataPath(path, data.location);
        if (dataPath === null || !listed.has(resolve(dataPath))) return false;
      }
  }
  return true;
}

async function readReportIfAny(dir: string): Promise<AuditReport | null> {
  if (!existsSync(join(dir, 'report.json'))) return null;
  return (await readAuditReport(dir)).report;
}

export async function trajectory(options: TrajectoryOptions): Promise<TrajectoryResult> {
  const get = <T>(key: string, value: T | undefined) => resolveOption<T>(TRAJECTORY_OPTION_SPECS, key, value);
  const canaries = get<string>('canaries', options.canaries);
  const out = resolve(get<string>('out', options.out));
  const expect = get<CompareExpectation>('expect', options.expect);
  const { settings } = resolveAuditSettings(options);
  if (!Array.isArray(options.series) || options.series.length === 0)
    throw new OptionError((name) => `${name('series')} is required: at least one series of checkpoints`);
  const inputs: TrajectorySeriesInput[] = [];
  for (const one of options.series) inputs.push(typeof one === 'string' ? await parseSeriesSpec(one) : one);
  const series = checkSeries(inputs);
  const opened = await openCanarySet(canaries);
  const family = await commonFamily(series);
  await prepareOut(out, opened, [opened.dir, ...series.flatMap((one) => one.checkpoints.map((c) => c.model))]);

  const borrowed: { report: AuditReport; path: string }[] = [];
  for (const path of options.reuseAudits ?? []) borrowed.push(await readAuditReport(path));

  const featureCache = options.featureCache ?? new FeatureCache();
  const context: AuditContext = { options, canaries, opened, family, settings, borrowed, featureCache };
  const total = series.reduce((sum, one) => sum + one.checkpoints.length, 0);
  let index = 0;
  const seriesResults: TrajectorySeries[] = [];
  const reportsBySeries = new Map<string, Map<number, { report: AuditReport; dir: string }>>();
  for (const one of series) {
    const points: TrajectoryPoint[] = [];
    const reports: AuditReport[] = [];
    const byStep = new Map<number, { report: AuditReport; dir: string }>();
    for (const checkpoint of one.checkpoints) {
      options.onCheckpoint?.({ series: one.name, step: checkpoint.step, model: checkpoint.model, index, total });
      index++;
      const auditDir = join(out, 'audits', one.name, String(checkpoint.step));
      const { report, how, reusedFrom } = await auditCheckpoint(one.name, checkpoint, auditDir, context);
      reports.push(report);
      byStep.set(checkpoint.step, { report, dir: auditDir });
      points.push({
        step: checkpoint.step,
        modelDir: checkpoint.model,
        modelFingerprint: report.model.fingerprint,
        auditDir: relative(out, auditDir),
        audit: how,
        reusedFrom,
        ...pointFromReport(report),
      });
    }
    reportsBySeries.set(one.name, byStep);
    seriesResults.push({ name: one.name, points, detection: detectionSteps(points, reports) });
  }

  const comparisons: TrajectoryComparison[] = [];
  if (series.length > 1) {
    const common = series[0]!.checkpoints
      .map((checkpoint) => checkpoint.step)
      .filter((step) => series.every((one) => reportsBySeries.get(one.name)!.has(step)));
    for (const step of common) {
      const comparison = await compare(
        series.map((one) => reportsBySeries.get(one.name)!.get(step)!.report),
        {
          names: series.map((one) => one.name),
          alpha: settings.alpha,
          confidence: settings.confidence,
          bootstrapResamples: settings.bootstrapResamples,
          expect,
        },
      );
      const dir = join(out, 'comparisons', `step-${step}`);
      await mkdir(dir, { recursive: true });
      await writeComparisonFiles(comparison, dir);
      comparisons.push(comparisonAtStep(step, comparison, relative(out, dir)));
    }
  }

  const first = reportsBySeries.get(series[0]!.name)!.values().next().value!.report;
  const report: TrajectoryReport = {
    schemaVersion: TRAJECTORY_REPORT_SCHEMA_VERSION,
    kind: 'rote-trajectory-report',
    tool: { name: 'rote', version: TOOL_VERSION },
    canarySet: {
      dir: opened.dir,
      setId: opened.set.setId,
      fileSha256: opened.hash,
      canaries: first.canarySet.canaries,
      repetitions: first.canarySet.repetitions,
      holdout: first.canarySet.holdout,
      membership: first.canarySet.membership,
    },
    family,
    scores: (first.scores ?? [{ score: 'cer', label: 'CER' }]).map((entry) => ({
      score: entry.score,
      label: entry.label,
    })),
    settings: {
      alpha: settings.alpha,
      confidence: settings.confidence,
      bootstrapResamples: settings.bootstrapResamples,
      seed: settings.seed,
      expect,
    },
    series: seriesResults,
    comparisons,
    summary: summarize(seriesResults, comparisons),
  };
  const paths = await writeTrajectoryReport(report, out);
  return { report, out, paths };
}

interface AuditContext {
  options: TrajectoryOptions;
  canaries: string;
  opened: OpenedCanarySet;
  family: string;
  settings: ReturnType<typeof resolveAuditSettings>['settings'];
  /** Reports that may stand for a checkpoint with the same files (given, and audited earlier in this run). */
  borrowed: { report: AuditReport; path: string }[];
  featureCache: FeatureCache;
}

/** One checkpoint's audit: its earlier report when it still fits, else a borrowed one of the same files, else audit() (resuming a cut-short one). */
async function auditCheckpoint(
  seriesName: string,
  checkpoint: { step: number; model: string },
  auditDir: string,
  context: AuditContext,
): Promise<{ report: AuditReport; how: TrajectoryPoint['audit']; reusedFrom: string | null }> {
  const { options, opened, family, settings } = context;
  const earlier = await readReportIfAny(auditDir);
  if (earlier && earlier.canarySet.fileSha256 !== opened.hash)
    throw new RoteError(
      `${join(auditDir, 'report.json')}: audited with another canary set (${earlier.canarySet.dir}, set ${earlier.canarySet.setId.slice(0, 12)}) ` +
        `than this trajectory's ${opened.dir}; every checkpoint of a trajectory is audited with one canary set: remove that folder or choose another --out`,
    );
  if (earlier && (await reportFits(earlier, checkpoint.model, opened, family, settings)))
    return { report: earlier, how: 'reused', reusedFrom: null };
  if (earlier)
    options.onNotice?.(
      `series ${seriesName} step ${checkpoint.step}: the model files or the settings changed since its audit; auditing it again`,
      'warning',
    );
  for (const candidate of context.borrowed) {
    if (await reportFits(candidate.report, checkpoint.model, opened, family, settings)) {
      const report = { ...candidate.report, model: { ...candidate.report.model, dir: checkpoint.model } };
      await mkdir(auditDir, { recursive: true });
      await writeAuditReport(report, auditDir);
      return { report, how: 'reused', reusedFrom: candidate.path };
    }
  }
  const resuming = !earlier && existsSync(join(auditDir, 'rows.jsonl'));
  const report = await audit({
    ...pickAuditSettings(options),
    canaries: context.canaries,
    model: checkpoint.model,
    out: auditDir,
    restart: earlier !== null,
    featureCache: context.featureCache,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.onNotice ? { onNotice: options.onNotice } : {}),
  });
  context.borrowed.push({ report, path: join(auditDir, 'report.json') });
  return { report, how: resuming ? 'resumed' : 'audited', reusedFrom: null };
}

/** The audit settings trajectory() passes on to each audit(). */
function pickAuditSettings(options: TrajectoryOptions): AuditSettingsInput {
  const keys = [
    'provider',
    'deviceId',
    'threads',
    'batchFrames',
    'alpha',
    'confidence',
    'bootstrapResamples',
    'seed',
  ] as const;
  const picked: Record<string, unknown> = {};
  for (const key of keys) if (options[key] !== undefined) picked[key] = options[key];
  return picked as AuditSettingsInput;
}

/** Writes trajectory.json, .md and .html into `dir`, each atomically. */
export async function writeTrajectoryReport(
  report: TrajectoryReport,
  dir: string,
): Promise<{ json: string; markdown: string; html: string }> {
  const paths = {
    json: join(dir, 'trajectory.json'),
    markdown: join(dir, 'trajectory.md'),
    html: join(dir, 'trajectory.html'),
  };
  await writeFileAtomic(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(paths.markdown, trajectoryMarkdown(report));
  await writeFileAtomic(paths.html, trajectoryHtml(report));
  return paths;
}
