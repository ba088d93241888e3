import type { Command } from 'commander';
import type { VerificationReport } from '../manifest/types.ts';
import type { VerifyOptions } from '../manifest/verify.ts';
import { VERIFY_OPTION_SPECS } from '../manifest/options.ts';
import { VERIFY_EXIT_CODES, verifyExitCode } from '../manifest/exit-codes.ts';
import { addSpecOptions } from './options.ts';

type VerifyFlags = Omit<VerifyOptions, 'onProgress'> & { json: boolean; quiet: boolean };

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** What verify did with canary audio: how many files it compared and how, and how many it could not. */
export function verifyAudioLine(report: VerificationReport): string {
  const { rule, resampled, compared } = report.audioMatch;
  const unread = report.unverifiable.length;
  const notCompared =
    unread > 0 ? `; not compared: ${plural(unread, 'record', 'records')} whose audio could not be read` : '';
  if (compared === 0) return `audio compared: none (0 files)${notCompared}`;
  const rates = resampled.length > 0 ? ` (resampled: ${resampled.map((r) => `${r} Hz`).join(', ')})` : '';
  return `audio compared: ${plural(compared, 'file', 'files')}, ${rule}${rates}${notCompared}`;
}

/** The last line of verify's text output: ok, or every kind of problem with its count. */
export function verifySummaryLine(report: VerificationReport): string {
  if (report.ok) {
    if (report.unverifiableAccepted)
      return `ok: the manifest holds the intended canaries by transcript; the audio of ${plural(report.unverifiable.length, 'record', 'records')} could not be compared (accepted with --allow-unverifiable)`;
    return 'ok: the manifest holds exactly the intended canaries';
  }
  const problems = [
    report.countMismatches.length > 0
      ? `${plural(report.countMismatches.length, 'canary', 'canaries')} with a count mismatch (${report.countMismatches.filter((m) => m.found < m.expected).length} missing copies, ${report.countMismatches.filter((m) => m.found > m.expected).length} extra)`
      : '',
    report.leaks.length > 0 ? `${plural(report.leaks.length, 'held-out canary', 'held-out canaries')} leaked` : '',
    report.tampered.length > 0 ? `${plural(report.tampered.length, 'record', 'records')} with tampered audio` : '',
    report.unverifiable.length > 0 && !report.unverifiableAccepted
      ? `${plural(report.unverifiable.length, 'record', 'records')} whose canary audio could not be checked (pass --allow-unverifiable to accept)`
      : '',
  ].filter(Boolean);
  return `NOT OK: ${problems.join('; ')}`;
}

export function registerVerify(program: Command): void {
  const command = program
    .command('verify')
    .description(
      'Check a training manifest against the full canary set: inserted counts, held-out leaks, tampered audio. Exit 0 when all is as intended, ' +
        `${VERIFY_EXIT_CODES.leak} when a held-out canary leaked, ${VERIFY_EXIT_CODES.countMismatchOrTampered} on a count mismatch or tampered audio, ` +
        `${VERIFY_EXIT_CODES.unverifiable} when canary audio could not be read (a missing file, a broken ` +
        'relative path, a command) and --allow-unverifiable was not given. Canary audio must match the set sample for sample, unless it was resampled ' +
        'to another rate (then within ±3 of 32768 per sample; the report says which rule applied).',
    );
  addSpecOptions(command, VERIFY_OPTION_SPECS);
  command
    .option('--json', 'print the report as JSON', false)
    .option('--quiet', 'no progress bar', false)
    .action(async (flags: VerifyFlags) => {
      const { json, quiet, ...options } = flags;
      const { verifyInjection } = await import('../manifest/index.ts');
      const { createVerifyProgress } = await import('./progress.ts');
      const progress = createVerifyProgress({ quiet: quiet || json });
      let report: VerificationReport;
      try {
        report = await verifyInjection({ ...options, onProgress: progress.update });
      } finally {
        progress.stop();
      }
      if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        const found = report.inserted.filter((c) => c.found > 0).length;
        const lines = [
          `${report.format}: ${report.records} records; ${found}/${report.inserted.length} inserted canaries found, ${report.audioHashed} audio files hashed`,
          verifyAudioLine(report),
          ...report.countMismatches.map((m) => `  count mismatch: ${m.id} found ${m.found}, expected ${m.expected}`),
          ...report.leaks.map(
            (l) =>
              `  LEAK: held-out canary ${l.id} found ${l.found}x (${l.positions.map((p) => `${p.file}:${p.line}`).join(', ')})`,
          ),
          ...report.tampered.map((t) => `  tampered: ${t.file}:${t.line} (${t.canaryId}): ${t.reason}`),
          ...report.unverifiable.map((u) => `  unverifiable audio: ${u.file}:${u.line} ${u.audio}: ${u.reason}`),
          ...(report.receipt
            ? [
                report.receipt.matches
                  ? `  receipt: ${report.receipt.path} (the manifest is byte for byte what inject wrote)`
                  : `  receipt: ${report.receipt.path}; changed since inject wrote it: ${report.receipt.differing.join(', ')}`,
              ]
            : []),
          verifySummaryLine(report),
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      process.exitCode = verifyExitCode(report);
    });
}
