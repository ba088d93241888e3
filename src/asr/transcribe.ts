/**
 * transcribeFiles: audio files in, one row per utterance out.
 *
 * Pipeline: every WAV header is probed first (lengths for planning; bad files
 * found before any work), utterances are batched by length (batching.ts), and
 * features are prepared ahead of the model: by a pool of worker threads
 * (feature-pool.ts; `featureWorkers`, default per provider) several batches
 * ahead, or with featureWorkers 0 on the main thread one batch ahead. Note
 * that onnxruntime-node (1.30) runs session.run synchronously on the main
 * thread (deferred by setImmediate), so main-thread features and the CPU
 * provider's compute take turns; only feature workers overlap with a run,
 * which pays on GPU providers (the CPU provider keeps every core busy
 * already). As soon as a run
 * returns, the next batch is started before the finished batch is scored and
 * its rows yielded, so the model does not wait on that either.
 * Rows come in processing order (longest utterances first), each with its id;
 * they are the same whatever the number of feature workers.
 */
import type { FeatureMatrix } from '../audio/index.ts';
import { RoteError } from '../util/errors.ts';
import { OptionError } from '../util/options.ts';
import { ctcForcedLogLikelihood, ctcMinimumFrames } from './ctc.ts';
import {
  DEFAULT_MAX_DURATION_SEC,
  defaultBatchFrames,
  fixedWindowFrames,
  framesPer10ms,
  padFeatures,
  planBatches,
} from './batching.ts';
import { extractFeatures } from './feature-extract.ts';
import type { FeatureCache } from './feature-cache.ts';
import { defaultFeatureWorkers, FeaturePool, type PooledFeatures } from './feature-pool.ts';
import type { Engine, UtteranceOutput } from './families/types.ts';
import { engineOf, type AsrModel } from './model.ts';
import { detokenize, tokenizeReference } from './vocabulary.ts';
import { probeWav } from '../audio/wav.ts';

export interface TranscribeItem {
  id: string;
  path: string;
  /** Reference transcript: when given (and the model is CTC), the row carries its forced score. */
  reference?: string;
}

export interface ReferenceScore {
  /** ln P(reference | audio) under CTC, or teacher-forced under the transducer (sum over all alignments). */
  logLikelihood: number;
  /** Reference length in model tokens and in characters (spaces between words included). */
  tokens: number;
  characters: number;
  /** logLikelihood / tokens and / characters (negate for a per-token / per-character NLL). */
  perToken: number;
  perCharacter: number;
}

export interface TranscriptionRow {
  id: string;
  path: string;
  hypothesis: string;
  tokenIds: number[];
  /** Duration of the file's audio in seconds. */
  durationSec: number;
  /** Feature frames given to the model. */
  frames: number;
  /** null for transducers, items without a reference, or a reference that cannot be aligned (see notes). */
  referenceScore: ReferenceScore | null;
  /** What was done to the input (resampled, downmixed) and to the reference (dropped characters). */
  notes: string[];
}

export interface SkippedItem {
  id: string;
  path: string;
  reason: string;
}

export interface TranscribeOptions {
  /**
   * Padded feature frames per batch (batch size x longest utterance), in 10 ms frames (a waveform
   * frontend's budget is scaled to its samples; a Whisper utterance counts its 30 s window, 3000 frames); default
   * defaultBatchFrames(provider, window): 2500 on cpu, 10000 on GPUs, at least 4 windows (12000) for Whisper.
   */
  batchFrames?: number;
  /**
   * Worker threads that load audio and compute features; 0 computes them on the
   * main thread. Default defaultFeatureWorkers(provider): min(cores - 1, 8) on
   * cuda and webgpu, 0 on cpu (ONNX Runtime already uses every core there).
   */
  featureWorkers?: number;
  /**
   * Longest utterance in seconds (default DEFAULT_MAX_DURATION_SEC): a longer one is refused before any work
   * (skipped with skipBad), since the memory it needs grows with the square of its length.
   */
  maxDurationSec?: number;
  /** Skip unreadable / empty audio (reported through onSkip) instead of failing. */
  skipBad?: boolean;
  /** Features kept across calls (a trajectory's checkpoints transcribe the same files): looked up before computing, filled after. */
  featureCache?: FeatureCache;
  onProgress?: (done: number, total: number) => void;
  onSkip?: (skipped: SkippedItem) => void;
  /** Called once when the generator ends (finished, failed or stopped early): where the time went. */
  onStats?: (stats: TranscribeStats) => void;
}

