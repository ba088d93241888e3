/**
 * A streaming output file: written to a temporary sibling, hashed as it is
 * written (the stored bytes, after gzip for `.gz`), renamed into place only by
 * `commit()`; `abort()` removes the temporary file. Callers may reuse the
 * bytes they hand to `write` once it resolves (small writes are gathered in
 * the writer's buffer; large ones go straight to the file).
 */
import { createWriteStream } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { createGzip, type Gzip } from 'node:zlib';
import { once } from 'node:events';
import { temporarySibling } from '../../util/atomic.ts';
import { removeOnSignal } from '../../util/interrupt.ts';
import { createFileHash, type FileHashAlgorithm, type StreamingHash } from '../../util/hash.ts';
import { RoteError } from '../../util/errors.ts';
import { writeError } from '../write-error.ts';
import { isGzip } from './lines.ts';

const BUFFER_SIZE = 1 << 20;
/** Writes at least this large skip the gathering buffer (one copy less). */
const DIRECT_WRITE = 1 << 18;

export class ManifestWriter {
  readonly target: string;
  readonly temporary: string;
  private handle: FileHandle | null = null;
  private gzip: Gzip | null = null;
  private gzipDone: Promise<unknown> | null = null;
  private hash: StreamingHash | null = null;
  private readonly buffer = Buffer.allocUnsafe(BUFFER_SIZE);
  private used = 0;
  private finished = false;
  /** Cancels the removal of the temporary file on Ctrl-C (once it is renamed or removed). */
  private forget = (): void => {};

  /** `hash`: the digest finish() returns; false for none (finish() then returns ''). */
  constructor(
    target: string,
    private readonly options: { hash: FileHashAlgorithm | false },
  ) {
    this.target = target;
    this.temporary = temporarySibling(target);
  }

  /** A failed write, named after the output (not the input being copied). */
  private failed(error: unknown): never {
    if (error instanceof RoteError) throw error;
    throw writeError(
      this.target,
      error,
      'the output manifest could not be written; free space or choose another --out, and run inject again',
    );
  }

  private async ensureOpen(): Promise<void> {
    try {
      await this.open();
    } catch (error) {
      this.failed(error);
    }
  }

  private async open(): Promise<void> {
    if (this.handle || this.gzip) return;
    this.forget = removeOnSignal(this.temporary);
    if (this.options.hash) this.hash = await createFileHash(this.options.hash);
    if (isGzip(this.target)) {
      const file = createWriteStream(this.temporary, { flags: 'wx' });
      this.gzip = createGzip();
      this.gzip.on('data', (chunk: Buffer) => this.hash?.update(chunk));
      this.gzipDone = once(file, 'close');
      this.gzip.pipe(file);
    } else {
      this.handle = await open(this.temporary, 'wx');
    }
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (bytes.length === 0) return;
    if (this.used + bytes.length > BUFFER_SIZE || bytes.length >= DIRECT_WRITE) await this.flush();
    if (bytes.length >= DIRECT_WRITE) {
      // zlib keeps a reference to what it is given until it has compressed it.
      const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
      await this.emit(this.gzip || isGzip(this.target) ? Buffer.from(data) : data);
      return;
    }
    this.buffer.set(bytes, this.used);
    this.used += bytes.length;
  }

  async flush(): Promise<void> {
    if (this.used === 0) return;
    const used = this.used;
    this.used = 0;
    await this.emit(
      this.gzip || !this.handle ? Buffer.from(this.buffer.subarray(0, used)) : this.buffer.subarray(0, used),
    );
  }

  private async emit(data: Buffer): Promise<void> {
    await this.ensureOpen();
    try {
      await this.emitOpen(data);
    } catch (error) {
      this.failed(error);
    }
  }

  private async emitOpen(data: Buffer): Promise<void> {
    if (this.gzip) {
      if (!this.gzip.write(data)) await once(this.gzip, 'drain');
      return;
    }
    this.hash?.update(data);
    let offset = 0;
    while (offset < data.length) offset += (await this.handle!.write(data, offset, data.length - offset)).bytesWritten;
  }

  /** Finishes writing; returns the digest of the stored bytes ("<algorithm>:<hex>"). The file stays temporary until commit(). */
  async finish(): Promise<string> {
    await this.flush();
    await this.ensureOpen();
    try {
      if (this.gzip) {
        this.gzip.end();
        await this.gzipDone;
      } else {
        await this.handle!.close();
      }
    } catch (error) {
      this.failed(error);
    }
    this.finished = true;
    return this.hash ? this.hash.digest() : '';
  }

  async commit(): Promise<void> {
    await rename(this.temporary, this.target).catch((error: unknown) => this.failed(error));
    this.forget();
  }

  async abort(): Promise<void> {
    if (!this.finished) {
      await this.handle?.close().catch(() => undefined);
      this.gzip?.destroy();
    }
    await rm(this.temporary, { force: true });
    this.forget();
  }
}
