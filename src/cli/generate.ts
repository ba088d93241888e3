import type { Command } from 'commander';
import type { GenerateResult } from '../canary/index.ts';
import { GENERATE_OPTION_SPECS, resolveGenerateOptions, type GenerateOptions } from '../canary/options.ts';
import { addSpecOptions } from './options.ts';
import { createProgress } from './progress.ts';
import { describeLanguages } from '../canary/language-list.ts';

type GenerateFlags = Omit<GenerateOptions, 'onProgress'> & { quiet?: boolean; json?: boolean; model?: string };

export function summarize(result: GenerateResult): object {
  const p = result.set.parameters;
  const inserted = result.set.canaries.filter((c) => c.repetitions !== null).length;
  return {
    dir: result.dir,
    setId: result.set.setId,
    canaries: result.set.canaries.length,
    inserted,
    heldOut: result.set.canaries.length - inserted,
    groups: Object.fromEntries(p.repetitions.map((r) => [`x${r}`, p.perGroup])),
    membership: p.membership ?? 'groups',
    speed: p.speed,
    speedMethod: p.speedMethod,
    sampleRate: p.sampleRate,
    language: p.language ?? 'en',
    charactersPerSecond: result.charactersPerSecond,
    audioSeconds: Math.round(result.set.canaries.reduce((sum, c) => sum + c.durationSec, 0) * 100) / 100,
    forTraining: result.trainingDir,
    seconds: Math.round(result.seconds * 100) / 100,
    seed: result.seedDrawn ? 'drawn at random (recorded in canary-set.json only)' : 'given with --seed (reproducible)',
    warnings: result.warnings,
  };
}

