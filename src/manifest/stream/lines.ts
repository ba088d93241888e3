/**
 * Streaming record splitting over raw bytes: a record is a line, or for
 * quoted CSV a run of lines with balanced double quotes. Bytes are never
 * re-encoded, so untouched records can be written back byte for byte.
 * `.gz` files are decompressed on the fly; hashes are over the stored bytes.
 */
import { createReadStream } from 'node:fs';
import { access, open, type FileHandle } from 'node:fs/promises';
import { closeSync, openSync, readSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { createGunzip } from 'node:zlib';
import { RoteError } from '../../util/errors.ts';
import { createFileHash, type FileHashAlgorithm, type StreamingHash } from '../../util/hash.ts';

const NEWLINE = 10;
const CARRIAGE_RETURN = 13;
const QUOTE = 34;

/** A record's place in the current buffer, valid until the next batch: copy what you keep. */
export interface RecordSpan {
  buf: Buffer;
  /** Offset in the (decompressed) file of buf[0]. */
  base: number;
  start: number;
  /** End of the content, line terminator excluded. */
  contentEnd: number;
  /** End of the record, terminator included. */
  end: number;
  /** 1-based line of the record's first line. */
  line: number;
  /** Whitespace only: kept in the output, not a record. */
  blank: boolean;
}

export interface ScanSummary {
  /** Non-blank records (the header included, when there is one). */
  records: number;
  lines: number;
  /** Digest of the file's stored bytes ("<algorithm>:<hex>"; '' when not computed). */
  hash: string;
  /** Line terminator of the first line ("\n" when the file has none). */
  eol: string;
  endsWithNewline: boolean;
  /** Size in bytes (decompressed, for `.gz`). */
  bytes: number;
}

export function isGzip(path: string): boolean {
  return path.endsWith('.gz');
}

/**
 * Reads a file into caller-owned buffers: plain files with positional reads,
 * `.gz` through gunzip. Reusing one buffer keeps memory flat; a V8 heap that
 * rarely collects would otherwise hold every chunk ever read.
 */
class ByteSource {
  private handle: FileHandle | null = null;
  private fd: number | null = null;
  private gunzipped: AsyncIterator<Buffer> | null = null;
  private leftover: Buffer | null = null;
  constructor(
    private readonly path: string,
    private readonly hash: StreamingHash | null,
    /** Plain files only: byte offset to start reading at. */
    private position = 0,
    /** Plain files only: synchronous reads (no thread-pool round trip per read). */
    private readonly sync = false,
  ) {}

  async open(): Promise<void> {
    try {
      if (isGzip(this.path)) {
        const file = createReadStream(this.path, { highWaterMark: 1 << 16 });
        file.on('data', (chunk) => this.hash?.update(chunk as Buffer));
        const gunzip = createGunzip();
        file.on('error', (error) => gunzip.destroy(error));
        this.gunzipped = (file.pipe(gunzip) as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
        await access(this.path);
      } else if (this.sync) {
        this.fd = openSync(this.path, 'r');
      } else {
        this.handle = await open(this.path, 'r');
      }
    } catch (error) {
      throw this.explain(error);
    }
  }

  /** Fills `target[offset..]` as far as one read goes; 0 at the end of the file. */
  async read(target: Buffer, offset: number): Promise<number> {
    try {
      if (this.fd !== null) {
        const bytesRead = readSync(this.fd, target, offset, target.length - offset, this.position);
        this.position += bytesRead;
        this.hash?.update(target.subarray(offset, offset + bytesRead));
        return bytesRead;
      }
      if (this.handle) {
        const { bytesRead } = await this.handle.read(target, offset, target.length - offset, this.position);
        this.position += bytesRead;
        this.hash?.update(target.subarray(offset, offset + bytesRead));
        return bytesRead;
      }
      if (!this.leftover || this.leftover.length === 0) {
        const next = await this.gunzipped!.next();
        if (next.done) return 0;
        this.leftover = next.value;
      }
      const count = this.leftover.copy(target, offset);
      this.leftover = this.leftover.subarray(count);
      return count;
    } catch (error) {
      throw this.explain(error);
    }
  }

  async close(): Promise<void> {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    await this.handle?.close();
    await this.gunzipped?.return?.();
  }

  private explain(error: unknown): unknown {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR')
      return new RoteError(`${this.path}: cannot read manifest (${code})`, { cause: error });
    if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR')
      return new RoteError(`${this.path}: not a valid gzip file (${(error as Error).message})`, { cause: error });
    return error;
  }
}

/** Where a scan starts: a record boundary found by an earlier scan of the same file (plain files only). */
export interface ScanStart {
  offset: number;
  /** 1-based line number at `offset`. */
  line: number;
}

/** Opens `path` for reading from `start` (plain files) or from the beginning (`.gz`). */
export async function openByteSource(
  path: string,
  start = 0,
): Promise<{ read(target: Buffer, offset: number): Promise<number>; close(): Promise<void> }> {
  if (start !== 0 && isGzip(path)) throw new Error('a .gz file can only be read from its start');
  const source = new ByteSource(path, null, start);
  await source.open();
  return source;
}

/** Bytes read from a file and not yet consumed: buf[0, filled), the first at (decompressed) file offset `base`. */
export interface ReadWindow {
  buf: Buffer;
  filled: number;
  base: number;
  /** The file is exhausted: buf[0, filled) is all that is left of it. */
  final: boolean;
  /** Set by the reader before asking for more: how many leading bytes it is done with (the rest is kept). */
  consumed: number;
}

/** A UTF-8 byte order mark: read past at the start of a file (not part of its first record). */
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function startsWithBom(buf: Buffer, filled: number): boolean {
  return filled >= BOM.length && buf[0] === BOM[0] && buf[1] === BOM[1] && buf[2] === BOM[2];
}

/**
 * Reads a file through one reused buffer, doubled when the unconsumed bytes
 * fill it, and yields the window after every read, the last one `final`. The
 * bytes stay valid until the next step. Memory is bounded by `chunkSize` plus
 * the longest run the reader leaves unconsumed. `buffer`: the buffer to start
 * with (a doubled one replaces it).
 */
export async function* readWindows(
  path: string,
  options: { chunkSize: number; start?: number; hash?: StreamingHash | null; sync?: boolean; buffer?: Buffer },
): AsyncGenerator<ReadWindow> {
  const source = new ByteSource(path, options.hash ?? null, options.start ?? 0, options.sync === true && !isGzip(path));
  await source.open();
  const window: ReadWindow = {
    buf: options.buffer ?? Buffer.allocUnsafe(options.chunkSize),
    filled: 0,
    base: options.start ?? 0,
    final: false,
    consumed: 0,
  };
  try {
    for (;;) {
      if (window.filled === window.buf.length) {
        const bigger = Buffer.allocUnsafe(window.buf.length * 2);
        window.buf.copy(bigger, 0, 0, window.filled);
        window.buf = bigger;
      }
      const count = await source.read(window.buf, window.filled);
      window.filled += count;
      window.final = count === 0;
      if (window.base === 0 && startsWithBom(window.buf, window.filled)) {
        // A UTF-8 byte order mark is no part of the first record (it stays in the digest and in pass 2's copy).
        window.buf.copyWithin(0, BOM.length, window.filled);
        window.filled -= BOM.length;
        window.base = BOM.length;
      }
      window.consumed = 0;
      yield window;
      if (window.final) return;
      const { buf, filled, consumed } = window;
      if (consumed > 0) {
        buf.copyWithin(0, consumed, filled);
        window.base += consumed;
        window.filled = filled - consumed;
      }
    }
  } finally {
    await source.close();
  }
}

/** Counts and hash of a scanned file, filled in when its scan finishes. */
export function emptySummary(): ScanSummary {
  return { records: 0, lines: 0, hash: '', eol: '\n', endsWithNewline: true, bytes: 0 };
}

/**
 * Yields the records of `path` chunk by chunk (each batch's spans point into
 * one buffer), then fills `summary`. Memory is bounded by the chunk size plus
 * the longest record. Throws a RoteError naming file:line on non-UTF-8 text.
 * `trusted` skips the UTF-8 check and the hash, for a second pass over a file
 * already checked (the caller compares size and mtime instead); only a
 * trusted scan may start `from` a record boundary found earlier (plain files).
 * `hash` names the digest (default sha256); false skips it alone (summary.hash stays '').
 * `chunkSize`: bytes per read (default 1 MiB; small for a few records from a checkpoint).
 */
export async function* scanBatches(
  path: string,
  options: {
    quoted: boolean;
    trusted?: boolean;
    from?: ScanStart;
    hash?: FileHashAlgorithm | false;
    chunkSize?: number;
  },
  summary: ScanSummary,
): AsyncGenerator<RecordSpan[]> {
  const algorithm = options.trusted || options.hash === false ? null : (options.hash ?? 'sha256');
  const hash = algorithm ? await createFileHash(algorithm) : null;
  const from = options.from ?? { offset: 0, line: 1 };
  if (from.offset !== 0 && !options.trusted) throw new Error('a scan from the middle of a file is a trusted re-scan');
  let line = from.line;
  let base = from.offset;
  let records = 0;
  let eol: string | null = null;
  let endsWithNewline = true;

  const split = (buf: Buffer, final: boolean): { spans: RecordSpan[]; rest: Buffer | null } => {
    const spans: RecordSpan[] = [];
    const emit = (start: number, end: number, lineCount: number): void => {
      const contentEnd = contentEndOf(buf, start, end);
      if (eol === null && end > contentEnd) eol = end > contentEnd + 1 ? '\r\n' : '\n';
      const blank = isBlank(buf, start, contentEnd);
      if (!blank) records++;
      spans.push({ buf, base, start, contentEnd, end, line, blank });
      line += lineCount;
    };
    let recordStart = 0;
    let position = 0;
    let quotes = 0;
    let lineCount = 0;
    const safeEnd = final ? buf.length : buf.lastIndexOf(NEWLINE) + 1;
    if (!options.trusted && safeEnd > 0 && !isUtf8(buf.subarray(0, safeEnd))) reportBadUtf8(path, buf, safeEnd, line);
    while (position < buf.length) {
      const newline = buf.indexOf(NEWLINE, position);
      if (newline === -1 && !final) break;
      const lineEnd = newline === -1 ? buf.length : newline + 1;
      if (options.quoted) for (let i = position; i < lineEnd; i++) if (buf[i] === QUOTE) quotes++;
      lineCount++;
      position = lineEnd;
      if (options.quoted && quotes % 2 === 1 && position < buf.length) continue;
      if (options.quoted && quotes % 2 === 1 && !final) break;
      emit(recordStart, lineEnd, lineCount);
      recordStart = position;
      quotes = 0;
      lineCount = 0;
    }
    if (final && recordStart < buf.length) emit(recordStart, buf.length, Math.max(1, lineCount));
    return { spans, rest: !final && recordStart < buf.length ? buf.subarray(recordStart) : null };
  };

  for await (const window of readWindows(path, { chunkSize: options.chunkSize ?? 1 << 20, start: from.offset, hash })) {
    const { buf, filled, final } = window;
    if (final && filled > 0) endsWithNewline = buf[filled - 1] === NEWLINE;
    if (final) summary.bytes = window.base + filled;
    base = window.base;
    const { spans, rest } = split(buf.subarray(0, filled), final);
    // The consumer handles these spans before the next read reuses the buffer.
    if (spans.length > 0) yield spans;
    window.consumed = filled - (rest ? rest.length : 0);
  }
  summary.records = records;
  summary.lines = line - 1;
  summary.hash = hash ? hash.digest() : '';
  summary.eol = eol ?? '\n';
  summary.endsWithNewline = endsWithNewline;
}

/** Calls `visit` for every record of `path`, in order, then returns the counts and the file's hash. */
export async function scanRecords(
  path: string,
  options: { quoted: boolean; hash?: FileHashAlgorithm | false },
  visit: (span: RecordSpan) => void,
): Promise<ScanSummary> {
  const summary = emptySummary();
  for await (const spans of scanBatches(path, options, summary)) for (const span of spans) visit(span);
  return summary;
}

/** Where the content of the line buf[start, end) ends: before its "\n" or "\r\n". */
export function contentEndOf(buf: Buffer, start: number, end: number): number {
  let contentEnd = end;
  if (contentEnd > start && buf[contentEnd - 1] === NEWLINE) contentEnd--;
  if (contentEnd > start && buf[contentEnd - 1] === CARRIAGE_RETURN) contentEnd--;
  return contentEnd;
}

export function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const byte = buf[i];
    if (byte !== 32 && byte !== 9 && byte !== CARRIAGE_RETURN) return false;
  }
  return true;
}

