import { Command, InvalidArgumentError, Option } from 'commander';

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description(
      'Compare audit reports of models trained with the same canary set (e.g. with and without gradient clipping). ' +
        'Primary test, per model and score against the first report (the reference): one paired Wilcoxon signed-rank test over all inserted ' +
        'canaries, one-sided as --expect says, Holm-corrected over models x scores. Per-group differences follow as effect sizes with bootstrap ' +
        'intervals (their tests secondary), and held-out differences as context. Every test states the smallest p-value it can reach; one that ' +
        'cannot reach alpha says so. Writes comparison.json, .md and .html.',
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
    .addOption(
      new Option('--expect <direction>', 'direction of the primary test: less = the other models memorize less than the first (higher scores on inserted canaries), more, or either (two-sided)')
        .choices(['less', 'more', 'either'])
        .default('less'),
    )
    .option('--seed <text>', 'bootstrap seed', 'rote-compare')
    .option('--json', 'print comparison.json to stdout instead of the table', false)
    .option('--quiet', 'print nothing but errors', false)
    .action(async (reports: string[], opts) => {
      const { compare, comparisonTerminalTable, writeComparisonReport } = await import('../audit/index.ts');
      const comparison = await compare(reports, { names: opts.names, alpha: opts.alpha, seed: opts.seed, expect: opts.expect });
      const paths = await writeComparisonReport(comparison, opts.out);
      if (opts.json) process.stdout.write(`${JSON.stringify(comparison, null, 2)}\n`);
      else if (!opts.quiet) process.stdout.write(`${comparisonTerminalTable(comparison)}\nreports: ${paths.json}, ${paths.markdown}, ${paths.html}\n`);
    });
}
