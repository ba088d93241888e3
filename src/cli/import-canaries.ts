import type { Command } from 'commander';
import { IMPORT_OPTION_SPECS } from '../canary/options.ts';
import { addSpecOptions } from './options.ts';
import { createProgress } from './progress.ts';

export function registerImportCanaries(program: Command): void {
  const command = program
    .command('import-canaries')
    .summary('turn canaries made elsewhere into a rote canary set')
    .description(
      'Import canaries made by another generator or an earlier study into a regular canary set (canary-set.json, audio/, for-training/), ' +
        'so audit, compare and the one-run epsilon audit work on them. The list is TSV with a header row (id, text, repetitions, audio, ' +
        'optional sha256) or JSON lines with those fields; repetitions is a positive integer or held-out ("held-out", "0", empty; JSON null). ' +
        "Audio paths are relative to --audio-dir (default: the list's folder). Listed sha256 values are checked; every WAV is decoded and " +
        "written 16-bit mono (all at one sample rate). Each canary gets a new opaque id (the list's id is kept in canary-set.json as importedId, " +
        "never in for-training/). The set records its provenance as imported (the list's name and sha256). Bad rows are errors naming the file and line.",
    );
  addSpecOptions(command, IMPORT_OPTION_SPECS)
    .option('--json', 'print a JSON summary', false)
    .option('-q, --quiet', 'print nothing but errors', false)
    .action(async (opts) => {
      const { importCanarySet } = await import('../canary/import.ts');
      let bar: ReturnType<typeof createProgress> | null = null;
      let shown = 0;
      try {
        const { json, quiet, ...options } = opts;
        const result = await importCanarySet({
          ...options,
          onProgress: (done, total) => {
            bar ??= createProgress('import', total, { quiet: opts.quiet || opts.json });
            bar.increment(done - shown);
            shown = done;
          },
        });
        (bar as ReturnType<typeof createProgress> | null)?.stop();
        const inserted = result.set.canaries.filter((c) => c.repetitions !== null).length;
        const summary = {
          dir: result.dir,
          setId: result.set.setId,
          canaries: result.set.canaries.length,
          inserted,
          heldOut: result.set.canaries.length - inserted,
          repetitions: result.set.parameters.repetitions,
          membership: result.set.parameters.membership ?? 'groups',
          sampleRate: result.set.parameters.sampleRate,
          imported: result.set.parameters.imported,
          forTraining: result.trainingDir,
        };
        if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        else if (!opts.quiet) {
          process.stdout.write(
            `imported ${summary.canaries} canaries from ${opts.list} into ${result.dir}\n` +
              `  inserted: ${inserted} (repetitions ${summary.repetitions.join(', ')}); held out: ${summary.heldOut}; ${summary.sampleRate} Hz; membership ${summary.membership}\n` +
              `  set id ${result.set.setId.slice(0, 16)}...; give the training team ONLY: ${result.trainingDir}\n`,
          );
        }
      } finally {
        (bar as ReturnType<typeof createProgress> | null)?.stop();
      }
    });
}