export function reportBadUtf8(path: string, buf: Buffer, end: number, firstLine: number): never {
  let line = firstLine;
  let position = 0;
  while (position < end) {
    const newline = buf.indexOf(NEWLINE, position);
    const lineEnd = newline === -1 || newline >= end ? end : newline + 1;
    if (!isUtf8(buf.subarray(position, lineEnd))) {
      throw new RoteError(
        `${path}:${line}: text is not valid UTF-8; re-encode the manifest as UTF-8 (e.g. iconv -t UTF-8)`,
      );
    }
    line++;
    position = lineEnd;
  }
  throw new RoteError(
    `${path}: text is not valid UTF-8 (a multi-byte character is split across lines); re-encode the manifest as UTF-8`,
  );
}

/** The records of a file as an async iterator of owned copies, pulled chunk by chunk. */
export async function* iterateRecords(
  path: string,
  options: { quoted: boolean },
): AsyncGenerator<{ line: number; bytes: Buffer; text: string; blank: boolean }> {
  for await (const spans of scanBatches(path, options, emptySummary())) {
    for (const span of spans) {
      yield {
        line: span.line,
        bytes: Buffer.from(span.buf.subarray(span.start, span.end)),
        text: span.buf.toString('utf8', span.start, span.contentEnd),
        blank: span.blank,
      };
    }
  }
}

