/**
 * Parallel espeak-ng (wasm) synthesis on worker threads. The module is
 * compiled once in this thread and shared with every worker; each worker
 * keeps one engine for all its utterances. Results do not depend on which
 * worker ran an utterance (each starts from the same memory snapshot).
 * src/util/worker-pool.ts runs the workers (espeak-worker.mjs speaks its protocol).
 */
import { availableParallelism } from 'node:os';
import { RoteError } from '../util/errors.ts';
import { WorkerPool } from '../util/worker-pool.ts';
import { compileEspeakModule, type SpeechOptions, type SynthesizedSpeech } from './espeak.ts';

/** What espeak-worker.mjs is sent (with an id) and answers. */
interface SynthesisRequest extends SpeechOptions {
  text: string;
}
interface SynthesisResult {
  samples: Float32Array;
  sampleRate: number;
}

export interface SpeechItem extends SpeechOptions {
  text: string;
}

/** Default number of synthesis workers: one per available core. */
export function defaultConcurrency(): number {
  return Math.max(1, availableParallelism());
}

// Plain JavaScript, started with no execArgv: the worker never loads tsx, which would cost
// ~0.3 s of CPU per worker (see espeak-engine.mjs).
const WORKER_URL = new URL('./espeak-worker.mjs', import.meta.url);

export class SpeechSynthesisPool {
  private constructor(private readonly pool: WorkerPool<SynthesisRequest, SynthesisResult>) {}

  /** Starts `concurrency` workers (default: one per core) and waits until each has its engine. */
  static async start(concurrency = defaultConcurrency()): Promise<SpeechSynthesisPool> {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RoteError(`concurrency must be a positive integer, got ${concurrency}`);
    const module = await compileEspeakModule();
    const pool = await WorkerPool.start<SynthesisRequest, SynthesisResult>({
      url: WORKER_URL,
      workerData: { module },
      size: concurrency,
      // Generation awaits speed-up and file writes between requests: keep the workers referenced throughout.
      unrefWhenIdle: false,
      workerName: 'espeak-ng worker',
      poolName: 'SpeechSynthesisPool',
      requestError: (failure, request) => new RoteError(`${failure.error} (text "${request.text}")`),
    });
    return new SpeechSynthesisPool(pool);
  }

  get size(): number {
    return this.pool.size;
  }

  async synthesize(text: string, options: SpeechOptions = {}): Promise<SynthesizedSpeech> {
    const { samples, sampleRate } = await this.pool.request({
      text,
      voice: options.voice,
      rate: options.rate,
      pitch: options.pitch,
    });
    return { samples, sampleRate };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * Synthesizes many utterances in parallel (worker threads, one engine each);
 * results in input order. `onProgress(done, total)` after each utterance.
 */
export async function synthesizeMany(
  items: readonly SpeechItem[],
  options: { concurrency?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<SynthesizedSpeech[]> {
  if (items.length === 0) return [];
  const pool = await SpeechSynthesisPool.start(Math.min(options.concurrency ?? defaultConcurrency(), items.length));
  let done = 0;
  try {
    return await Promise.all(
      items.map((item) =>
        pool.synthesize(item.text, item).then((speech) => {
          options.onProgress?.(++done, items.length);
          return speech;
        }),
      ),
    );
  } finally {
    await pool.close();
  }
}
