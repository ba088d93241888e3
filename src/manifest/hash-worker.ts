/**
 * sha256 of manifest files on a second thread, so that hashing (as costly as
 * copying the bytes) overlaps with validation and writing on the main thread.
 * `hashSpliced` hashes the file an injection will write, computed from its
 * input and the inserted pieces, while the main thread writes that file.
 * The worker is plain JavaScript (evaluated, so no TypeScript loader is needed there).
 */
import { Worker } from 'node:worker_threads';

/** Bytes inserted into a copy of a file before input offset `offset`. */
export interface Insertion {
  offset: number;
  bytes: Uint8Array;
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const buffer = Buffer.allocUnsafe(1 << 20);
parentPort.on('message', ({ id, path, insertions }) => {
  let fd = -1;
  try {
    const hash = createHash('sha256');
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
    parentPort.postMessage({ id, sha256: hash.digest('hex'), bytes: position });
  } catch (error) {
    parentPort.postMessage({ id, error: { message: error.message, code: error.code } });
  } finally {
    if (fd >= 0) closeSync(fd);
  }
});
`;

interface Reply {
  id: number;
  sha256?: string;
  bytes?: number;
  error?: { message: string; code?: string };
}

export class HashWorker {
  // No inherited flags: the source is a CommonJS script (not --input-type=module) and needs no tsx.
  private readonly worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 } });
  private readonly pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: unknown) => void }>();
  private nextId = 0;

  constructor() {
    this.worker.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      waiter?.resolve(reply);
    });
    this.worker.on('error', (error) => {
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    });
    // Referenced only while a request is pending: an idle worker never keeps the process alive.
    this.worker.unref();
  }

  /** sha256 and size of the stored bytes of `path`. */
  hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
    return this.request(path, undefined);
  }

  /** sha256 of `path` with `insertions` (sorted by offset) spliced in. */
  hashSpliced(path: string, insertions: Insertion[]): Promise<{ sha256: string; bytes: number }> {
    return this.request(path, insertions);
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private async request(path: string, insertions: Insertion[] | undefined): Promise<{ sha256: string; bytes: number }> {
    const id = this.nextId++;
    const reply = await new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ id, path, insertions });
    });
    if (reply.error) throw Object.assign(new Error(`${path}: ${reply.error.message}`), { code: reply.error.code });
    return { sha256: reply.sha256!, bytes: reply.bytes! };
  }
}
