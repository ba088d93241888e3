import { Command, Option } from 'commander';
import { MANIFEST_FORMATS } from '../manifest/types.ts';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('Check a training manifest against the full canary set: inserted counts, held-out leaks, tampered audio. Exit 0 when all is as intended, 3 when a held-out canary leaked, 4 on a count mismatch or tampered audio.')
    .requiredOption('--manifest <paths...>', 'training manifest file(s), a glob in the file name (quote it), or a Kaldi data dir')
    .requiredOption('--canaries <dir>', 'the full canary-set directory (with canary-set.json)')
    .addOption(new Option('--format <format>', 'manifest format (default: detected)').choices([...MANIFEST_FORMATS]))
    .option('--hash-all', 'hash every record\'s audio, finding canary audio under any transcript (default: only records whose text matches a canary)', false)
    .option('--json', 'print the report as JSON', false)
    .action(async (opts) => {
      const { verifyInjection } = await import('../manifest/index.ts');
      const report = await verifyInjection({ manifests: opts.manifest, canaries: opts.canaries, format: opts.format, hashAll: opts.hashAll });
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        const found = report.inserted.filter((c) => c.found > 0).length;
        const lines = [
          `${report.format}: ${report.records} records; ${found}/${report.inserted.length} inserted canaries found, ${report.audioHashed} audio files hashed`,
          ...report.countMismatches.map((m) => `  count mismatch: ${m.id} found ${m.found}, expected ${m.expected}`),
          ...report.leaks.map((l) => `  LEAK: held-out canary ${l.id} found ${l.found}x (${l.positions.map((p) => `${p.file}:${p.line}`).join(', ')})`),
          ...report.tampered.map((t) => `  tampered: ${t.file}:${t.line} (${t.canaryId}): ${t.reason}`),
          ...report.unverifiable.map((u) => `  unverifiable audio: ${u.file}:${u.line} ${u.audio}: ${u.reason}`),
          ...(report.receipt
            ? [report.receipt.matches
              ? `  receipt: ${report.receipt.path} (the manifest is byte for byte what inject wrote)`
              : `  receipt: ${report.receipt.path}; changed since inject wrote it: ${report.receipt.differing.join(', ')}`]
            : []),
          report.ok ? 'ok: the manifest holds exactly the intended canaries' : 'NOT OK',
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      process.exitCode = report.leaks.length > 0 ? 3 : report.ok ? 0 : 4;
    });
}
