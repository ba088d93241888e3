import { Command, Option } from 'commander';
import { RoteError } from '../util/errors.ts';
import { CHECK_DEPTHS, FULL_CHECK_RECORDS, MANIFEST_FORMATS } from '../manifest/types.ts';
import { FILE_HASH_ALGORITHMS } from '../util/hash.ts';
import { createProgress } from './progress.ts';

export function registerInject(program: Command): void {
  program
    .command('inject')
    .description('Insert a canary set\'s training canaries into a training manifest (streamed; the input is never modified).')
    .requiredOption('--manifest <paths...>', 'training manifest file(s), a glob in the file name (quote it), or a Kaldi data dir')
    .requiredOption('--canaries <dir>', 'canary-set directory or its for-training/ directory')
    .option('--out <path>', 'output manifest file (one input) or directory (shards, lhotse pair, Kaldi data dir); required')
    .addOption(new Option('--output <path>', 'alias of --out').hideHelp())
    .requiredOption('--audio-dir <dir>', 'directory the canary WAVs are written to (created if missing)')
    .addOption(new Option('--format <format>', 'manifest format (default: detected)').choices([...MANIFEST_FORMATS]))
    .option('--seed <seed>', 'seed for ids and positions (default: the canary set id)')
    .option('--link', 'hard-link canary audio instead of copying it', false)
    .option('--id-prefix <prefix>', 'prefix for inserted record ids (default: none, ids shaped like the corpus ids)')
    .option('--sample-rate <hz>', 'corpus sample rate (default: read from the manifest or its first audio file)', (v) => Number(v))
    .option('--receipt <path>', 'receipt path (default: the output\'s path + .receipt.json, next to it, e.g. train.json.receipt.json)')
    .option('--force', 'replace an existing output manifest (and its receipt); without it, inject refuses to overwrite', false)
    .addOption(new Option('--check <depth>', `how deeply NeMo-style JSON lines are checked before anything is written: "structure" parses the first ${FULL_CHECK_RECORDS} records and checks every later line is a UTF-8 JSON object on one line; "full" parses every line (about 1.8x the time on large manifests); other formats are always checked in full`).choices([...CHECK_DEPTHS]).default('structure'))
    .addOption(new Option('--hash <algorithm>', 'digest of input and output files in the receipt: xxh3 identifies files (fast), sha256 also resists deliberate tampering').choices([...FILE_HASH_ALGORITHMS]).default('xxh3'))
    .option('--json', 'print the receipt as JSON', false)
    .option('--quiet', 'no progress bar or summary', false)
    .action(async (opts) => {
      if (opts.out !== undefined && opts.output !== undefined && opts.out !== opts.output) throw new RoteError('--out and --output (its alias) name different paths; give one');
      const output: string | undefined = opts.out ?? opts.output;
      if (output === undefined) throw new RoteError("required option '--out <path>' not specified");
      const { injectCanaries } = await import('../manifest/index.ts');
      let bar: ReturnType<typeof createProgress> | null = null;
      let shown = 0;
      let checkBar: ReturnType<typeof createProgress> | null = null;
      let checked = 0;
      const receipt = await injectCanaries({
        manifests: opts.manifest, canaries: opts.canaries, output, audioDir: opts.audioDir,
        format: opts.format, seed: opts.seed, link: opts.link, idPrefix: opts.idPrefix, sampleRate: opts.sampleRate,
        receipt: opts.receipt, check: opts.check, hash: opts.hash, force: opts.force,
        onScanProgress: (done, total) => {
          if (checked >= total) return;
          checkBar ??= createProgress('check (bytes)', total, { quiet: opts.quiet || opts.json });
          checkBar.increment(done - checked);
          checked = done;
          if (done >= total) checkBar.stop();
        },
        onProgress: (written, total) => {
          bar ??= createProgress('inject', total, { quiet: opts.quiet || opts.json });
          bar.increment(written - shown);
          shown = written;
        },
      });
      (bar as ReturnType<typeof createProgress> | null)?.stop();
      if (opts.json) process.stdout.write(`${JSON.stringify(receipt, null, 2)}\n`);
      else if (!opts.quiet) {
        const records = receipt.outputs.reduce((s, o) => s + o.records, 0);
        process.stdout.write(`${receipt.format}: ${receipt.canarySet.copies} canary records (${receipt.canarySet.canaryCount} canaries) woven into ${records} records at ${receipt.sampleRate} Hz\n`);
        for (const output of receipt.outputs) process.stdout.write(`  wrote ${output.path}\n`);
        for (const warning of receipt.warnings) process.stdout.write(`  warning: ${warning}\n`);
      }
    });
}
