/**
 * Parallel espeak-ng (wasm) synthesis on worker threads. The module is
 * compiled once in this thread and shared with every worker; each worker
 * keeps one engine for all its utterances. Results do not depend on which
 * worker ran an utterance (each starts from the same memory snapshot).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { RoteError } from '../util/errors.ts';
import { compileEspeakModule, type SpeechOptions, type SynthesizedSpeech } from './espeak.ts';

export interface SynthesisRequest extends SpeechOptions {
  id: number;
  text: string;
}
export type SynthesisReply =
  | { id: number; samples: Float32Array; sampleRate: number; error?: undefined }
  | { id: number; error: string };

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

interface Pending {
  request: SynthesisRequest;
  resolve: (speech: SynthesizedSpeech) => void;
  reject: (error: Error) => void;
}

export class SpeechSynthesisPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly running = new Map<Worker, Pending>();
  private nextId = 0;
  private closed = false;
  private failure: Error | undefined;

  private constructor() {}

  /** Starts `concurrency` workers (default: one per core) and waits until each has its engine. */
  static async start(concurrency = defaultConcurrency()): Promise<SpeechSynthesisPool> {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RoteError(`concurrency must be a positive integer, got ${concurrency}`);
    const pool = new SpeechSynthesisPool();
    const module = await compileEspeakModule();
    await Promise.all(Array.from({ length: concurrency }, () => pool.spawn(module)));
    return pool;
  }

  private spawn(module: WebAssembly.Module): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(WORKER_URL, { execArgv: [], workerData: { module } });
      this.workers.push(worker);
      let ready = false;
      worker.on('message', (message: SynthesisReply | { ready: true } | { fatal: string }) => {
        if ('ready' in message) {
          ready = true;
          this.idle.push(worker);
          resolve();
          this.dispatch();
          return;
        }
        if ('fatal' in message) {
          const error = new Error(`espeak-ng worker failed to start: ${message.fatal}`);
          if (!ready) reject(error);
          this.fail(error);
          return;
        }
        const pending = this.running.get(worker);
        this.running.delete(worker);
        this.idle.push(worker);
        if (pending) {
          if (message.error !== undefined) pending.reject(new RoteError(`${message.error} (text "${pending.request.text}")`));
          else pending.resolve({ samples: message.samples, sampleRate: message.sampleRate });
        }
        this.dispatch();
      });
      worker.on('error', (error) => {
        if (!ready) reject(error);
        this.fail(error);
      });
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(new Error(`espeak-ng worker exited unexpectedly (code ${code})`));
      });
    });
  }

  get size(): number {
    return this.workers.length;
  }

  synthesize(text: string, options: SpeechOptions = {}): Promise<SynthesizedSpeech> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('SpeechSynthesisPool is closed'));
    return new Promise((resolve, reject) => {
      const request: SynthesisRequest = { id: this.nextId++, text, voice: options.voice, rate: options.rate, pitch: options.pitch };
      this.queue.push({ request, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length && this.queue.length) {
      const worker = this.idle.pop()!;
      const pending = this.queue.shift()!;
      this.running.set(worker, pending);
      worker.postMessage(pending.request);
    }
  }

  private fail(error: Error): void {
    if (this.failure || this.closed) return;
    this.failure = error;
    for (const pending of [...this.queue, ...this.running.values()]) pending.reject(error);
    this.queue.length = 0;
    this.running.clear();
    void this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map((worker) => worker.terminate()));
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
