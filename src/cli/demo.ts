/**
 * `rote demo` (what `npm start` runs): audits every reference model shipped in
 * models/ on the canary set they were trained with (canaries/demo), compares
 * them (baseline first), prints the tables and verdicts and writes the reports
 * into one folder, replaced on every run.
 */
import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuditProvider, AuditReport, ComparisonReport } from '../audit/index.ts';
import { RoteError } from '../util/errors.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { createProgress, type Progress } from './progress.ts';

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEMO_MODELS_DIR = join(PACKAGE_ROOT, 'models');
export const DEMO_CANARIES_DIR = join(PACKAGE_ROOT, 'canaries', 'demo');
export const DEMO_OUT = 'rote-out/demo';
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

export interface DemoOptions {
  /** Output folder; replaced when it holds an earlier demo's output, refused when it holds anything else. */
  out: string;
  provider?: AuditProvider;
  modelsDir?: string;
  canaries?: string;
  threads?: number;
  /** Called before each model's audit. */
  onModelStart?: (model: DemoModel, index: number, count: number) => void;
  /** Called after each canary of the current model. */
  onProgress?: (done: number, total: number) => void;
}

export interface DemoModelResult extends DemoModel {
  report: AuditReport;
  reportDir: string;
}

export interface DemoResult {
  out: string;
  canaries: string;
  models: DemoModelResult[];
  comparison: ComparisonReport;
  comparisonPaths: { json: string; markdown: string; html: string };
  seconds: number;
}

