import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { AUDIT_EXIT_CODES, INFEASIBLE_LIMIT } from '../audit/defaults.ts';
import { AUDIT_OPTION_SPECS } from '../audit/options.ts';
import { addSpecOptions } from './options.ts';
import { createProgress, type Progress } from './progress.ts';

export function registerAudit(program: Command): void {
  const command = program
    .command('audit')
    .description(
      'Transcribe every canary of a set with a model and test whether inserted canaries are recognized better than held-out ones ' +
        '(memorization): per-canary CER/WER and model score (CTC or transducer log-likelihood), exposure, per-group tests, verdict. Writes report.json, report.md, report.html ' +
        'and rows.jsonl (the resumable journal: re-running the same command continues an interrupted audit).\n\n' +
        `Never a false all-clear: when nothing is detected but more than ${Math.round(INFEASIBLE_LIMIT * 100)}% of the canaries cannot be recognized by the model ` +
        '(their text needs more output frames than the model emits for their audio), or the held-out canaries leave no room to detect memorization ' +
        `(even a group recognized perfectly would not reach alpha), the verdict is "inconclusive" and the exit code is ${AUDIT_EXIT_CODES.inconclusive}. ` +
        'Exit codes: 0 memorization detected or not detected, 2 bad input, ' +
        `${AUDIT_EXIT_CODES.inconclusive} inconclusive.\n\n` +
        'Every report has the membership-inference figures (ROC, AUC, TPR at 0.1%, 1%, 10% FPR with bootstrap intervals). On a set from ' +
        'generate --membership bernoulli it also gives the one-run lower bound on epsilon (Steinke, Nasr, Jagielski 2023): ' +
        '"this model is not (epsilon, delta)-DP with this confidence"; for training without DP noise a comparable leakage figure, not a guarantee.',
    );
  // Flags from the API's own option list; audit() applies the defaults and names bad keys (main.ts shows the flags).
  addSpecOptions(command, AUDIT_OPTION_SPECS)
    .option('--json', 'print report.json to stdout instead of the table', false)
    .option('--quiet', 'print nothing but errors', false)
    .action(async (opts) => {
      const { audit, auditTerminalTable } = await import('../audit/index.ts');
      const out = opts.out ?? `audit-${basename(resolve(opts.model))}`;
      const bar: { progress: Progress | null; shown: number } = { progress: null, shown: 0 };
      try {
        const { json, quiet, ...options } = opts;
        const report = await audit({
          ...options,
          out,
          onNotice: (message: string, kind: 'info' | 'warning') => {
            if (kind === 'warning' || !opts.quiet) process.stderr.write(`rote: ${message}\n`);
          },
          onProgress: (done, total) => {
            bar.progress ??= createProgress('audit', total, { quiet: opts.quiet || opts.json });
            bar.progress.increment(done - bar.shown);
            bar.shown = done;
          },
        });
        bar.progress?.stop();
        bar.progress = null;
        if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else if (!opts.quiet)
          process.stdout.write(`${auditTerminalTable(report)}\nreports: ${out}/report.{json,md,html}\n`);
        if (report.verdict.status === 'inconclusive') {
          if (opts.quiet || opts.json) process.stderr.write(`rote: ${report.verdict.sentence}\n`);
          process.exitCode = AUDIT_EXIT_CODES.inconclusive;
        }
      } finally {
        bar.progress?.stop();
      }
    });
}
