import type { Command } from 'commander';
import { TRAJECTORY_OPTION_SPECS } from '../audit/trajectory/options.ts';
import { addSpecOptions } from './options.ts';
import { createProgress, type Progress } from './progress.ts';

export function registerTrajectory(program: Command): void {
  const command = program
    .command('trajectory')
    .summary('audit series of checkpoints and show, against step, when each repetition group becomes memorized')
    .description(
      'Audits every checkpoint of one or more series (e.g. the saved steps of an unclipped and a clipped training run) with one canary set, ' +
        'each audit in <out>/audits/<series>/<step>/ (reused when already done, resumed when cut short: adding a checkpoint audits only that one), ' +
        'compares the series at every step they share (compare: the pooled paired test, first series as reference) and writes ' +
        'trajectory.{json,md,html}: per group and score the mean with its interval against step, the first step at which each group is ' +
        "detected (the audit's own Holm-corrected test), AUC and TPR at low FPRs, the one-run epsilon lower bound (bernoulli sets) and " +
        'exposure against step. Every checkpoint must be the same model family.',
    );
  addSpecOptions(command, TRAJECTORY_OPTION_SPECS)
    .option('--json', 'print trajectory.json to stdout instead of the summary', false)
    .option('--quiet', 'print nothing but errors', false)
    .action(async (opts) => {
      const { trajectory, trajectoryTerminalLines } = await import('../audit/trajectory/index.ts');
      const { json, quiet, ...options } = opts;
      const bar: { progress: Progress | null; shown: number; label: string } = { progress: null, shown: 0, label: '' };
      const stop = () => {
        bar.progress?.stop();
        bar.progress = null;
      };
      try {
        const result = await trajectory({
          ...options,
          onCheckpoint: ({ series, step }) => {
            stop();
            bar.shown = 0;
            bar.label = `${series} step ${step}`;
          },
          onNotice: (message: string, kind: 'info' | 'warning') => {
            if (kind === 'warning' || !quiet) {
              stop();
              process.stderr.write(`rote: ${message}\n`);
            }
          },
          onProgress: (done: number, total: number) => {
            bar.progress ??= createProgress(`audit ${bar.label}`, total, { quiet: quiet || json });
            bar.progress.increment(done - bar.shown);
            bar.shown = done;
          },
        });
        stop();
        if (json) process.stdout.write(`${JSON.stringify(result.report, null, 2)}\n`);
        else if (!quiet)
          process.stdout.write(
            `${trajectoryTerminalLines(result.report).join('\n')}\nreports: ${result.paths.json}, ${result.paths.markdown}, ${result.paths.html}\n`,
          );
      } finally {
        stop();
      }
    });
}