export function registerGenerate(program: Command): void {
  const command = program
    .command('generate')
    .summary('generate a secret set of sped-up TTS canaries (reproducible with --seed)')
    .description(
      'Generate a canary set: seeded random-word texts, synthesized with TTS (embedded espeak-ng by default), sped up, ' +
        "assigned to repetition groups and a held-out group. Writes DIR/canary-set.json (the auditor's copy), DIR/audio/*.wav, " +
        'and DIR/for-training/ (ONLY the inserted canaries: give this part to the training team).\n\n' +
        "Frame-rate trap: the default --rate is 100 words/min on purpose. At espeak's usual 175 wpm, 3x tempo gives ~46 characters/s, " +
        'more than a character CTC model with 4x subsampling (25 output frames/s) can emit, so no alignment exists and the canary ' +
        "can never be recognized, memorized or not. Keep speed x rate low enough for the audited model's output frame rate.\n\n" +
        'Languages: --language CODE (rote generate --list-languages) takes its espeak-ng voices, word list and default rate; ' +
        "each language's default rate gives about the characters per second of English at 100 wpm, and generate warns when canaries are spoken faster.",
    );
  // Flags come from the API's own option list; no defaults here: resolveGenerateOptions applies them.
  addSpecOptions(command, GENERATE_OPTION_SPECS);
  command
    .option('--list-languages', 'list the canary languages with their voices and word-list sizes, then exit')
    // Before commander's check of required options: --list-languages needs no --out.
    .on('option:list-languages', () => {
      process.stdout.write(`${describeLanguages()}\n`);
      // Commander's own way out (as for --version): process.exit(0), or a CommanderError under exitOverride.
      (command as unknown as { _exit(code: number, id: string, message: string): never })._exit(
        0,
        'rote.listLanguages',
        '(languages listed)',
      );
    })
    .option('-q, --quiet', 'print nothing but errors', false)
    .option('--json', 'print a JSON summary on stdout instead of text', false)
    .option(
      '--model <dir>',
      'after generating, check that a model of the architecture you will train can recognize these canaries at all (as rote check-canaries; exit 5 when it cannot)',
    )
    .action(async (flags: GenerateFlags) => {
      const { quiet, json, model, ...options } = flags;
      const resolved = resolveGenerateOptions(options);
      const { designWarnings } = await import('../audit/stats/power.ts');
      const powerWarnings =
        resolved.membership === 'bernoulli'
          ? []
          : designWarnings({
              perGroup: resolved.perGroup,
              groups: resolved.repetitions.length,
              holdout: resolved.holdout,
            });
      const { generateCanarySet } = await import('../canary/generate.ts');
      const progress = createProgress(
        'generate',
        resolved.candidates ?? resolved.holdout + resolved.perGroup * resolved.repetitions.length,
        { quiet: quiet || json },
      );
      let result: GenerateResult;
      try {
        result = await generateCanarySet({ ...options, onProgress: () => progress.increment() });
      } finally {
        progress.stop();
      }
      result.warnings.push(...powerWarnings);
      if (resolved.membership === 'bernoulli') {
        // The one-run audit's power: the bound a perfect attack would give with these candidates (defaults δ 1e-5, 95%).
        const { guessGrid, maximumOneRunEpsilon } = await import('../audit/stats/epsilon.ts');
        const { EPSILON_DEFAULTS } = await import('../audit/defaults.ts');
        const candidates = result.set.canaries.length;
        const drawnIn = result.set.canaries.filter((c) => c.repetitions !== null).length;
        const grid = guessGrid(candidates);
        const best = maximumOneRunEpsilon(
          candidates,
          drawnIn,
          EPSILON_DEFAULTS.delta,
          (1 - EPSILON_DEFAULTS.confidence) / grid.length,
          grid,
        );
        if (best < 2)
          result.warnings.push(
            `with ${candidates} candidates the largest epsilon lower bound even a perfect membership attack could give is ${best.toFixed(2)} (delta ${EPSILON_DEFAULTS.delta}, ${EPSILON_DEFAULTS.confidence * 100}%); use more --candidates for a stronger audit`,
          );
      }
      const summary = summarize(result);
      let check: import('../audit/pipeline/check-canaries.ts').CanaryCheckReport | null = null;
      if (model) {
        const { checkCanaries } = await import('../audit/pipeline/check-canaries.ts');
        check = await checkCanaries({ canaries: result.dir, model });
        if (!check.usable) process.exitCode = (await import('../audit/defaults.ts')).AUDIT_EXIT_CODES.inconclusive;
      }
      if (json) {
        process.stdout.write(
          `${JSON.stringify(check ? { ...summary, check: { ...check, canaries: undefined } } : summary, null, 2)}\n`,
        );
      } else if (!quiet) {
        printSummary(result);
        if (check)
          process.stdout.write(
            `${(await import('./check-canaries.ts')).formatCanaryCheck({ ...check, powerWarnings: [] })}\n`,
          );
      } else {
        if (check && !check.usable)
          process.stderr.write(
            `rote: ${check.infeasible} of ${check.canaries.length} canaries cannot be recognized by ${model} at any level of memorization; run rote check-canaries for details\n`,
          );
      }
    });
}

export function printSummary(result: GenerateResult): void {
  const p = result.set.parameters;
  const inserted = result.set.canaries.filter((c) => c.repetitions !== null).length;
  const lines = [
    `wrote ${result.set.canaries.length} canaries to ${result.dir} in ${result.seconds.toFixed(1)} s (language ${p.language ?? 'en'})`,
    p.membership === 'bernoulli'
      ? `  bernoulli membership: ${inserted} of ${p.candidates} candidates drawn in (each inserted once), ${p.holdout} left out; rote audit computes the one-run epsilon lower bound`
      : `  inserted: ${inserted} (${p.perGroup} each at repetitions ${p.repetitions.join(', ')}); held out: ${p.holdout}`,
    `  ${p.wordsPerCanary} words each, ${p.speed}x ${p.speedMethod}, ${p.sampleRate} Hz, rate ${p.rate} wpm, voices ${p.voices.join(', ')}`,
    `  speaking rate: ${result.charactersPerSecond.median} characters/s (median; fastest ${result.charactersPerSecond.fastest}): a model needs at least that many output frames per second`,
    `  set id ${result.set.setId.slice(0, 16)}...; auditor's copy: ${result.setPath}`,
    `  seed: ${result.seedDrawn ? "drawn at random, recorded in the auditor's copy only (keep it secret)" : 'given with --seed: anyone with the seed and options can regenerate this set'}`,
    `  give the training team ONLY: ${result.trainingDir}`,
    ...result.warnings.map((w) => `  warning: ${w}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
