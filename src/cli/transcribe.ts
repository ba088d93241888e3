/**
 * `rote transcribe`: writeTranscriptions() of src/asr/transcribe-file.ts, with a progress bar and the summary printed.
 * Flags are part of a contract (scripts/gpu/check.sh calls
 * `rote transcribe --model DIR --provider P ... --json`); keep them stable.
 */
import type { Command } from 'commander';
import { describeMemoryBudget } from '../asr/batching.ts';
import { TRANSCRIBE_OPTION_SPECS } from '../asr/options.ts';
import type { WriteTranscriptionsOptions } from '../asr/transcribe-file.ts';
import { addSpecOptions } from './options.ts';
import { createProgress, type Progress } from './progress.ts';

export function registerTranscribe(program: Command): void {
  const command = program
    .command('transcribe')
    .description(
      `Transcribe audio files with an ONNX ASR model (NeMo CTC, NeMo RNNT/TDT in NeMo or sherpa-onnx layout, sherpa-onnx CTC or transducer, Whisper in Optimum or sherpa-onnx layout, or a rote-model.json sidecar); writes one JSON line per utterance.\n\n${describeMemoryBudget()}.`,
    );
  addSpecOptions(command, TRANSCRIBE_OPTION_SPECS)
    .option(
      '--json',
      'print the summary as JSON on stdout (provider, utterancesPerSec, rtfx, sessionRunShare, skipped, ...)',
    )
    .option('--quiet', 'no progress bar, no summary text')
    .action(async (flags: WriteTranscriptionsOptions & { json?: boolean; quiet?: boolean }) => {
      const { json, quiet, ...options } = flags;
      const { describeProviderReport } = await import('../asr/runtime.ts');
      const { writeTranscriptions } = await import('../asr/transcribe-file.ts');
      let progress: Progress | null = null;
      let summary;
      try {
        summary = await writeTranscriptions({
          ...options,
          onModelLoaded: (model) => {
            if (!quiet && !json)
              process.stderr.write(`rote: ${model.info.family} model, ${describeProviderReport(model.provider)}\n`);
          },
          onProgress: (_done, total) => {
            progress ??= createProgress('transcribe', total, { quiet: quiet || json });
            progress.increment();
          },
        });
      } finally {
        (progress as Progress | null)?.stop();
      }
      if (summary.featureWorkersError && !quiet && !json)
        process.stderr.write(
          `rote: feature workers did not start, features ran on the main thread: ${summary.featureWorkersError}\n`,
        );
      if (json) {
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      } else if (!quiet) {
        const { utterances: rows, audioSec, skipped } = summary;
        process.stdout.write(
          `${rows} utterances (${audioSec.toFixed(1)} s of audio) -> ${summary.out}\n` +
            `${summary.utterancesPerSec.toFixed(1)} utterances/s, RTFx ${summary.rtfx.toFixed(1)}, ${(100 * summary.sessionRunShare).toFixed(0)}% of wall time in session.run, on ${summary.provider.used}\n` +
            `features: ${summary.featureWorkers} worker${summary.featureWorkers === 1 ? '' : 's'}, ${summary.featureSec.toFixed(1)} s computing, model idle ${summary.featureWaitSec.toFixed(1)} s waiting for them\n` +
            (skipped.length
              ? `skipped ${skipped.length}:\n${skipped.map((s) => `  ${s.path}: ${s.reason}`).join('\n')}\n`
              : ''),
        );
      }
    });
}
