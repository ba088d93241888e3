/**
 * The manifest worker's side (the main thread's is worker.ts; it runs as an
 * esbuild bundle, src/util/worker-bundle.ts): digests of whole files, and the
 * digests of a file and of the copy an injection makes of it (one read for
 * both).
 */
import { parentPort } from 'node:worker_threads';
import { closeSync, openSync, readSync } from 'node:fs';
import { RoteError } from '../util/errors.ts';
import { createFileHash, type FileHashAlgorithm } from '../util/hash.ts';
import type { WorkerFailure, WorkerStatus } from '../util/worker-pool.ts';
import { splicePieces, type Insertion } from './splice.ts';

export type ManifestWorkerRequest =
  | { kind: 'hash'; path: string; algorithm: FileHashAlgorithm }
  | { kind: 'spliced'; path: string; algorithm: FileHashAlgorithm; insertions: Insertion[] };

export interface HashReply {
  /** "<algorithm>:<hex>" */
  hash: string;
  bytes: number;
}

export interface SplicedReply {
  /** Digest of the file as it is. */
  input: string;
  /** Digest of the file with the insertions spliced in. */
  output: string;
  bytes: number;
}

export type ManifestWorkerReply = HashReply | SplicedReply;

const CHUNK = 1 << 20;

async function hashFile(path: string, algorithm: FileHashAlgorithm, insertions: Insertion[] | null): Promise<{ input: string; output: string; bytes: number }> {
  const input = await createFileHash(algorithm);
  const output = insertions ? await createFileHash(algorithm) : null;
  const buffer = Buffer.allocUnsafe(CHUNK);
  const fd = openSync(path, 'r');
  let position = 0;
  let next = 0;
  try {
    for (;;) {
      const count = readSync(fd, buffer, 0, CHUNK, position);
      input.update(buffer.subarray(0, count));
      if (output && insertions) {
        const chunk = splicePieces(buffer, count, position, insertions, next);
        for (const piece of chunk.pieces) output.update(piece);
        next = chunk.next;
      }
      if (count === 0) break;
      position += count;
    }
  } finally {
    closeSync(fd);
  }
  if (insertions && next < insertions.length) throw new Error(`insertion past the end of ${path}`);
  const inputDigest = input.digest();
  return { input: inputDigest, output: output ? output.digest() : inputDigest, bytes: position };
}

async function serve(request: ManifestWorkerRequest): Promise<ManifestWorkerReply> {
  switch (request.kind) {
    case 'hash': {
      const { input, bytes } = await hashFile(request.path, request.algorithm, null);
      return { hash: input, bytes };
    }
    case 'spliced':
      return hashFile(request.path, request.algorithm, request.insertions);
  }
}

const port = parentPort;
if (!port) throw new Error('the manifest worker must run in a worker thread');
port.on('message', (request: ManifestWorkerRequest & { id: number }) => {
  serve(request).then(
    (reply) => port.postMessage({ id: request.id, ...reply }),
    (error: unknown) => {
      const failure: WorkerFailure = { id: request.id, error: error instanceof Error ? error.message : String(error), userError: error instanceof RoteError, code: (error as NodeJS.ErrnoException).code };
      port.postMessage(failure);
    },
  );
});
port.postMessage({ ready: true } satisfies WorkerStatus);
