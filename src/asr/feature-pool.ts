/**
 * Feature extraction on worker threads, so an accelerator is not kept waiting
 * by WAV decoding and the frontend's DSP on the main thread.
 *
 * Each worker builds the frontend from its spec (plain data) and runs the same
 * extractFeatures as the main thread, so features are identical bit for bit;
 * matrices come back as transferred buffers (no copy). Requests are served in
 * the order they are made.
 *
 * Workers start fast: feature-worker.ts and the modules it imports are bundled
 * once per process with esbuild (already installed: tsx is built on it) into one
 * ES module started from a data: URL with no execArgv, so no worker loads tsx
 * (measured here: ~0.12 s to a ready worker, against ~0.5-0.8 s through tsx).
 * Idle workers are unref'd: a pool that is not working never keeps the process alive.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FrontendSpec } from '../audio/index.ts';
import { RoteError } from '../util/errors.ts';
import type { ExtractedFeatures } from './feature-extract.ts';
import type { FeatureReply, FeatureRequest, WorkerStatus } from './feature-worker.ts';
import type { ProviderName } from './runtime.ts';

/**
 * Requests sent to one worker before it answers: the second waits in the worker's
 * queue, so the worker never idles for a round trip through the main thread.
 */
const REQUESTS_PER_WORKER = 2;

/** At most this many feature workers by default (more rarely pays: one GPU eats ~8 cores' worth of features). */
export const MAX_DEFAULT_FEATURE_WORKERS = 8;

/**
 * Default feature workers for a provider: on a GPU (cuda, webgpu) one per core
 * but one (left to the main thread and ONNX Runtime), at most 8; on the CPU
 * provider none, because ONNX Runtime's intra-op threads already use every core
 * (scripts/bench/RESULTS.md, transcribe section, has the measurements).
 */
export function defaultFeatureWorkers(provider: ProviderName, cores = availableParallelism()): number {
  if (provider === 'cpu') return 0;
  return Math.max(0, Math.min(cores - 1, MAX_DEFAULT_FEATURE_WORKERS));
}

export interface PooledFeatures extends ExtractedFeatures {
  /** Milliseconds the worker spent on this utterance (read, decode, features). */
  computeMs: number;
}

const WORKER_ENTRY = new URL('./feature-worker.ts', import.meta.url);

let bundled: Promise<URL> | null = null;

/** The worker entry and its imports as one ES module, built once per process. */
function workerBundle(): Promise<URL> {
  bundled ??= (async () => {
    const { build } = await import('esbuild');
    const result = await build({
      entryPoints: [fileURLToPath(WORKER_ENTRY)],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      write: false,
      logLevel: 'silent',
      // The bundled modules use import.meta.url only to createRequire CommonJS packages
      // (wavefile, fft.js): resolve them from the worker entry's real location.
      define: { 'import.meta.url': JSON.stringify(WORKER_ENTRY.href) },
    });
    const code = result.outputFiles[0]!.text;
    return new URL(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
  })().catch((error: unknown) => {
    bundled = null;
    throw new Error(`cannot bundle the feature worker (${error instanceof Error ? error.message : String(error)}); featureWorkers 0 computes features on the main thread`, { cause: error });
  });
  return bundled;
}

interface Job {
  request: FeatureRequest;
  resolve: (features: PooledFeatures) => void;
  reject: (error: Error) => void;
}

export class FeaturePool {
  private readonly workers: Worker[] = [];
  /** Started workers with how many requests each has been sent and not answered. */
  private readonly inFlight = new Map<Worker, number>();
  private readonly queue: Job[] = [];
  private readonly running = new Map<number, Job>();
  private nextId = 0;
  private closed = false;
  private failure: Error | undefined;

  private constructor() {}

  /** Starts `size` workers for the frontend `spec` and waits until each has built its frontend. */
  static async start(spec: FrontendSpec, size: number): Promise<FeaturePool> {
    if (!Number.isInteger(size) || size < 1) throw new RoteError(`feature workers must be a positive integer, got ${size}`);
    const url = await workerBundle();
    const pool = new FeaturePool();
    try {
      await Promise.all(Array.from({ length: size }, () => pool.spawn(url, spec)));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  private spawn(url: URL, spec: FrontendSpec): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(url, { execArgv: [], workerData: { spec } });
      this.workers.push(worker);
      let ready = false;
      worker.on('message', (message: FeatureReply | WorkerStatus) => {
        if ('ready' in message) {
          ready = true;
          worker.unref();
          this.inFlight.set(worker, 0);
          resolve();
          this.dispatch();
          return;
        }
        if ('fatal' in message) {
          const error = message.userError ? new RoteError(message.fatal) : new Error(`feature worker failed to start: ${message.fatal}`);
          if (!ready) reject(error);
          this.fail(error);
          return;
        }
        const job = this.running.get(message.id);
        this.running.delete(message.id);
        const remaining = (this.inFlight.get(worker) ?? 1) - 1;
        this.inFlight.set(worker, remaining);
        if (remaining === 0) worker.unref();
        if (job) {
          if ('error' in message) job.reject(message.userError ? new RoteError(message.error) : new Error(message.error));
          else {
            job.resolve({
              matrix: { data: message.data, numFrames: message.numFrames, numBins: message.numBins },
              durationSec: message.durationSec,
              notes: message.notes,
              computeMs: message.computeMs,
            });
          }
        }
        this.dispatch();
      });
      worker.on('error', (error) => {
        if (!ready) reject(error);
        this.fail(error);
      });
      worker.on('exit', (code) => {
        const error = new Error(`feature worker exited unexpectedly (code ${code})`);
        if (!ready) reject(error);
        if (!this.closed) this.fail(error);
      });
    });
  }

  get size(): number {
    return this.workers.length;
  }

  /** Loads `path` and computes its features on a worker. Rejects with the same error the main thread would raise. */
  extract(path: string): Promise<PooledFeatures> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('FeaturePool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, path }, resolve, reject });
      this.dispatch();
    });
  }

  /** Sends queued requests to the least busy workers, up to REQUESTS_PER_WORKER each. */
  private dispatch(): void {
    while (this.queue.length > 0) {
      let target: Worker | null = null;
      let least = REQUESTS_PER_WORKER;
      for (const [worker, count] of this.inFlight) {
        if (count < least) {
          target = worker;
          least = count;
        }
      }
      if (!target) return;
      const job = this.queue.shift()!;
      this.running.set(job.request.id, job);
      this.inFlight.set(target, least + 1);
      if (least === 0) target.ref();
      target.postMessage(job.request);
    }
  }

  private fail(error: Error): void {
    if (this.failure || this.closed) return;
    this.failure = error;
    for (const job of [...this.queue, ...this.running.values()]) job.reject(error);
    this.queue.length = 0;
    this.running.clear();
    void this.close();
  }

  /** Stops every worker; pending requests are rejected. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = new Error('FeaturePool is closed');
    for (const job of [...this.queue, ...this.running.values()]) job.reject(error);
    this.queue.length = 0;
    this.running.clear();
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
