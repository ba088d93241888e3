import { Command, InvalidArgumentError } from 'commander';

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description(
      'Compare audit reports of models trained with the same canary set (e.g. with and without gradient clipping): groups side by side, ' +
        'paired Wilcoxon signed-rank tests per group against the first report, a verdict. Writes comparison.json, .md and .html.',
    )
    .argument('<reports...>', 'report.json files or audit output directories; the first is the baseline')
    .option('--out <dir>', 'output directory (default: comparison)', 'comparison')
    .option('--names <a,b,...>', 'display names, one per report (default: model directory names)', (value: string) => {
      const names = value.split(',').map((name) => name.trim());
      if (names.some((name) => name === '')) throw new InvalidArgumentError('--names must be comma-separated non-empty names');
      return names;
    })
    .option('--alpha <p>', 'significance level after Holm correction (default: the reports\' own alpha)', (value: string) => {
      const parsed = Number(value);
      if (!Number.isFinite(parsed)) throw new InvalidArgumentError('--alpha must be a number');
      return parsed;
    })
    .option('--seed <text>', 'bootstrap seed', 'rote-compare')
    .option('--json', 'print comparison.json to stdout instead of the table', false)
    .option('--quiet', 'print nothing but errors', false)
    .action(async (reports: string[], opts) => {
      const { compare, comparisonTerminalTable, writeComparisonReport } = await import('../audit/index.ts');
      const comparison = await compare(reports, { names: opts.names, alpha: opts.alpha, seed: opts.seed });
      const paths = await writeComparisonReport(comparison, opts.out);
      if (opts.json) process.stdout.write(`${JSON.stringify(comparison, null, 2)}\n`);
      else if (!opts.quiet) process.stdout.write(`${comparisonTerminalTable(comparison)}\nreports: ${paths.json}, ${paths.markdown}, ${paths.html}\n`);
    });
}
