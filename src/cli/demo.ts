/**
 * Interim `rote demo` (what `npm start` runs) until the reference models
 * exist: generates a small canary set into ./rote-out/demo-canaries
 * (replaced on every run) and prints what it made.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { generateCanarySet } from '../canary/index.ts';
import { createProgress } from './progress.ts';
import { printSummary } from './generate.ts';

export const DEMO_OUT = 'rote-out/demo-canaries';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .summary('generate a small demo canary set (the full audit demo comes with the reference models)')
    .option('-o, --out <dir>', 'output directory (replaced)', DEMO_OUT)
    .option('-q, --quiet', 'print nothing but errors', false)
    .action(async (flags: { out: string; quiet: boolean }) => {
      const perGroup = 5;
      const holdout = 100;
      const repetitions = [1, 2, 4, 8, 16];
      const progress = createProgress('demo', holdout + perGroup * repetitions.length, { quiet: flags.quiet });
      let result;
      try {
        result = await generateCanarySet({ out: resolve(flags.out), perGroup, holdout, repetitions, force: true, onProgress: () => progress.increment() });
      } finally {
        progress.stop();
      }
      if (flags.quiet) return;
      process.stdout.write('rote demo: a canary set (the first stage of an audit)\n');
      printSummary(result);
      process.stdout.write('  examples:\n');
      for (const canary of result.set.canaries.slice(0, 5)) {
        const group = canary.repetitions === null ? 'held out' : `x${canary.repetitions}`;
        process.stdout.write(`    ${canary.audio}  ${canary.durationSec.toFixed(2)} s  ${group.padEnd(8)}  "${canary.text}"  (${canary.tts.voice})\n`);
      }
      process.stdout.write(`next: rote generate --help\n`);
    });
}
