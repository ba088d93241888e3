/**
 * A streaming output file: written to a temporary sibling, hashed as it is
 * written (the stored bytes, after gzip for `.gz`), renamed into place only by
 * `commit()`; `abort()` removes the temporary file. Bytes handed to `write`
 * are copied at once into the writer's own buffer, so callers may reuse theirs.
 */
import { createWriteStream } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { createGzip, type Gzip } from 'node:zlib';
import { once } from 'node:events';
import { temporarySibling } from '../util/atomic.ts';
import { isGzip } from './lines.ts';

const BUFFER_SIZE = 1 << 20;

export class ManifestWriter {
  readonly target: string;
  readonly temporary: string;
  private handle: FileHandle | null = null;
  private gzip: Gzip | null = null;
  private gzipDone: Promise<unknown> | null = null;
  private readonly hash = createHash('sha256');
  private readonly buffer = Buffer.allocUnsafe(BUFFER_SIZE);
  private used = 0;
  private finished = false;

  constructor(target: string) {
    this.target = target;
    this.temporary = temporarySibling(target);
  }

  private async ensureOpen(): Promise<void> {
    if (this.handle || this.gzip) return;
    if (isGzip(this.target)) {
      const file = createWriteStream(this.temporary, { flags: 'wx' });
      this.gzip = createGzip();
      this.gzip.on('data', (chunk: Buffer) => this.hash.update(chunk));
      this.gzipDone = once(file, 'close');
      this.gzip.pipe(file);
    } else {
      this.handle = await open(this.temporary, 'wx');
    }
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (bytes.length === 0) return;
    if (this.used + bytes.length > BUFFER_SIZE) await this.flush();
    if (bytes.length > BUFFER_SIZE) {
      await this.emit(Buffer.from(bytes));
      return;
    }
    this.buffer.set(bytes, this.used);
    this.used += bytes.length;
  }

  async flush(): Promise<void> {
    if (this.used === 0) return;
    const used = this.used;
    this.used = 0;
    await this.emit(this.gzip || !this.handle ? Buffer.from(this.buffer.subarray(0, used)) : this.buffer.subarray(0, used));
  }

  private async emit(data: Buffer): Promise<void> {
    await this.ensureOpen();
    if (this.gzip) {
      if (!this.gzip.write(data)) await once(this.gzip, 'drain');
      return;
    }
    this.hash.update(data);
    let offset = 0;
    while (offset < data.length) offset += (await this.handle!.write(data, offset, data.length - offset)).bytesWritten;
  }

  /** Finishes writing; returns the sha256 of the stored bytes. The file stays temporary until commit(). */
  async finish(): Promise<string> {
    await this.flush();
    await this.ensureOpen();
    if (this.gzip) {
      this.gzip.end();
      await this.gzipDone;
    } else {
      await this.handle!.close();
    }
    this.finished = true;
    return this.hash.digest('hex');
  }

  async commit(): Promise<void> {
    await rename(this.temporary, this.target);
  }

  async abort(): Promise<void> {
    if (!this.finished) {
      await this.handle?.close().catch(() => undefined);
      this.gzip?.destroy();
    }
    await rm(this.temporary, { force: true });
  }
}
