/**
 * The manifest worker's side (the main thread's is worker.ts; it runs as an
 * esbuild bundle, src/util/worker-bundle.ts): digests of whole files, and, for
 * an injection's copy, the input read once into shared slots (ring.ts) that
 * the main thread writes out, with the digests of the input and of the copy
 * computed from them.
 */
import { parentPort } from 'node:worker_threads';
import { closeSync, openSync, readSync } from 'node:fs';
import { RoteError } from '../util/errors.ts';
import { createFileHash, type FileHashAlgorithm } from '../util/hash.ts';
import type { WorkerFailure, WorkerStatus } from '../util/worker-pool.ts';
import { RingWriter, type SharedRing } from './ring.ts';
import { splicePieces, type Insertion } from './splice.ts';

export type ManifestWorkerRequest =
  | { kind: 'hash'; path: string; algorithm: FileHashAlgorithm }
  | { kind: 'spliced'; path: string; algorithm: FileHashAlgorithm; insertions: Insertion[]; ring: SharedRing };

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

async function hashFile(path: string, algorithm: FileHashAlgorithm): Promise<HashReply> {
  const hash = await createFileHash(algorithm);
  const buffer = Buffer.allocUnsafe(CHUNK);
  const fd = openSync(path, 'r');
  let position = 0;
  try {
    for (;;) {
      const count = readSync(fd, buffer, 0, CHUNK, position);
      if (count === 0) break;
      hash.update(buffer.subarray(0, count));
      position += count;
    }
  } finally {
    closeSync(fd);
  }
  return { hash: hash.digest(), bytes: position };
}

/**
 * Reads `path` into the ring's slots for the main thread to write out, and
 * hashes each chunk as it is and through the insertion cut the main thread
 * uses (splicePieces) once the chunk is handed over.
 */
async function spliceThroughRing(path: string, algorithm: FileHashAlgorithm, insertions: Insertion[], ring: SharedRing): Promise<SplicedReply> {
  const input = await createFileHash(algorithm);
  const output = await createFileHash(algorithm);
  const writer = new RingWriter(ring);
  const fd = openSync(path, 'r');
  let position = 0;
  let next = 0;
  try {
    for (;;) {
      const slot = writer.acquire();
      const count = readSync(fd, slot, 0, slot.length, position);
      writer.publish(count);
      // The main thread only reads a slot it is given; this thread writes it again only after acquire().
      input.update(slot.subarray(0, count));
      const chunk = splicePieces(slot, count, position, insertions, next);
      for (const piece of chunk.pieces) output.update(piece);
      next = chunk.next;
      if (count === 0) break;
      position += count;
    }
  } finally {
    closeSync(fd);
  }
  if (next < insertions.length) throw new Error(`insertion past the end of ${path}`);
  return { input: input.digest(), output: output.digest(), bytes: position };
}

async function serve(request: ManifestWorkerRequest): Promise<ManifestWorkerReply> {
  switch (request.kind) {
    case 'hash':
      return hashFile(request.path, request.algorithm);
    case 'spliced':
      return spliceThroughRing(request.path, request.algorithm, request.insertions, request.ring);
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
