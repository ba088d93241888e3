import type { Command } from 'commander';
import { AUDIT_EXIT_CODES, INFEASIBLE_LIMIT } from '../audit/defaults.ts';
import type { CanaryCheckReport } from '../audit/pipeline/check-canaries.ts';
import { CHECK_CANARIES_CLI_KEYS, CHECK_CANARIES_OPTION_SPECS, pickSpecs } from '../audit/options.ts';
import { addSpecOptions } from './options.ts';

const label = (repetitions: number | null) =>
  repetitions === null ? 'held-out' : `${repetitions} repetition${repetitions === 1 ? '' : 's'}`;

/** Characters as JSON strings, at most `limit` of them, then how many more. */
function quoted(characters: readonly string[], limit: number): string {
  const shown = characters
    .slice(0, limit)
    .map((c) => JSON.stringify(c))
    .join(' ');
  return characters.length > limit ? `${shown} and ${characters.length - limit} more` : shown;
}

/** How tight a frame budget is (`ratio` of `frames` needed), or that the model has no frame-rate limit. */
type BudgetWords = (ratio: number, frames: string) => string;

/** One group's line: its infeasible count and why (no emittable character at all, missing characters, frames). */
function groupLine(group: CanaryCheckReport['byGroup'][number], budget: BudgetWords): string {
  const head = `  ${label(group.repetitions).padEnd(15)} ${String(group.count).padStart(4)} canaries, ${String(group.infeasible).padStart(4)} cannot be recognized`;
  if (group.tightest === null)
    return `${head}: no character of their texts is one the model's vocabulary can emit (${quoted(group.missingCharacters, 12)})`;
  const gaps =
    group.unemittable > 0
      ? ` (${group.unemittable} for characters the model's vocabulary cannot emit: ${quoted(group.missingCharacters, 12)})`
      : '';
  return `${head}${gaps}; ${budget(group.tightest, 'its output frames')}`;
}

/** The conclusion: feasible, usable within the limit, or not usable and why. */
function conclusion(report: CanaryCheckReport, budget: BudgetWords): string {
  const of = `${report.infeasible} of ${report.canaries.length} canaries`;
  const limit = `${Math.round(report.limit * 100)}%`;
  if (report.infeasible === 0)
    return report.frameLimited
      ? `feasible: every canary fits this model's output frame rate (the ${budget(report.tightest ?? 0, 'its frames')})`
      : `feasible: the model's vocabulary can write every canary (an attention decoder has no frame-rate limit)`;
  if (report.usable)
    return `usable: ${of} cannot be recognized by this model at any level of memorization (within the ${limit} an audit may lose)`;
  const remedy = 'generate canaries in the language and script the model writes (rote generate --language)';
  if (report.tightest === null)
    return `NOT usable: no canary text holds a single character this model's vocabulary can emit (the model writes none of the characters named below; an audit would be inconclusive): ${remedy}`;
  return (
    `NOT usable: ${of} cannot be recognized by this model at any level of memorization ` +
    `(their text needs more output frames than the model emits for their audio, or characters its vocabulary cannot emit; an audit would be inconclusive above ${limit}): ` +
    (report.unemittable > 0 ? remedy : 'generate with a lower --speed or --rate')
  );
}

/** The check as text: one line per group, then the conclusion. */
export function formatCanaryCheck(report: CanaryCheckReport): string {
  const percent = (ratio: number) => `${Math.round(100 * ratio)}%`;
  const tightest = (ratio: number, frames: string) =>
    report.frameLimited ? `tightest needs ${percent(ratio)} of ${frames}` : 'no frame-rate limit (attention decoder)';
  const lines = [
    `canary set ${report.setId.slice(0, 12)} on model ${report.modelDir} (${report.family}, subsampling ${report.subsampling})`,
    ...report.byGroup.map((group) => groupLine(group, tightest)),
    conclusion(report, tightest),
    ...(report.unscorable > 0
      ? [
          `  of them ${report.unscorable} ha${report.unscorable === 1 ? 's' : 've'} a text with nothing to score (empty after the audit's normalization: punctuation or symbols only); an audit refuses the set until they are removed`,
        ]
      : []),
    ...(report.missingCharacters.length > 0
      ? [
          `${report.unemittable} of ${report.canaries.length} canaries hold characters the model's vocabulary cannot emit: ${quoted(report.missingCharacters, 40)}`,
        ]
      : []),
    ...report.powerWarnings.map((warning) => `warning: ${warning}`),
  ];
  return lines.join('\n');
}

export function registerCheckCanaries(program: Command): void {
  const command = program
    .command('check-canaries')
    .description(
      'Before training: tell whether a canary set can be recognized at all by a model of the architecture you will train ' +
        '(its frontend, subsampling and vocabulary; an untrained or pre-trained checkpoint will do). A CTC model emits one token per output ' +
        'frame (plus a blank between repeated tokens), so sped-up canaries can be too fast for it: such canaries can never be recognized, ' +
        "memorized or not. Also warns when the set's group sizes keep the default audit or compare from reaching alpha. Reads WAV headers " +
        `only, runs no inference. Exit 0 when usable, ${AUDIT_EXIT_CODES.inconclusive} when more than ${Math.round(INFEASIBLE_LIMIT * 100)}% of the canaries cannot be recognized, 2 on bad input.`,
    );
  addSpecOptions(command, pickSpecs(CHECK_CANARIES_OPTION_SPECS, CHECK_CANARIES_CLI_KEYS))
    .option('--json', 'print the check as JSON', false)
    .action(async (opts) => {
      const { checkCanaries } = await import('../audit/pipeline/check-canaries.ts');
      const report = await checkCanaries({ canaries: opts.canaries, model: opts.model, provider: opts.provider });
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(`${formatCanaryCheck(report)}\n`);
      if (!report.usable) process.exitCode = AUDIT_EXIT_CODES.inconclusive;
    });
}
