/**
 * `rote transcribe`: audio files through an ONNX ASR model into JSONL rows.
 * Flags are part of a contract (scripts/gpu/check.sh calls
 * `rote transcribe --model DIR --provider P ... --json`); keep them stable.
 */
import { createWriteStream } from 'node:fs';
import { readFile, rename, rm, mkdir } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { SkippedItem, TranscribeItem, TranscribeStats } from '../asr/index.ts';
import { DEFAULT_BATCH_FRAMES, DEFAULT_CPU_BATCH_FRAMES, DEFAULT_MAX_DURATION_SEC, defaultBatchFrames, describeMemoryBudget } from '../asr/batching.ts';
import { defaultFeatureWorkers } from '../asr/feature-pool.ts';
import { temporarySibling } from '../util/atomic.ts';
import { RoteError } from '../util/errors.ts';
import { createProgress } from './progress.ts';

function positiveInteger(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
    return n;
  };
}

function nonNegativeInteger(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return n;
  };
}

/**
 * A list file: one utterance per line, `PATH`, `ID<TAB>PATH` or `ID<TAB>PATH<TAB>REFERENCE`;
 * blank lines and lines starting with # are ignored; relative paths are relative to the list file.
 */
export async function readListFile(path: string): Promise<TranscribeItem[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new RoteError(`${path}: cannot read the --list file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
  const base = dirname(resolve(path));
  const items: TranscribeItem[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (!line.trim() || line.startsWith('#')) return;
    const fields = line.split('\t');
    if (fields.length > 3) throw new RoteError(`${path}:${index + 1}: expected PATH, ID<TAB>PATH or ID<TAB>PATH<TAB>REFERENCE, got ${fields.length} tab-separated fields`);
    const [id, file, reference] = fields.length === 1 ? [basename(fields[0]!, extname(fields[0]!)), fields[0]!, undefined] : [fields[0]!, fields[1]!, fields[2]];
    if (!file.trim()) throw new RoteError(`${path}:${index + 1}: empty path`);
    items.push({ id, path: isAbsolute(file) ? file : join(base, file), ...(reference !== undefined ? { reference } : {}) });
  });
  if (items.length === 0) throw new RoteError(`${path}: the --list file names no audio files`);
  return items;
}

/** Every canary of a canary-set directory (canary-set.json), with its text as the reference. */
export async function readCanarySetItems(dir: string): Promise<TranscribeItem[]> {
  const path = join(dir, 'canary-set.json');
  let value: { canaries?: { id?: unknown; audio?: unknown; text?: unknown }[] };
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new RoteError(`${path}: cannot read the canary set (${(error as Error).message}); --canaries takes a directory written by \`rote generate\``, { cause: error });
  }
  if (!Array.isArray(value.canaries)) throw new RoteError(`${path}: no "canaries" array; is this a canary-set.json written by \`rote generate\`?`);
  return value.canaries.map((canary, index) => {
    if (typeof canary.id !== 'string' || typeof canary.audio !== 'string' || typeof canary.text !== 'string') {
      throw new RoteError(`${path}: canaries[${index}] lacks a string id, audio or text`);
    }
    return { id: canary.id, path: join(dir, canary.audio), reference: canary.text };
  });
}

function inputItems(paths: string[]): TranscribeItem[] {
  const seen = new Map<string, number>();
  return paths.map((path) => {
    let id = basename(path, extname(path));
    const count = seen.get(id) ?? 0;
    seen.set(id, count + 1);
    if (count > 0) id = `${id}#${count + 1}`;
    return { id, path };
  });
}

interface TranscribeFlags {
  model: string;
  input?: string[];
  list?: string;
  canaries?: string;
  out: string;
  provider: 'auto' | 'cuda' | 'webgpu' | 'cpu';
  deviceId: number;
  threads?: number;
  batchFrames?: number;
  featureWorkers?: number;
  skipBad?: boolean;
  maxDuration?: number;
  sherpaCompatible?: boolean;
  maxSymbolsPerFrame?: number;
  head?: 'ctc' | 'transducer';
  json?: boolean;
  quiet?: boolean;
}

