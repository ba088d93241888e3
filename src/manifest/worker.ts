/**
 * A second thread for injections (its code: worker-entry.ts): it reads a
 * plain input into shared slots that the main thread writes out with the
 * canary records spliced in (ring.ts), and computes the digests of the input
 * and of that output from the same read (and digests of gzip inputs while the
 * main thread scans them). It starts on `start()` or the first request; runs
 * as an esbuild bundle (src/util/worker-bundle.ts).
 */
import { workerBundle } from '../util/worker-bundle.ts';
import { WorkerPool } from '../util/worker-pool.ts';
import type { FileHashAlgorithm } from '../util/hash.ts';
import type { Insertion } from './splice.ts';
import type { SharedRing } from './ring.ts';
import type { HashReply, ManifestWorkerReply, ManifestWorkerRequest, SplicedReply } from './worker-entry.ts';

const ENTRY = new URL('./worker-entry.ts', import.meta.url);

export class ManifestWorker {
  private pool: Promise<WorkerPool<ManifestWorkerRequest, ManifestWorkerReply>> | null = null;

  constructor(private readonly algorithm: FileHashAlgorithm) {}

  /**
   * Starts the worker (bundle and thread, ~30 ms here) without waiting for it;
   * the first request does it too. inject.ts starts it before pass 1: started
   * after it, the worker still booted while pass 2 copied, and the digests
   * came last (6% slower, paired rounds in scripts/bench/RESULTS.md).
   */
  start(): void {
    if (this.pool) return;
    this.pool = workerBundle(ENTRY, 'the manifest worker').then((url) =>
      WorkerPool.start<ManifestWorkerRequest, ManifestWorkerReply>({
        url,
        size: 1,
        requestsPerWorker: Infinity,
        resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 },
        workerName: 'manifest worker',
        poolName: 'ManifestWorker',
        requestError: (failure, request) => Object.assign(new Error(`${request.path}: ${failure.error}`), { code: failure.code }),
      }),
    );
    this.pool.catch(() => undefined);
  }

  /** Digest and size of the stored bytes of `path`. */
  async hashFile(path: string): Promise<HashReply> {
    return (await this.request({ kind: 'hash', path, algorithm: this.algorithm })) as HashReply;
  }

  /**
   * Reads `path` into `ring` for the main thread to copy (ring.ts), and
   * returns the digests of `path` and of `path` with `insertions` (sorted by
   * offset) spliced in.
   */
  async spliceThroughRing(path: string, insertions: Insertion[], ring: SharedRing): Promise<SplicedReply> {
    return (await this.request({ kind: 'spliced', path, algorithm: this.algorithm, insertions, ring })) as SplicedReply;
  }

  async close(): Promise<void> {
    const pool = await this.pool?.catch(() => null);
    await pool?.close();
  }

  private async request(request: ManifestWorkerRequest): Promise<ManifestWorkerReply> {
    this.start();
    return (await this.pool!).request(request);
  }
}
