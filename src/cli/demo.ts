/** `rote demo` (what `npm start` runs): runDemo() of src/audit/pipeline/demo.ts, with progress bars and the tables printed. */
import type { Command } from 'commander';
import { join, relative } from 'node:path';
import { DEMO_OPTION_SPECS } from '../audit/options.ts';
import type { AuditProvider } from '../audit/report/types.ts';
import type { OpenedCanarySet } from '../canary/canary-set.ts';
import { addSpecOptions } from './options.ts';
import { createProgress, type Progress } from './progress.ts';

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

function setSummary({ dir, set }: OpenedCanarySet): string {
  const inserted = set.canaries.filter((canary) => canary.repetitions !== null).length;
  const heldOut = set.canaries.length - inserted;
  return `canary set ${set.setId.slice(0, 12)} (${shown(dir)}): ${set.canaries.length} canaries sped up ${set.parameters.speed}x, ${inserted} inserted at ${set.parameters.repetitions.join(', ')} repetitions, ${heldOut} held out`;
}

export function registerDemo(program: Command): void {
  const command = program
    .command('demo')
    .summary('audit and compare the reference models shipped in models/ (what npm start runs)')
    .description(
      'Audits every reference model in models/ (baseline, per-example-clip, per-core-clip, control: small Conformer-CTC models trained ' +
        'with the canaries of canaries/demo, the control without them) on canaries/demo, compares them against the baseline, prints the ' +
        'tables and verdicts, and writes report.{json,md,html} per model and comparison.{json,md,html} into --out (replaced on every run).',
    );
  addSpecOptions(command, DEMO_OPTION_SPECS)
    .option('-q, --quiet', 'print nothing but errors', false)
    .action(async (flags: { out?: string; provider?: AuditProvider; quiet: boolean }) => {
      const { auditTerminalTable, comparisonTerminalTable } = await import('../audit/index.ts');
      const { DEMO_MODEL_DESCRIPTIONS, DEMO_MODELS_DIR, runDemo } = await import('../audit/pipeline/demo.ts');
      const write = (text: string) => {
        if (!flags.quiet) process.stdout.write(text);
      };
      const bar: { progress: Progress | null; shown: number; label: string } = { progress: null, shown: 0, label: '' };
      const stopBar = () => {
        bar.progress?.stop();
        bar.progress = null;
      };
      write(
        `rote demo: audits the reference models in ${shown(DEMO_MODELS_DIR)}/ on the canaries they were trained with\n`,
      );
      try {
        const result = await runDemo({
          ...(flags.out !== undefined ? { out: flags.out } : {}),
          ...(flags.provider !== undefined ? { provider: flags.provider } : {}),
          onCanarySet: (opened) => write(`${setSummary(opened)}\n`),
          onModelStart: (model) => {
            stopBar();
            bar.shown = 0;
            bar.label = model.name;
          },
          onCheckpoint: ({ series, step }) => {
            stopBar();
            bar.shown = 0;
            bar.label = `${series} step ${step}`;
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
        write(
          `\n== comparison: each model against ${result.models[0]!.name} (paired Wilcoxon signed-rank per group, Holm-corrected)\n`,
        );
        write(`${comparisonTerminalTable(result.comparison)}\n`);
        if (result.trajectory) {
          const { trajectoryTerminalLines } = await import('../audit/trajectory/render.ts');
          write(
            `\n== trajectory: checkpoints saved during training (${shown(join(DEMO_MODELS_DIR, 'trajectory'))}/), each audited; first step at which each group is detected\n`,
          );
          write(`${trajectoryTerminalLines(result.trajectory.report).join('\n')}\n`);
        }
        write(
          `\nreports (${result.seconds.toFixed(1)} s, provider ${[...new Set(result.models.flatMap((model) => model.report.providers))].join('+')}): ${shown(result.out)}/\n`,
        );
        write(`  open ${shown(result.comparisonPaths.html)}\n`);
        if (result.trajectory) write(`  trajectory: ${shown(result.trajectory.paths.html)}\n`);
        write(`  per model: ${result.models.map((model) => shown(join(model.reportDir, 'report.html'))).join(', ')}\n`);
        write(`  how the models were made: ${shown(join(DEMO_MODELS_DIR, '<name>', 'MODEL_CARD.md'))}\n`);
      } finally {
        stopBar();
      }
    });
}