export function registerTranscribe(program: Command): void {
  program
    .command('transcribe')
    .description(`Transcribe audio files with an ONNX ASR model (NeMo CTC, NeMo RNNT/TDT in NeMo or sherpa-onnx layout, sherpa-onnx CTC or transducer, or a rote-model.json sidecar); writes one JSON line per utterance.\n\n${describeMemoryBudget()}.`)
    .requiredOption('--model <dir>', 'model directory (see `rote inspect-model`)')
    .option('--input <wav...>', 'WAV files to transcribe (ids are the file names without extension)')
    .option('--list <file>', 'text file, one utterance per line: PATH, ID<TAB>PATH or ID<TAB>PATH<TAB>REFERENCE (paths relative to the file)')
    .option('--canaries <setdir>', 'a canary-set directory from `rote generate`: every canary, with its text as the reference')
    .requiredOption('--out <rows.jsonl>', 'output JSONL: one row {id, path, hypothesis, tokenIds, durationSec, frames, referenceScore, notes} per utterance, written atomically')
    .addOption(new Option('--provider <name>', 'execution provider; auto tries cuda, then webgpu, then cpu').choices(['auto', 'cuda', 'webgpu', 'cpu']).default('auto'))
    .option('--device-id <n>', 'GPU index for the cuda provider', nonNegativeInteger('--device-id'), 0)
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: ONNX Runtime chooses, usually one per core)', positiveInteger('--threads'))
    .option('--batch-frames <n>', `padded feature frames per batch (batch size x longest utterance; 100 frames = 1 s; default ${DEFAULT_CPU_BATCH_FRAMES} on cpu, ${DEFAULT_BATCH_FRAMES} on cuda/webgpu)`, positiveInteger('--batch-frames'))
    .option(
      '--feature-workers <n>',
      `worker threads that read audio and compute features while the model runs; 0 = on the main thread (default: on cuda/webgpu min(cores - 1, 8), here ${defaultFeatureWorkers('cuda')}; on cpu 0, as ONNX Runtime already uses every core)`,
      nonNegativeInteger('--feature-workers'),
    )
    .option('--max-duration <seconds>', `longest utterance to transcribe; a longer one is an error (or skipped with --skip-bad) (default: ${DEFAULT_MAX_DURATION_SEC})`, positiveNumber('--max-duration'))
    .option('--skip-bad', 'skip unreadable, empty, corrupt or too long audio files (listed in the summary) instead of stopping (default: stop at the first)')
    .option('--sherpa-compatible', 'NeMo CTC and transducer models: use sherpa-onnx\'s feature variant (CTC: and output lengths; TDT: 5 symbols per frame) instead of NeMo\'s own (default: NeMo\'s)')
    .addOption(new Option('--head <head>', 'hybrid RNNT-CTC models with both heads exported: which head to use (default: transducer, as NeMo)').choices(['ctc', 'transducer']))
    .option('--max-symbols-per-frame <n>', 'transducers: symbols emitted per encoder frame at most (default: 1 for icefall transducers, as sherpa-onnx; 10 for NeMo transducers, as NeMo)', positiveInteger('--max-symbols-per-frame'))
    .option('--json', 'print the summary as JSON on stdout (provider, utterancesPerSec, rtfx, sessionRunShare, skipped, ...)')
    .option('--quiet', 'no progress bar, no summary text')
    .action(async (flags: TranscribeFlags) => {
      const sources = [flags.input?.length ? 'input' : null, flags.list ? 'list' : null, flags.canaries ? 'canaries' : null].filter(Boolean);
      if (sources.length !== 1) throw new RoteError(`give exactly one of --input, --list or --canaries (got ${sources.length === 0 ? 'none' : sources.map((s) => `--${s}`).join(', ')})`);
      const items = flags.list ? await readListFile(flags.list) : flags.canaries ? await readCanarySetItems(flags.canaries) : inputItems(flags.input!);

      const { describeProviderReport, loadModel, sessionRunTime, transcribeFiles } = await import('../asr/index.ts');
      const loadStarted = performance.now();
      const model = await loadModel(flags.model, {
        provider: flags.provider,
        deviceId: flags.deviceId,
        ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
        ...(flags.sherpaCompatible ? { sherpaCompatible: true } : {}),
        ...(flags.maxSymbolsPerFrame !== undefined ? { maxSymbolsPerFrame: flags.maxSymbolsPerFrame } : {}),
        ...(flags.head ? { head: flags.head } : {}),
      });
      const loadSec = (performance.now() - loadStarted) / 1000;
      if (!flags.quiet && !flags.json) process.stderr.write(`rote: ${model.info.family} model, ${describeProviderReport(model.provider)}\n`);

      const { explainWriteFailure } = await import('../util/errors.ts');
      await mkdir(dirname(resolve(flags.out)), { recursive: true }).catch(async (error: unknown) => {
        throw await explainWriteFailure(error, flags.out, '--out');
      });
      const temporary = temporarySibling(flags.out);
      const stream = createWriteStream(temporary);
      const skipped: SkippedItem[] = [];
      const progress = createProgress('transcribe', items.length, { quiet: flags.quiet || flags.json });
      let audioSec = 0;
      let rows = 0;
      let featureStats = undefined as TranscribeStats | undefined;
      const started = performance.now();
      try {
        for await (const row of transcribeFiles(model, items, {
          ...(flags.batchFrames !== undefined ? { batchFrames: flags.batchFrames } : {}),
          ...(flags.featureWorkers !== undefined ? { featureWorkers: flags.featureWorkers } : {}),
          ...(flags.maxDuration !== undefined ? { maxDurationSec: flags.maxDuration } : {}),
          onStats: (stats) => (featureStats = stats),
          skipBad: flags.skipBad ?? false,
          onProgress: () => progress.increment(),
          onSkip: (item) => skipped.push(item),
        })) {
          rows++;
          audioSec += row.durationSec;
          if (!stream.write(`${JSON.stringify(row)}\n`)) await once(stream, 'drain');
        }
        stream.end();
        await once(stream, 'finish');
        await rename(temporary, flags.out);
      } catch (error) {
        stream.destroy();
        await rm(temporary, { force: true });
        throw await explainWriteFailure(error, flags.out, '--out');
      } finally {
        progress.stop();
      }
      const wallSec = (performance.now() - started) / 1000;
      const run = sessionRunTime(model);
      await model.close();
      const summary = {
        model: { dir: model.info.dir, family: model.info.family, frontend: model.info.frontend.type },
        provider: model.provider,
        out: flags.out,
        utterances: rows,
        skipped,
        audioSec,
        loadSec,
        wallSec,
        utterancesPerSec: wallSec > 0 ? rows / wallSec : 0,
        rtfx: wallSec > 0 ? audioSec / wallSec : 0,
        sessionRunSec: run.seconds,
        sessionRuns: run.runs,
        sessionRunShare: wallSec > 0 ? run.seconds / wallSec : 0,
        batchFrames: flags.batchFrames ?? defaultBatchFrames(model.provider.used),
        threads: flags.threads ?? null,
        cores: availableParallelism(),
        featureWorkers: featureStats?.featureWorkers ?? 0,
        featureSec: featureStats?.featureSec ?? 0,
        featureWaitSec: featureStats?.featureWaitSec ?? 0,
        featureWorkersError: featureStats?.featureWorkersError ?? null,
      };
      if (summary.featureWorkersError && !flags.quiet && !flags.json) process.stderr.write(`rote: feature workers did not start, features ran on the main thread: ${summary.featureWorkersError}\n`);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      } else if (!flags.quiet) {
        process.stdout.write(
          `${rows} utterances (${audioSec.toFixed(1)} s of audio) -> ${flags.out}\n` +
            `${summary.utterancesPerSec.toFixed(1)} utterances/s, RTFx ${summary.rtfx.toFixed(1)}, ${(100 * summary.sessionRunShare).toFixed(0)}% of wall time in session.run, on ${model.provider.used}\n` +
            `features: ${summary.featureWorkers} worker${summary.featureWorkers === 1 ? '' : 's'}, ${summary.featureSec.toFixed(1)} s computing, model idle ${summary.featureWaitSec.toFixed(1)} s waiting for them\n` +
            (skipped.length ? `skipped ${skipped.length}:\n${skipped.map((s) => `  ${s.path}: ${s.reason}`).join('\n')}\n` : ''),
        );
      }
    });
}
