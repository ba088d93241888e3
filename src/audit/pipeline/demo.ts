/**
 * runDemo() (`rote demo`, what `npm start` runs): audits every reference model
 * shipped in models/ on the canary set they were trained with (canaries/demo),
 * compares them (baseline first) and writes the reports into one folder,
 * replaced on every run.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FeatureCache } from '../../asr/index.ts';
import { canarySetPaths, openCanarySet, type OpenedCanarySet } from '../../canary/index.ts';
import { RoteError } from '../../util/errors.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { OptionError, resolveOptions, type OptionsOf } from '../../util/options.ts';
import { audit } from './audit.ts';
import { compare, writeComparisonFiles } from '../compare/index.ts';
import { DEMO_OPTION_SPECS, DEMO_OUT } from '../options.ts';
import type { AuditProvider, AuditReport, ComparisonReport } from '../report/types.ts';
import { runDemoTrajectory } from '../trajectory/demo.ts';
import type { TrajectoryResult } from '../trajectory/trajectory.ts';

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DEMO_MODELS_DIR = join(PACKAGE_ROOT, 'models');
export const DEMO_CANARIES_DIR = join(PACKAGE_ROOT, 'canaries', 'demo');
export { DEMO_OUT };
/** The comparison's order: the unclipped baseline first (the others are tested against it). */
export const DEMO_MODEL_ORDER = ['baseline', 'per-example-clip', 'per-core-clip', 'control'];
const MARKER = '.rote-demo';

/** What each shipped model is (its MODEL_CARD.md has the rest). */
export const DEMO_MODEL_DESCRIPTIONS: Record<string, string> = {
  baseline: 'trained with the canaries inserted, no clipping',
  'per-example-clip': "trained with the canaries inserted, each example's gradient clipped to norm C",
  'per-core-clip': "trained with the canaries inserted, each of 4 micro-batches' mean gradient clipped to norm C",
  control: 'trained on the same corpus without any canary',
};

export interface DemoModel {
  name: string;
  dir: string;
}

/** out and provider (DEMO_OPTION_SPECS: types, defaults and help there), and what only the API offers. */
export interface DemoOptions extends OptionsOf<typeof DEMO_OPTION_SPECS> {
  modelsDir?: string;
  canaries?: string;
  threads?: number;
  /** Called once the canary set is read, before any audit. */
  onCanarySet?: (opened: OpenedCanarySet) => void;
  /** Called before each model's audit. */
  onModelStart?: (model: DemoModel, index: number, count: number) => void;
  /** Called after each canary of the current model. */
  onProgress?: (done: number, total: number) => void;
  /** Called before each checkpoint of the trajectory (models/trajectory) is audited or reused. */
  onCheckpoint?: (checkpoint: { series: string; step: number }) => void;
}

export interface DemoModelResult extends DemoModel {
  report: AuditReport;
  reportDir: string;
}

export interface DemoResult {
  out: string;
  canaries: string;
  /** The canary set, read once. */
  canarySet: OpenedCanarySet;
  models: DemoModelResult[];
  comparison: ComparisonReport;
  comparisonPaths: { json: string; markdown: string; html: string };
  /** The trajectory of the checkpoints in models/trajectory (written to out/trajectory); null when none are shipped. */
  trajectory: TrajectoryResult | null;
  seconds: number;
}

/** Model directories under `modelsDir` (those holding a model.onnx), in DEMO_MODEL_ORDER, then by name. */
export async function listDemoModels(modelsDir: string = DEMO_MODELS_DIR): Promise<DemoModel[]> {
  let entries;
  try {
    entries = await readdir(modelsDir, { withFileTypes: true });
  } catch (error) {
    throw new RoteError(
      `${modelsDir}: cannot read the models folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the demo needs the reference models of the repository's models/`,
      { cause: error },
    );
  }
  const models = entries
    .filter((entry) => entry.isDirectory() && existsSync(join(modelsDir, entry.name, 'model.onnx')))
    .map((entry) => ({ name: entry.name, dir: join(modelsDir, entry.name) }));
  const rank = (name: string) => {
    const i = DEMO_MODEL_ORDER.indexOf(name);
    return i < 0 ? DEMO_MODEL_ORDER.length : i;
  };
  models.sort((a, b) => rank(a.name) - rank(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (models.length < 2)
    throw new RoteError(
      `${modelsDir}: the demo needs at least two model folders with a model.onnx, found ${models.length}`,
    );
  return models;
}

/** Empties `out` if it is absent, empty or an earlier demo's output; refuses anything else. */
async function prepareOut(out: string): Promise<void> {
  let isDirectory = false;
  try {
    isDirectory = (await stat(out)).isDirectory();
    if (!isDirectory) throw new OptionError((name) => `${name('out')} ${out} is a file; the demo writes a folder`);
  } catch (error) {
    if (error instanceof RoteError) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (isDirectory) {
    const names = await readdir(out);
    if (names.length > 0 && !names.includes(MARKER)) {
      throw new OptionError(
        (name) =>
          `${name('out')} ${out} already holds files not written by rote demo; choose another folder or remove it (the demo replaces its folder on every run)`,
      );
    }
    await rm(out, { recursive: true, force: true });
  }
  await mkdir(out, { recursive: true });
  await writeFileAtomic(
    join(out, MARKER),
    `${JSON.stringify({ kind: 'rote-demo-output', note: 'replaced by every run of rote demo' })}\n`,
  );
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = Date.now();
  const resolved = resolveOptions(DEMO_OPTION_SPECS, options);
  const out = resolve(resolved.out);
  let provider: AuditProvider = resolved.provider;
  const canaries = options.canaries ?? DEMO_CANARIES_DIR;
  if (!existsSync(canarySetPaths(canaries).setFile))
    throw new RoteError(`${canaries}: no canary-set.json; the demo needs the repository's canaries/demo`);
  const canarySet = await openCanarySet(canaries);
  const models = await listDemoModels(options.modelsDir ?? DEMO_MODELS_DIR);
  options.onCanarySet?.(canarySet);
  await prepareOut(out);
  // After the first audit, the provider that actually ran is used for the rest (no repeated probing under 'auto').
  const results: DemoModelResult[] = [];
  // The shipped models and checkpoints share one frontend: each canary's features are computed once.
  const featureCache = new FeatureCache();
  for (const [index, model] of models.entries()) {
    options.onModelStart?.(model, index, models.length);
    const reportDir = join(out, model.name);
    const report = await audit({
      canaries,
      model: model.dir,
      out: reportDir,
      provider,
      restart: true,
      featureCache,
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    if (index === 0 && provider === 'auto' && report.providers.length === 1)
      provider = report.providers[0] as AuditProvider;
    results.push({ ...model, report, reportDir });
  }
  const comparison = await compare(
    results.map((result) => join(result.reportDir, 'report.json')),
    { names: results.map((result) => result.name) },
  );
  const comparisonPaths = await writeComparisonFiles(comparison, out);
  const trajectory = await runDemoTrajectory({
    modelsDir: options.modelsDir ?? DEMO_MODELS_DIR,
    canaries,
    out: join(out, 'trajectory'),
    provider,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    reuseAudits: results.map((result) => result.reportDir),
    featureCache,
    ...(options.onCheckpoint ? { onCheckpoint: options.onCheckpoint } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return {
    out,
    canaries,
    canarySet,
    models: results,
    comparison,
    comparisonPaths,
    trajectory,
    seconds: (Date.now() - started) / 1000,
  };
}
