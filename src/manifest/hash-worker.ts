/**
 * Digests of manifest files on a second thread, so that hashing overlaps with
 * counting and writing on the main thread. `hashSpliced` hashes the file an
 * injection will write, computed from its input and the inserted pieces,
 * while the main thread writes that file. The worker is plain JavaScript
 * started from a data: URL (no TypeScript loader there), run by
 * src/util/worker-pool.ts; it loads the XXH3 implementation the main thread
 * would use (src/util/hash.ts) through createRequire.
 */
import { WorkerPool } from '../util/worker-pool.ts';
import { xxh3ModulePaths, type FileHashAlgorithm } from '../util/hash.ts';

/** Bytes inserted into a copy of a file before input offset `offset`. */
export interface Insertion {
  offset: number;
  bytes: Uint8Array;
}

const WORKER_SOURCE = `
import { parentPort, workerData } from 'node:worker_threads';
import { openSync, readSync, closeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
const { native, wasm } = workerData.modules;
const nativeXxh3 = native ? createRequire(native)(native).xxh3 : null;
const wasmXxh3 = nativeXxh3 ? null : await createRequire(wasm)(wasm).createXXHash3();
const buffer = Buffer.allocUnsafe(1 << 20);
function start(algorithm) {
  if (algorithm === 'sha256') {
    const hash = createHash('sha256');
    return { update: (data) => hash.update(data), digest: () => 'sha256:' + hash.digest('hex') };
  }
  if (nativeXxh3) {
    const hash = nativeXxh3.Xxh3.withSeed(0n);
    return { update: (data) => hash.update(data), digest: () => 'xxh3:' + hash.digest().toString(16).padStart(16, '0') };
  }
  wasmXxh3.init();
  return { update: (data) => wasmXxh3.update(data), digest: () => 'xxh3:' + wasmXxh3.digest('hex') };
}
parentPort.on('message', ({ id, path, algorithm, insertions }) => {
  let fd = -1;
  try {
    const hash = start(algorithm);
    fd = openSync(path, 'r');
    let position = 0;
    let next = 0;
    for (;;) {
      const count = readSync(fd, buffer, 0, buffer.length, position);
      const end = position + count;
      let from = 0;
      while (insertions && next < insertions.length && insertions[next].offset <= end && (count > 0 || insertions[next].offset === end)) {
        const cut = insertions[next].offset - position;
        if (cut > from) hash.update(buffer.subarray(from, cut));
        from = Math.max(from, cut);
        hash.update(insertions[next].bytes);
        next++;
      }
      if (count === 0) break;
      hash.update(buffer.subarray(from, count));
      position = end;
    }
    if (insertions && next < insertions.length) throw new Error('insertion past the end of ' + path);
    parentPort.postMessage({ id, hash: hash.digest(), bytes: position });
  } catch (error) {
    parentPort.postMessage({ id, error: error.message, code: error.code });
  } finally {
    if (fd >= 0) closeSync(fd);
  }
});
parentPort.postMessage({ ready: true });
`;
const WORKER_URL = new URL(`data:text/javascript;base64,${Buffer.from(WORKER_SOURCE).toString('base64')}`);

interface HashRequest {
  path: string;
  algorithm: FileHashAlgorithm;
  insertions?: Insertion[];
}

interface HashResult {
  /** "<algorithm>:<hex>" */
  hash: string;
  bytes: number;
}

export class HashWorker {
  // Started at once and awaited by the first request, so that the worker starts while the caller works.
  private readonly pool = WorkerPool.start<HashRequest, HashResult>({
    url: WORKER_URL,
    workerData: { modules: xxh3ModulePaths() },
    size: 1,
    requestsPerWorker: Infinity,
    resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 },
    workerName: 'hash worker',
    poolName: 'HashWorker',
    requestError: (failure, request) => Object.assign(new Error(`${request.path}: ${failure.error}`), { code: failure.code }),
  });

  constructor(private readonly algorithm: FileHashAlgorithm) {
    this.pool.catch(() => undefined);
  }

  /** Digest and size of the stored bytes of `path`. */
  hashFile(path: string): Promise<HashResult> {
    return this.request({ path, algorithm: this.algorithm });
  }

  /** Digest of `path` with `insertions` (sorted by offset) spliced in. */
  hashSpliced(path: string, insertions: Insertion[]): Promise<HashResult> {
    return this.request({ path, algorithm: this.algorithm, insertions });
  }

  async close(): Promise<void> {
    const pool = await this.pool.catch(() => null);
    await pool?.close();
  }

  private async request(request: HashRequest): Promise<HashResult> {
    const { hash, bytes } = await (await this.pool).request(request);
    return { hash, bytes };
  }
}