export interface TranscribeStats {
  /** Feature workers that ran (0: features on the main thread). */
  featureWorkers: number;
  /** Utterances whose features were computed. */
  featureUtterances: number;
  /** Seconds spent reading audio and computing features, summed over utterances (with workers these overlap each other and the model). */
  featureSec: number;
  /** Wall seconds the model sat idle waiting for the next batch's features: what feature workers are there to remove. */
  featureWaitSec: number;
  /** Wall seconds of the whole call, header probes and worker start included. */
  wallSec: number;
  /** Why the default feature workers could not start (features then ran on the main thread); absent when they did. */
  featureWorkersError?: string;
}

/** Batches whose features are prepared ahead of the running one (with workers; at least enough to give each worker 2 utterances). */
export const FEATURE_BATCHES_AHEAD = 2;

interface Prepared {
  items: TranscribeItem[];
  matrices: FeatureMatrix[];
  durations: number[];
  notes: string[][];
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Seconds spent inside session.run by this model so far, and how many runs. */
export function sessionRunTime(model: AsrModel): { seconds: number; runs: number } {
  const clock = engineOf(model).clock;
  return { seconds: clock.runMs / 1000, runs: clock.runs };
}

/** The reference's token ids, or null (with a note) when none of it is in the vocabulary. */
function referenceTokens(
  engine: Engine,
  reference: string,
  notes: string[],
): ReturnType<typeof tokenizeReference> | null {
  const tokens = tokenizeReference(engine.vocabulary, reference);
  notes.push(...tokens.notes);
  if (tokens.ids.length === 0) {
    notes.push('reference has no tokens in the model vocabulary; no score');
    return null;
  }
  return tokens;
}

function referenceScore(logLikelihood: number, tokens: ReturnType<typeof tokenizeReference>): ReferenceScore {
  return {
    logLikelihood,
    tokens: tokens.ids.length,
    characters: tokens.characters,
    perToken: logLikelihood / tokens.ids.length,
    perCharacter: tokens.characters > 0 ? logLikelihood / tokens.characters : logLikelihood,
  };
}

function scoreReference(
  engine: Engine,
  output: UtteranceOutput,
  reference: string,
  notes: string[],
): ReferenceScore | null {
  const tokens = referenceTokens(engine, reference, notes);
  if (!tokens) return null;
  if (!output.logProbs) {
    // Transducers score inside run() (they need the encoder output and the networks).
    if (output.forcedLogLikelihood === undefined || output.forcedLogLikelihood === null) {
      notes.push('this model gives no reference score');
      return null;
    }
    return referenceScore(output.forcedLogLikelihood, tokens);
  }
  const needed = ctcMinimumFrames(tokens.ids);
  if (needed > output.outFrames) {
    notes.push(`reference needs at least ${needed} output frames, the utterance has ${output.outFrames}; no score`);
    return null;
  }
  const vocabSize = engine.vocabulary.pieces.length;
  return referenceScore(
    ctcForcedLogLikelihood(output.logProbs, output.outFrames, vocabSize, tokens.ids, engine.vocabulary.blankId),
    tokens,
  );
}

/** The batching options, defaulted per provider and checked (an OptionError names the bad one). */
function transcribeSettings(
  model: AsrModel,
  options: TranscribeOptions,
): { batchFrames: number; maxDurationSec: number; featureWorkers: number; workersByDefault: boolean } {
  const batchFrames =
    options.batchFrames ?? defaultBatchFrames(model.provider.used, fixedWindowFrames(engineOf(model).frontend));
  if (!Number.isInteger(batchFrames) || batchFrames < 1)
    throw new OptionError((name) => `${name('batchFrames')} must be a positive integer, got ${batchFrames}`);
  const maxDurationSec = options.maxDurationSec ?? DEFAULT_MAX_DURATION_SEC;
  if (!(maxDurationSec > 0) || !Number.isFinite(maxDurationSec))
    throw new OptionError(
      (name) => `${name('maxDurationSec')} must be a positive number of seconds, got ${maxDurationSec}`,
    );
  const featureWorkers = options.featureWorkers ?? defaultFeatureWorkers(model.provider.used);
  const workersByDefault = options.featureWorkers === undefined;
  if (!Number.isInteger(featureWorkers) || featureWorkers < 0)
    throw new OptionError((name) => `${name('featureWorkers')} must be a non-negative integer, got ${featureWorkers}`);
  return { batchFrames, maxDurationSec, featureWorkers, workersByDefault };
}

/**
 * Step 1: every item's WAV header, in order: the usable items with their estimated frontend frames (for planning);
 * an unreadable, empty or too long file goes to `skip` (which throws unless skipBad).
 */
function probeHeaders(
  items: TranscribeItem[],
  frontend: Engine['frontend'],
  limits: { maxDurationSec: number; modelMaxDurationSec: number | undefined },
  skip: (item: TranscribeItem, error: unknown) => void,
): {
  usable: TranscribeItem[];
  estimatedFrames: number[];
  beyondModel: { item: TranscribeItem; seconds: number }[];
} {
  const { maxDurationSec, modelMaxDurationSec } = limits;
  const usable: TranscribeItem[] = [];
  const estimatedFrames: number[] = [];
  // Longer than the model reads (Whisper: 30 s): a row saying so, no transcript, no score; never cut.
  const beyondModel: { item: TranscribeItem; seconds: number }[] = [];
  for (const item of items) {
    try {
      const header = probeWav(item.path);
      if (header.numSamples === 0) throw new RoteError(`${item.path}: WAV file holds no samples`);
      const seconds = header.numSamples / header.sampleRate;
      if (seconds > maxDurationSec) {
        throw new RoteError(
          `${item.path}: ${seconds.toFixed(1)} s of audio, longer than --max-duration ${maxDurationSec} s; the memory a model needs grows with the square of the length ` +
            '(about 1.4 GB at 120 s and 30 GB at 600 s for the small reference model); split the audio, or raise --max-duration if the machine has the memory',
        );
      }
      if (modelMaxDurationSec !== undefined && seconds > modelMaxDurationSec) {
        beyondModel.push({ item, seconds });
        continue;
      }
      usable.push(item);
      estimatedFrames.push(
        frontend.framesFor(Math.round((header.numSamples * frontend.sampleRate) / header.sampleRate)),
      );
    } catch (error) {
      skip(item, error);
    }
  }
  return { usable, estimatedFrames, beyondModel };
}

/** Batches of indices into the usable items, by length; batchFrames counts 10 ms frames (1 frontend frame for the filterbanks and Whisper's window, 160 for a 16 kHz waveform). */
function planLengthBatches(engine: Engine, estimatedFrames: number[], batchFrames: number): number[][] {
  return planBatches(
    estimatedFrames,
    batchFrames * framesPer10ms(engine.frontend),
    engine.padSensitive ? 1 : undefined,
  );
}

/** The started feature pool, or null when default workers could not start (the reason goes into stats); workers the caller asked for must run. */
async function featurePoolOrMainThread(
  poolStarting: Promise<FeaturePool>,
  workersByDefault: boolean,
  stats: TranscribeStats,
): Promise<FeaturePool | null> {
  try {
    return await poolStarting;
  } catch (error) {
    if (!workersByDefault) throw error;
    stats.featureWorkersError = errorMessage(error);
    return null;
  }
}

interface FeatureQueue {
  /** Starts preparing planned batches until enough are ahead: one on the main thread, several with workers. */
  fill(): void;
  /** The next batch with at least one utterance whose features were computed, in planned order; null after the last. */
  takeNext(): Promise<Prepared | null>;
  /** The generator ended: failures from now on are the closed pool's, not the files'. */
  stop(): void;
}

/** Steps 2 and 3: features of the planned batches, prepared ahead of the model on the pool's workers or inline. */
function createFeatureQueue(
  frontend: Engine['frontend'],
  pool: FeaturePool | null,
  usable: TranscribeItem[],
  batches: number[][],
  stats: TranscribeStats,
  skip: (item: TranscribeItem, error: unknown) => void,
  cache: FeatureCache | undefined,
): FeatureQueue {
  let stopped = false;
  // 2. Features of one batch, in planned order whichever worker finishes first.
  const extractInline = (path: string): PooledFeatures => {
    const t = performance.now();
    const features = extractFeatures(frontend, path);
    return { ...features, computeMs: performance.now() - t };
  };
  const cached = (path: string) => cache?.get(cache.keyOf(frontend.spec, path));
  const remember = (path: string, features: PooledFeatures) => cache?.set(cache.keyOf(frontend.spec, path), features);
  const prepare = async (indices: number[]): Promise<Prepared> => {
    let settled: PromiseSettledResult<PooledFeatures>[];
    if (pool) {
      const workers = pool;
      settled = await Promise.allSettled(
        indices.map(async (index) => {
          const path = usable[index]!.path;
          const known = cached(path);
          if (known) return { ...known, computeMs: 0 };
          const features = await workers.extract(path);
          remember(path, features);
          return features;
        }),
      );
    } else {
      settled = [];
      for (const index of indices) {
        const path = usable[index]!.path;
        try {
          const known = cached(path);
          const features = known ? { ...known, computeMs: 0 } : extractInline(path);
          if (!known) remember(path, features);
          settled.push({ status: 'fulfilled', value: features });
        } catch (reason) {
          settled.push({ status: 'rejected', reason });
        }
      }
    }
    const prepared: Prepared = { items: [], matrices: [], durations: [], notes: [] };
    if (stopped) return prepared; // the generator ended: failures now are the closed pool's, not the files'
    settled.forEach((result, i) => {
      const item = usable[indices[i]!]!;
      if (result.status === 'rejected') {
        skip(item, result.reason);
        return;
      }
      stats.featureUtterances++;
      stats.featureSec += result.value.computeMs / 1000;
      prepared.items.push(item);
      prepared.matrices.push(result.value.matrix);
      prepared.durations.push(result.value.durationSec);
      // A copy: scoring appends to a row's notes, and the features (with their loader notes) may be cached.
      prepared.notes.push([...result.value.notes]);
    });
    return prepared;
  };

  // 3. Keep batches in preparation: one on the main thread, several with workers.
  const ahead: { prepared: Promise<Prepared>; utterances: number }[] = [];
  let planned = 0;
  const fill = (): void => {
    while (planned < batches.length) {
      const queued = ahead.reduce((sum, slot) => sum + slot.utterances, 0);
      const enough = pool ? ahead.length >= FEATURE_BATCHES_AHEAD && queued >= 2 * pool.size : ahead.length >= 1;
      if (enough) break;
      const indices = batches[planned++]!;
      const prepared = prepare(indices);
      prepared.catch(() => undefined); // awaited in order by takeNext
      ahead.push({ prepared, utterances: indices.length });
    }
  };
  const takeNext = async (): Promise<Prepared | null> => {
    for (;;) {
      fill();
      const slot = ahead.shift();
      if (!slot) return null;
      const waitStarted = performance.now();
      const prepared = await slot.prepared;
      stats.featureWaitSec += (performance.now() - waitStarted) / 1000;
      if (prepared.items.length > 0) return prepared;
    }
  };
  const stop = (): void => {
    stopped = true;
  };
  return { fill, takeNext, stop };
}

/** Starts the model on a prepared batch (transducers get the reference targets; CTC engines score from their log-probs afterwards). */
function startRun(engine: Engine, prepared: Prepared): Promise<UtteranceOutput[]> {
  const targets = engine.info.isCtc
    ? undefined
    : prepared.items.map((item) =>
        item.reference !== undefined ? tokenizeReference(engine.vocabulary, item.reference).ids : null,
      );
  const run = engine.run(padFeatures(prepared.matrices), targets);
  run.catch(() => undefined); // awaited below; avoids an unhandled rejection meanwhile
  return run;
}

export async function* transcribeFiles(
  model: AsrModel,
  items: TranscribeItem[],
  options: TranscribeOptions = {},
): AsyncGenerator<TranscriptionRow> {
  const engine = engineOf(model);
  const { batchFrames, maxDurationSec, featureWorkers, workersByDefault } = transcribeSettings(model, options);
  const { frontend } = engine;
  const started = performance.now();
  const stats: TranscribeStats = {
    featureWorkers: 0,
    featureUtterances: 0,
    featureSec: 0,
    featureWaitSec: 0,
    wallSec: 0,
  };
  const total = items.length;
  let done = 0;
  const skip = (item: TranscribeItem, error: unknown): void => {
    if (!options.skipBad)
      throw error instanceof RoteError
        ? error
        : new RoteError(`${item.path}: ${errorMessage(error)}`, { cause: error });
    done++;
    options.onSkip?.({ id: item.id, path: item.path, reason: errorMessage(error) });
    options.onProgress?.(done, total);
  };

  // Workers start while the headers are probed.
  const poolStarting =
    featureWorkers > 0 && items.length > 0
      ? FeaturePool.start(frontend.spec, Math.min(featureWorkers, items.length))
      : null;
  poolStarting?.catch(() => undefined);
  let pool: FeaturePool | null = null;
  let queue: FeatureQueue | null = null;
  let running: Promise<UtteranceOutput[]> | null = null;
  try {
    // 1. Probe every header: lengths for planning, and bad files found up front.
    const { usable, estimatedFrames, beyondModel } = probeHeaders(
      items,
      frontend,
      { maxDurationSec, modelMaxDurationSec: engine.maxDurationSec },
      skip,
    );
    for (const { item, seconds } of beyondModel) {
      done++;
      options.onProgress?.(done, total);
      yield {
        id: item.id,
        path: item.path,
        hypothesis: '',
        tokenIds: [],
        durationSec: seconds,
        frames: 0,
        referenceScore: null,
        notes: [
          `${seconds.toFixed(1)} s of audio; this model (${engine.info.family}) reads at most ${engine.maxDurationSec} s and rote never cuts a canary: not transcribed, no score (infeasible for this model)`,
        ],
      };
    }
    const batches = planLengthBatches(engine, estimatedFrames, batchFrames);
    if (poolStarting) pool = await featurePoolOrMainThread(poolStarting, workersByDefault, stats);
    stats.featureWorkers = pool?.size ?? 0;
    // 2 and 3. Features prepared ahead of the model.
    queue = createFeatureQueue(frontend, pool, usable, batches, stats, skip, options.featureCache);

    // 4. Run batch k; when it returns start batch k + 1, then score and yield batch k.
    // fill() comes before each run starts: inline features are computed
    // synchronously, and after the run was started they would be counted in
    // its clock (the binding starts the native run on a later tick).
    let current = await queue.takeNext();
    queue.fill();
    running = current ? startRun(engine, current) : null;
    while (current && running) {
      const outputs = await running;
      running = null;
      const finished = current;
      current = await queue.takeNext();
      queue.fill();
      if (current) running = startRun(engine, current);
      for (let i = 0; i < finished.items.length; i++) {
        const item = finished.items[i]!;
        const output = outputs[i]!;
        const notes = finished.notes[i]!;
        const referenceScore =
          item.reference !== undefined ? scoreReference(engine, output, item.reference, notes) : null;
        done++;
        options.onProgress?.(done, total);
        yield {
          id: item.id,
          path: item.path,
          hypothesis: engine.transcript
            ? engine.transcript(output.tokenIds)
            : detokenize(engine.vocabulary, output.tokenIds),
          tokenIds: output.tokenIds,
          durationSec: finished.durations[i]!,
          frames: finished.matrices[i]!.numFrames,
          referenceScore,
          notes,
        };
      }
    }
  } finally {
    queue?.stop();
    // Stopped early or failed: let the run in flight finish before the caller may close the model.
    if (running) await running.catch(() => undefined);
    const workers = pool ?? (poolStarting ? await poolStarting.catch(() => null) : null);
    await workers?.close();
    stats.wallSec = (performance.now() - started) / 1000;
    options.onStats?.(stats);
  }
}
