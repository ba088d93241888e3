/**
 * Worker-thread side of FeaturePool (feature-pool.ts): builds the frontend from
 * its spec once, then loads WAVs and computes features one request at a time,
 * sending each matrix back as a transferable buffer. The pool starts this file
 * as one esbuild bundle (no tsx in the worker), see feature-pool.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createFrontend, type FrontendSpec } from '../audio/index.ts';
import { RoteError } from '../util/errors.ts';
import { extractFeatures } from './feature-extract.ts';

export interface FeatureRequest {
  id: number;
  path: string;
}

export type FeatureReply =
  | { id: number; data: Float32Array; numFrames: number; numBins: number; durationSec: number; notes: string[]; computeMs: number }
  | { id: number; error: string; userError: boolean };

export type WorkerStatus = { ready: true } | { fatal: string; userError: boolean };

const port = parentPort;
if (!port) throw new Error('feature-worker must run in a worker thread');

try {
  const frontend = createFrontend((workerData as { spec: FrontendSpec }).spec);
  port.on('message', (request: FeatureRequest) => {
    const started = performance.now();
    extractFeatures(frontend, request.path).then(
      ({ matrix, durationSec, notes }) => {
        let data = matrix.data;
        if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength) data = data.slice();
        const reply: FeatureReply = { id: request.id, data, numFrames: matrix.numFrames, numBins: matrix.numBins, durationSec, notes, computeMs: performance.now() - started };
        port.postMessage(reply, [data.buffer as ArrayBuffer]);
      },
      (error: unknown) => {
        const reply: FeatureReply = { id: request.id, error: error instanceof Error ? error.message : String(error), userError: error instanceof RoteError };
        port.postMessage(reply);
      },
    );
  });
  port.postMessage({ ready: true } satisfies WorkerStatus);
} catch (error) {
  port.postMessage({ fatal: error instanceof Error ? error.message : String(error), userError: error instanceof RoteError } satisfies WorkerStatus);
}
