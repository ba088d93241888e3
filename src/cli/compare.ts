import type { Command } from 'commander';
import { COMPARE_CLI_KEYS, COMPARE_OPTION_SPECS, pickSpecs } from '../audit/options.ts';
import { addSpecOptions } from './options.ts';

export function registerCompare(program: Command): void {
  const command = program
    .command('compare')
    .description(
      'Compare audit reports of models trained with the same canary set (e.g. with and without gradient clipping). ' +
        'Primary test, per model and score against the first report (the reference): one paired Wilcoxon signed-rank test over all inserted ' +
        'canaries, one-sided as --expect says, Holm-corrected over models x scores. Per-group differences follow as effect sizes with bootstrap ' +
        'intervals (their tests secondary), and held-out differences as context. Every test states the smallest p-value it can reach; one that ' +
        'cannot reach alpha says so. Writes comparison.json, .md and .html.',
    )
    .argument('<reports...>', 'report.json files or audit output directories; the first is the baseline');
  addSpecOptions(command, pickSpecs(COMPARE_OPTION_SPECS, COMPARE_CLI_KEYS))
    .option('--json', 'print comparison.json to stdout instead of the table', false)
    .option('--quiet', 'print nothing but errors', false)
    .action(async (reports: string[], opts) => {
      const { compare, comparisonTerminalTable, writeComparisonReport } = await import('../audit/index.ts');
      const comparison = await compare(reports, {
        names: opts.names,
        alpha: opts.alpha,
        seed: opts.seed,
        expect: opts.expect,
      });
      const paths = await writeComparisonReport(comparison, opts.out as string | undefined, {
        force: opts.force as boolean | undefined,
      });
      if (opts.json) process.stdout.write(`${JSON.stringify(comparison, null, 2)}\n`);
      else if (!opts.quiet)
        process.stdout.write(
          `${comparisonTerminalTable(comparison)}\nreports: ${paths.json}, ${paths.markdown}, ${paths.html}\n`,
        );
    });
}
