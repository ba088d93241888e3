import { basename, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { AUDIT_DEFAULTS, AUDIT_EXIT_CODES, EPSILON_DEFAULTS, INFEASIBLE_LIMIT } from '../audit/defaults.ts';
import { createProgress, type Progress } from './progress.ts';

function number(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed)) throw new InvalidArgumentError(`${name} must be a number`);
    return parsed;
  };
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description(
      'Transcribe every canary of a set with a model and test whether inserted canaries are recognized better than held-out ones ' +
        '(memorization): per-canary CER/WER/CTC score, exposure, per-group tests, verdict. Writes report.json, report.md, report.html ' +
        'and rows.jsonl (the resumable journal: re-running the same command continues an interrupted audit).\n\n' +
        `Never a false all-clear: when nothing is detected but more than ${Math.round(INFEASIBLE_LIMIT * 100)}% of the canaries cannot be recognized by the model ` +
        '(their text needs more output frames than the model emits for their audio), or the held-out canaries leave no room to detect memorization ' +
        `(even a group recognized perfectly would not reach alpha), the verdict is "inconclusive" and the exit code is ${AUDIT_EXIT_CODES.inconclusive}. ` +
        'Exit codes: 0 memorization detected or not detected, 2 bad input, ' +
        `${AUDIT_EXIT_CODES.inconclusive} inconclusive.\n\n` +
        'Every report has the membership-inference figures (ROC, AUC, TPR at 0.1%, 1%, 10% FPR with bootstrap intervals). On a set from ' +
        'generate --membership bernoulli it also gives the one-run lower bound on epsilon (Steinke, Nasr, Jagielski 2023): ' +
        '"this model is not (epsilon, delta)-DP with this confidence"; for training without DP noise a comparable leakage figure, not a guarantee.',
    )
    .requiredOption('--canaries <dir>', 'canary-set directory (with canary-set.json and audio/)')
    .requiredOption('--model <dir>', 'model directory (NeMo CTC, sherpa-onnx CTC or transducer, or with rote-model.json)')
    .option('--out <dir>', 'output directory (default: audit-<model directory name>)')
    .addOption(new Option('--provider <name>', 'ONNX Runtime execution provider').choices(['auto', 'cuda', 'webgpu', 'cpu']).default(AUDIT_DEFAULTS.provider))
    .option('--device-id <n>', 'GPU index for cuda (default: 0)', number('--device-id'))
    .option('--threads <n>', 'CPU provider intra-op threads (default: ONNX Runtime\'s choice)', number('--threads'))
    .option('--batch-frames <n>', 'feature frames per batch (default: the engine\'s)', number('--batch-frames'))
    .option('--max-duration <seconds>', 'longest canary to transcribe; a longer one stops the audit before any row, as its memory grows with the square of the length (default: 60)', number('--max-duration'))
    .addOption(new Option('--head <head>', 'hybrid RNNT-CTC models with both heads exported: which head to use (default: transducer)').choices(['ctc', 'transducer']))
    .option('--alpha <p>', 'significance level after Holm correction', number('--alpha'), AUDIT_DEFAULTS.alpha)
    .option('--confidence <level>', 'confidence level of intervals', number('--confidence'), AUDIT_DEFAULTS.confidence)
    .option('--bootstrap <n>', 'bootstrap resamples per interval', number('--bootstrap'), AUDIT_DEFAULTS.bootstrapResamples)
    .option('--seed <text>', 'bootstrap seed', AUDIT_DEFAULTS.seed)
    .option('--delta <d>', 'delta of the one-run epsilon lower bound (sets from generate --membership bernoulli)', number('--delta'), EPSILON_DEFAULTS.delta)
    .option('--epsilon-confidence <level>', 'confidence of the one-run epsilon lower bound', number('--epsilon-confidence'), EPSILON_DEFAULTS.confidence)
    .option('--restart', 'discard rows of an earlier run in --out instead of resuming', false)
    .option('--json', 'print report.json to stdout instead of the table', false)
    .option('--quiet', 'print nothing but errors', false)
    .action(async (opts) => {
      const { audit, auditTerminalTable } = await import('../audit/index.ts');
      const out = opts.out ?? `audit-${basename(resolve(opts.model))}`;
      const bar: { progress: Progress | null; shown: number } = { progress: null, shown: 0 };
      try {
        const report = await audit({
          canaries: opts.canaries,
          model: opts.model,
          out,
          provider: opts.provider,
          deviceId: opts.deviceId,
          threads: opts.threads,
          batchFrames: opts.batchFrames,
          maxDurationSec: opts.maxDuration,
          head: opts.head,
          alpha: opts.alpha,
          confidence: opts.confidence,
          bootstrapResamples: opts.bootstrap,
          seed: opts.seed,
          delta: opts.delta,
          epsilonConfidence: opts.epsilonConfidence,
          restart: opts.restart,
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
        else if (!opts.quiet) process.stdout.write(`${auditTerminalTable(report)}\nreports: ${out}/report.{json,md,html}\n`);
        if (report.verdict.status === 'inconclusive') {
          if (opts.quiet || opts.json) process.stderr.write(`rote: ${report.verdict.sentence}\n`);
          process.exitCode = AUDIT_EXIT_CODES.inconclusive;
        }
      } finally {
        bar.progress?.stop();
      }
    });
}