/**
 * The records of a plain, unquoted file from a record boundary found by an
 * earlier scan (trusted: no UTF-8 check, no hash), read synchronously from an
 * open descriptor in small chunks: for visiting a few records at many places
 * of one file without opening it again each time. Each span is valid until
 * the next is taken.
 */
export function* spansFromSync(fd: number, from: ScanStart, chunkSize: number): Generator<RecordSpan> {
  let buf = Buffer.allocUnsafe(chunkSize);
  let filled = 0;
  let base = from.offset;
  let line = from.line;
  for (;;) {
    if (filled === buf.length) {
      const grown = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(grown, 0, 0, filled);
      buf = grown;
    }
    const count = readSync(fd, buf, filled, buf.length - filled, base + filled);
    filled += count;
    let start = 0;
    for (;;) {
      const newline = buf.indexOf(NEWLINE, start);
      const end = newline === -1 || newline >= filled ? (count === 0 && start < filled ? filled : -1) : newline + 1;
      if (end === -1) break;
      const contentEnd = contentEndOf(buf, start, end);
      yield { buf, base, start, contentEnd, end, line, blank: isBlank(buf, start, contentEnd) };
      line++;
      start = end;
    }
    if (count === 0) return;
    buf.copy(buf, 0, start, filled);
    base += start;
    filled -= start;
  }
}
