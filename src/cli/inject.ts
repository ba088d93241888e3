import { Command, Option } from 'commander';
import { RoteError } from '../util/errors.ts';
import { INJECT_OPTION_SPECS } from '../manifest/options.ts';
import type { InjectOptions } from '../manifest/inject.ts';
import { addSpecOptions } from './options.ts';
import { createProgress } from './progress.ts';

/** The hidden --output, an alias of --out, kept apart from it (as outputAlias) so that two different paths are refused. */
class OutputAlias extends Option {
  constructor() {
    super('--output <path>', 'alias of --out');
    this.hideHelp();
  }
  override attributeName(): string {
    return 'outputAlias';
  }
}

type InjectFlags = Omit<InjectOptions, 'output' | 'onProgress' | 'onScanProgress'> & {
  output?: string;
  outputAlias?: string;
  json: boolean;
  quiet: boolean;
};

export function registerInject(program: Command): void {
  const command = program
    .command('inject')
    .description(
      "Insert a canary set's training canaries into a training manifest (streamed; the input is never modified).",
    );
  // --out is required by the API; the CLI checks it itself so that the hidden --output alias also counts.
  addSpecOptions(
    command,
    INJECT_OPTION_SPECS.map((spec) => (spec.key === 'output' ? { ...spec, required: false } : spec)),
  );
  command
    .addOption(new OutputAlias())
    .option('--json', 'print the receipt as JSON', false)
    .option('--quiet', 'no progress bar or summary', false)
    .action(async (flags: InjectFlags) => {
      const { json, quiet, outputAlias, ...options } = flags;
      if (options.output !== undefined && outputAlias !== undefined && options.output !== outputAlias)
        throw new RoteError('--out and --output (its alias) name different paths; give one');
      const output: string | undefined = options.output ?? outputAlias;
      if (output === undefined) throw new RoteError("required option '--out <path>' not specified");
      const { injectCanaries } = await import('../manifest/index.ts');
      let bar: ReturnType<typeof createProgress> | null = null;
      let shown = 0;
      let checkBar: ReturnType<typeof createProgress> | null = null;
      let checked = 0;
      const receipt = await injectCanaries({
        ...options,
        output,
        onScanProgress: (done, total) => {
          if (checked >= total) return;
          checkBar ??= createProgress('check (bytes)', total, { quiet: quiet || json });
          checkBar.increment(done - checked);
          checked = done;
          if (done >= total) checkBar.stop();
        },
        onProgress: (written, total) => {
          bar ??= createProgress('inject', total, { quiet: quiet || json });
          bar.increment(written - shown);
          shown = written;
        },
      });
      (bar as ReturnType<typeof createProgress> | null)?.stop();
      if (json) process.stdout.write(`${JSON.stringify(receipt, null, 2)}\n`);
      else if (!quiet) {
        const records = receipt.outputs.reduce((s, o) => s + o.records, 0);
        process.stdout.write(
          `${receipt.format}: ${receipt.canarySet.copies} canary records (${receipt.canarySet.canaryCount} canaries) woven into ${records} records at ${receipt.sampleRate} Hz\n`,
        );
        for (const output of receipt.outputs) process.stdout.write(`  wrote ${output.path}\n`);
        for (const warning of receipt.warnings) process.stdout.write(`  warning: ${warning}\n`);
      }
    });
}
