/**
 * Feature extraction on worker threads, so an accelerator is not kept waiting
 * by WAV decoding and the frontend's DSP on the main thread.
 *
 * Each worker builds the frontend from its spec (plain data) and runs the same
 * extractFeatures as the main thread, so features are identical bit for bit;
 * matrices come back as transferred buffers (no copy). Requests are served in
 * the order they are made (src/util/worker-pool.ts runs the workers).
 *
 * Workers start fast: feature-worker.ts and the modules it imports run as one
 * esbuild bundle (src/util/worker-bundle.ts), without tsx.
 * Idle workers are unref'd: a pool that is not working never keeps the process alive.
 */
import { availableParallelism } from 'node:os';
import type { FrontendSpec } from '../audio/index.ts';
import { RoteError } from '../util/errors.ts';
import { WorkerPool } from '../util/worker-pool.ts';
import { workerBundle } from '../util/worker-bundle.ts';
import type { ExtractedFeatures } from './feature-extract.ts';
import type { FeatureRequest, FeatureResult } from './feature-worker.ts';
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

/** The worker entry and its imports as one ES module, built once per process. */
async function featureWorkerBundle(): Promise<URL> {
  try {
    return await workerBundle(WORKER_ENTRY, 'the feature worker');
  } catch (error) {
    throw new RoteError(`${(error as Error).message} (featureWorkers 0 computes features on the main thread)`, {
      cause: error,
    });
  }
}

export class FeaturePool {
  private constructor(private readonly pool: WorkerPool<FeatureRequest, FeatureResult>) {}

  /** Starts `size` workers for the frontend `spec` and waits until each has built its frontend. */
  static async start(spec: FrontendSpec, size: number): Promise<FeaturePool> {
    if (!Number.isInteger(size) || size < 1)
      throw new RoteError(`feature workers must be a positive integer, got ${size}`);
    const url = await featureWorkerBundle();
    const pool = await WorkerPool.start<FeatureRequest, FeatureResult>({
      url,
      workerData: { spec },
      size,
      requestsPerWorker: REQUESTS_PER_WORKER,
      workerName: 'feature worker',
      poolName: 'FeaturePool',
    });
    return new FeaturePool(pool);
  }

  get size(): number {
    return this.pool.size;
  }

  /** Loads `path` and computes its features on a worker. Rejects with the same error the main thread would raise. */
  async extract(path: string): Promise<PooledFeatures> {
    const reply = await this.pool.request({ path });
    return {
      matrix: { data: reply.data, numFrames: reply.numFrames, numBins: reply.numBins },
      durationSec: reply.durationSec,
      notes: reply.notes,
      computeMs: reply.computeMs,
    };
  }

  /** Stops every worker; pending requests are rejected. Safe to call twice. */
  close(): Promise<void> {
    return this.pool.close();
  }
}
