/**
 * Worker-thread side of FeaturePool (feature-pool.ts), speaking the protocol of
 * src/util/worker-pool.ts: builds the frontend from its spec once, then loads
 * WAVs and computes features one request at a time, sending each matrix back
 * as a transferable buffer. The pool starts this file as one esbuild bundle
 * (no tsx in the worker), see feature-pool.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createFrontend, type FrontendSpec } from '../audio/index.ts';
import { RoteError } from '../util/errors.ts';
import type { WorkerFailure, WorkerStatus } from '../util/worker-pool.ts';
import { extractFeatures } from './feature-extract.ts';

/** What a worker is sent (with an id) and answers. */
export interface FeatureRequest {
  path: string;
}

export interface FeatureResult {
  data: Float32Array;
  numFrames: number;
  numBins: number;
  durationSec: number;
  notes: string[];
  computeMs: number;
}

const port = parentPort;
if (!port) throw new Error('feature-worker must run in a worker thread');

try {
  const frontend = createFrontend((workerData as { spec: FrontendSpec }).spec);
  port.on('message', (request: FeatureRequest & { id: number }) => {
    const started = performance.now();
    try {
      const { matrix, durationSec, notes } = extractFeatures(frontend, request.path);
      let data = matrix.data;
      if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength) data = data.slice();
      const reply: FeatureResult & { id: number } = {
        id: request.id,
        data,
        numFrames: matrix.numFrames,
        numBins: matrix.numBins,
        durationSec,
        notes,
        computeMs: performance.now() - started,
      };
      port.postMessage(reply, [data.buffer as ArrayBuffer]);
    } catch (error) {
      const reply: WorkerFailure = {
        id: request.id,
        error: error instanceof Error ? error.message : String(error),
        userError: error instanceof RoteError,
      };
      port.postMessage(reply);
    }
  });
  port.postMessage({ ready: true } satisfies WorkerStatus);
} catch (error) {
  port.postMessage({
    fatal: error instanceof Error ? error.message : String(error),
    userError: error instanceof RoteError,
  } satisfies WorkerStatus);
}