/** Model directories under `modelsDir` (those holding a model.onnx), in DEMO_MODEL_ORDER, then by name. */
export async function listDemoModels(modelsDir: string = DEMO_MODELS_DIR): Promise<DemoModel[]> {
  let entries;
  try {
    entries = await readdir(modelsDir, { withFileTypes: true });
  } catch (error) {
    throw new RoteError(`${modelsDir}: cannot read the models folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the demo needs the reference models of the repository's models/`, { cause: error });
  }
  const models = entries
    .filter((entry) => entry.isDirectory() && existsSync(join(modelsDir, entry.name, 'model.onnx')))
    .map((entry) => ({ name: entry.name, dir: join(modelsDir, entry.name) }));
  const rank = (name: string) => {
    const i = DEMO_MODEL_ORDER.indexOf(name);
    return i < 0 ? DEMO_MODEL_ORDER.length : i;
  };
  models.sort((a, b) => rank(a.name) - rank(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (models.length < 2) throw new RoteError(`${modelsDir}: the demo needs at least two model folders with a model.onnx, found ${models.length}`);
  return models;
}

/** Empties `out` if it is absent, empty or an earlier demo's output; refuses anything else. */
async function prepareOut(out: string): Promise<void> {
  let isDirectory = false;
  try {
    isDirectory = (await stat(out)).isDirectory();
    if (!isDirectory) throw new RoteError(`--out ${out} is a file; the demo writes a folder`);
  } catch (error) {
    if (error instanceof RoteError) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (isDirectory) {
    const names = await readdir(out);
    if (names.length > 0 && !names.includes(MARKER)) {
      throw new RoteError(`--out ${out} already holds files not written by rote demo; choose another folder or remove it (the demo replaces its folder on every run)`);
    }
    await rm(out, { recursive: true, force: true });
  }
  await mkdir(out, { recursive: true });
  await writeFileAtomic(join(out, MARKER), `${JSON.stringify({ kind: 'rote-demo-output', note: 'replaced by every run of rote demo' })}\n`);
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = Date.now();
  const { audit, compare, writeComparisonReport } = await import('../audit/index.ts');
  const out = resolve(options.out);
  const canaries = options.canaries ?? DEMO_CANARIES_DIR;
  if (!existsSync(join(canaries, 'canary-set.json'))) throw new RoteError(`${canaries}: no canary-set.json; the demo needs the repository's canaries/demo`);
  const models = await listDemoModels(options.modelsDir ?? DEMO_MODELS_DIR);
  await prepareOut(out);
  // After the first audit, the provider that actually ran is used for the rest (no repeated probing under 'auto').
  let provider: AuditProvider = options.provider ?? 'auto';
  const results: DemoModelResult[] = [];
  for (const [index, model] of models.entries()) {
    options.onModelStart?.(model, index, models.length);
    const reportDir = join(out, model.name);
    const report = await audit({
      canaries,
      model: model.dir,
      out: reportDir,
      provider,
      restart: true,
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    if (index === 0 && provider === 'auto' && report.providers.length === 1) provider = report.providers[0] as AuditProvider;
    results.push({ ...model, report, reportDir });
  }
  const comparison = await compare(
    results.map((result) => join(result.reportDir, 'report.json')),
    { names: results.map((result) => result.name) },
  );
  const comparisonPaths = await writeComparisonReport(comparison, out);
  return { out, canaries, models: results, comparison, comparisonPaths, seconds: (Date.now() - started) / 1000 };
}

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

async function setSummary(canaries: string): Promise<string> {
  const set = JSON.parse(await readFile(join(canaries, 'canary-set.json'), 'utf8')) as {
    setId: string;
    canaries: { repetitions: number | null }[];
    parameters: { repetitions: number[]; speed: number };
  };
  const inserted = set.canaries.filter((canary) => canary.repetitions !== null).length;
  const heldOut = set.canaries.length - inserted;
  return `canary set ${set.setId.slice(0, 12)} (${shown(canaries)}): ${set.canaries.length} canaries sped up ${set.parameters.speed}x, ${inserted} inserted at ${set.parameters.repetitions.join(', ')} repetitions, ${heldOut} held out`;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .summary('audit and compare the reference models shipped in models/ (what npm start runs)')
    .description(
      'Audits every reference model in models/ (baseline, per-example-clip, per-core-clip, control: small Conformer-CTC models trained ' +
        'with the canaries of canaries/demo, the control without them) on canaries/demo, compares them against the baseline, prints the ' +
        'tables and verdicts, and writes report.{json,md,html} per model and comparison.{json,md,html} into --out (replaced on every run).',
    )
    .option('-o, --out <dir>', 'output folder, replaced on every run (refused if it holds files the demo did not write)', DEMO_OUT)
    .addOption(new Option('--provider <name>', 'ONNX Runtime execution provider').choices(['auto', 'cuda', 'webgpu', 'cpu']).default('auto'))
    .option('-q, --quiet', 'print nothing but errors', false)
    .action(async (flags: { out: string; provider: AuditProvider; quiet: boolean }) => {
      const { auditTerminalTable, comparisonTerminalTable } = await import('../audit/index.ts');
      const write = (text: string) => {
        if (!flags.quiet) process.stdout.write(text);
      };
      const bar: { progress: Progress | null; shown: number; label: string } = { progress: null, shown: 0, label: '' };
      const stopBar = () => {
        bar.progress?.stop();
        bar.progress = null;
      };
      write(`rote demo: audits the reference models in ${shown(DEMO_MODELS_DIR)}/ on the canaries they were trained with\n`);
      write(`${await setSummary(DEMO_CANARIES_DIR)}\n`);
      try {
        const result = await runDemo({
          out: flags.out,
          provider: flags.provider,
          onModelStart: (model) => {
            stopBar();
            bar.shown = 0;
            bar.label = model.name;
          },
          onProgress: (done, total) => {
            bar.progress ??= createProgress(`audit ${bar.label}`, total, { quiet: flags.quiet });
            bar.progress.increment(done - bar.shown);
            bar.shown = done;
          },
        });
        stopBar();
        for (const model of result.models) {
          const description = DEMO_MODEL_DESCRIPTIONS[model.name];
          write(`\n== ${model.name}${description ? `: ${description}` : ''}\n${auditTerminalTable(model.report)}\n`);
        }
        write(`\n== comparison: each model against ${result.models[0]!.name} (paired Wilcoxon signed-rank per group, Holm-corrected)\n`);
        write(`${comparisonTerminalTable(result.comparison)}\n`);
        write(`\nreports (${result.seconds.toFixed(1)} s, provider ${[...new Set(result.models.flatMap((model) => model.report.providers))].join('+')}): ${shown(result.out)}/\n`);
        write(`  open ${shown(result.comparisonPaths.html)}\n`);
        write(`  per model: ${result.models.map((model) => shown(join(model.reportDir, 'report.html'))).join(', ')}\n`);
        write(`  how the models were made: ${shown(join(DEMO_MODELS_DIR, '<name>', 'MODEL_CARD.md'))}\n`);
      } finally {
        stopBar();
      }
    });
}
