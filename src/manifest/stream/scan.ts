/**
 * Pass 1 of an injection over one line-oriented manifest file: every record
 * validated (file:line errors before anything is written), records and lines
 * counted, and a checkpoint (byte offset and line) kept every `stride`
 * records, so pass 2 can find any record without scanning the file again.
 * Flat JSON-lines formats (NeMo) take a fast path. Checked in full, lines
 * are matched against learned shapes (json-shapes.ts) over whole chunks and
 * parsed only when they match none; no per-line string or object is made for
 * the rest. At the default depth ('structure') only the first
 * FULL_CHECK_RECORDS records get that; later lines are checked for UTF-8 and
 * for a JSON object's braces, which is what finding record boundaries needs
 * (a JSON string cannot hold a raw newline) and costs about as much as
 * reading the file (two byte checks settle a plain "{...}" line), where the
 * full check costs several times that.
 */
import { isUtf8 } from 'node:buffer';
import { RoteError } from '../../util/errors.ts';
import { createFileHash, type FileHashAlgorithm } from '../../util/hash.ts';
import type { BloomFilter, IdSet } from '../ids.ts';
import { ShapeMatcher } from './json-shapes.ts';
import { alreadyInjectedMessage, type CanaryTexts } from './canary-texts.ts';
import {
  contentEndOf,
  emptySummary,
  isBlank,
  iterateRecords,
  readWindows,
  reportBadUtf8,
  scanBatches,
  type ScanStart,
  type ScanSummary,
} from './lines.ts';
import {
  FULL_CHECK_RECORDS,
  type CheckDepth,
  type Header,
  type ManifestRecord,
  type RecordAdapter,
  type Where,
} from '../types.ts';

const NEWLINE = 10;
/** Bytes per read: chunks that stay in the CPU's L2 cache while they are scanned (1 MiB ones took ~5% longer here). */
const CHUNK = 256 << 10;
/**
 * Lines are matched in windows of about this many bytes: their latin1 strings
 * stay below V8's large-object size, so they die young instead of piling up
 * in the old generation (which showed as RSS growing with the file).
 */
const WINDOW = 64 << 10;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
/** Checkpoint table size: fixed memory; the stride doubles when it fills up. */
const MAX_CHECKPOINTS = 1 << 16;

/** Byte offsets and lines of every `stride`-th data record (header excluded). */
export class Checkpoints {
  stride = 16;
  /** stride - 1: `(index & mask) === 0` is the caller's cheap pre-check for add(). */
  mask = 15;
  private offsets: number[] = [];
  private lines: number[] = [];

  add(index: number, offset: number, line: number): void {
    if (index % this.stride !== 0) return;
    if (this.offsets.length === MAX_CHECKPOINTS) {
      this.offsets = this.offsets.filter((_, i) => i % 2 === 0);
      this.lines = this.lines.filter((_, i) => i % 2 === 0);
      this.stride *= 2;
      this.mask = this.stride - 1;
      if (index % this.stride !== 0) return;
    }
    this.offsets.push(offset);
    this.lines.push(line);
  }

  /** The last checkpoint at or before data record `index`; null when there is none. */
  before(index: number): (ScanStart & { index: number }) | null {
    const j = Math.min(Math.floor(index / this.stride), this.offsets.length - 1);
    if (j < 0) return null;
    return { index: j * this.stride, offset: this.offsets[j]!, line: this.lines[j]! };
  }
}

export interface FileScan {
  summary: ScanSummary;
  header?: Header;
  /** Records excluding the header. */
  dataRecords: number;
  first?: ManifestRecord;
  checkpoints: Checkpoints;
}

export interface ScanChecks {
  /** Corpus ids go here (formats with ids), to keep canary ids unique. */
  ids: BloomFilter | null;
  /** Ids seen so far in this table (across its shards): a record whose id is there already is refused. */
  seen?: IdSet;
  /** Ids of the set's canaries: a record already carrying one is refused. */
  canaryIds: Set<string>;
  /** The set's canary texts: a record holding one (the manifest was injected before) is refused. */
  canaryTexts?: CanaryTexts;
  /** JSON-lines fast path only (see FULL_CHECK_RECORDS); other formats are checked in full. */
  depth: CheckDepth;
  /** Digest of the file's stored bytes, computed from pass 1's read (summary.hash); none when absent. */
  hash?: FileHashAlgorithm;
  /** Called as the file is read, with the bytes read so far (for progress bars). */
  onBytes?: (bytes: number) => void;
}

/** Adapters whose records the shape fast path can validate. */
export function fastPathApplies(adapter: RecordAdapter): boolean {
  return adapter.acceptsByFieldKinds === true && !adapter.hasIds && !adapter.header && !adapter.quoted;
}

/** Pass 1 over one file; with `checks.hash`, the file's digest from the same read. */
export async function scanManifestFile(path: string, adapter: RecordAdapter, checks: ScanChecks): Promise<FileScan> {
  return fastPathApplies(adapter) ? scanJsonLines(path, adapter, checks) : scanRecordByRecord(path, adapter, checks);
}

/** The full check of one data record; returns its parsed form. */
function checkRecord(
  text: string,
  where: Where,
  adapter: RecordAdapter,
  header: Header | undefined,
  checks: ScanChecks,
): ManifestRecord {
  const problem = adapter.quickCheck(text);
  if (problem)
    throw new RoteError(`${where.file}:${where.line}: malformed line; expected ${problem} (${adapter.expects})`);
  const record = adapter.parse(text, where, header);
  if (record.id !== undefined) {
    if (checks.canaryIds.has(record.id))
      throw new RoteError(
        `${where.file}:${where.line}: id "${record.id}" is a canary id of this set; the manifest already holds these canaries (inject into the original manifest)`,
      );
    if (checks.seen && !checks.seen.add(record.id))
      throw new RoteError(
        `${where.file}:${where.line}: duplicate id "${record.id}"; every record needs its own id (remove or rename the duplicate)`,
      );
    checks.ids?.add(record.id);
  }
  const canary = checks.canaryTexts?.match(record.text);
  if (canary) throw new RoteError(alreadyInjectedMessage(`${where.file}:${where.line}`, canary));
  if (adapter.format === 'lhotse-supervisions') checks.ids?.add((record.fields.recording_id as string) ?? '');
  return record;
}

async function scanRecordByRecord(path: string, adapter: RecordAdapter, checks: ScanChecks): Promise<FileScan> {
  const summary = emptySummary();
  const checkpoints = new Checkpoints();
  let header: Header | undefined;
  let dataRecords = 0;
  let first: ManifestRecord | undefined;
  for await (const spans of scanBatches(path, { quoted: adapter.quoted, hash: checks.hash ?? false }, summary)) {
    for (const span of spans) {
      if (span.blank) continue;
      const where = { file: path, line: span.line };
      const text = span.buf.toString('utf8', span.start, span.contentEnd);
      if (adapter.header && !header) {
        header = adapter.parseHeader!(text, where);
        continue;
      }
      checkpoints.add(dataRecords, span.base + span.start, span.line);
      dataRecords++;
      const record = checkRecord(text, where, adapter, header, checks);
      first ??= record;
    }
    const last = spans[spans.length - 1];
    if (last) checks.onBytes?.(last.base + last.end);
  }
  if (adapter.header && !header)
    throw new RoteError(`${path}: empty file; expected a header line (${adapter.expects})`);
  return { summary, header, dataRecords, first, checkpoints };
}

async function scanJsonLines(path: string, adapter: RecordAdapter, checks: ScanChecks): Promise<FileScan> {
  const summary = emptySummary();
  const checkpoints = new Checkpoints();
  const shapes = new ShapeMatcher();
  let first: ManifestRecord | undefined;
  let records = 0;
  let line = 1;
  let base = 0;
  let eol: string | null = null;
  let buf: Buffer = Buffer.alloc(0);

  /** The slow path for one line at buf[lineStart..]: checked exactly (throws the precise error), and its shape learned. */
  const checkLine = (lineStart: number, end: number): number => {
    const newline = buf.indexOf(NEWLINE, lineStart);
    const lineEnd = newline === -1 || newline >= end ? end : newline + 1;
    const contentEnd = contentEndOf(buf, lineStart, lineEnd);
    if (eol === null && lineEnd > contentEnd) eol = lineEnd > contentEnd + 1 ? '\r\n' : '\n';
    if (!isBlank(buf, lineStart, contentEnd)) {
      checkpoints.add(records, base + lineStart, line);
      records++;
      const record = checkRecord(
        buf.toString('utf8', lineStart, contentEnd),
        { file: path, line },
        adapter,
        undefined,
        checks,
      );
      first ??= record;
      shapes.learn(record.fields);
    }
    line++;
    return lineEnd;
  };

  /**
   * Lines from buf[start] (whole lines up to `end`): non-blank ones must be
   * "{...}"; any that is not is checked exactly. Stops after `lines` lines;
   * returns where it stopped.
   */
  const structureLines = (start: number, end: number, lines: number): number => {
    let position = start;
    for (let seen = 0; position < end && seen < lines; seen++) {
      const newline = buf.indexOf(NEWLINE, position);
      const lineEnd = newline === -1 || newline >= end ? end : newline + 1;
      // The common line, "{...}\n" with nothing around the braces, is settled by two bytes.
      let tail = lineEnd - 1;
      if (buf[tail] === NEWLINE) tail--;
      if (buf[position] === OPEN_BRACE && buf[tail] === CLOSE_BRACE && tail > position) {
        if ((records & checkpoints.mask) === 0) checkpoints.add(records, base + position, line);
        records++;
        line++;
        position = lineEnd;
        continue;
      }
      let head = position;
      while (head < lineEnd && (buf[head] === 32 || buf[head] === 9)) head++;
      while (tail >= head && (buf[tail] === NEWLINE || buf[tail] === 13 || buf[tail] === 32 || buf[tail] === 9)) tail--;
      if (tail < head) {
        line++;
      } else if (buf[head] === OPEN_BRACE && buf[tail] === CLOSE_BRACE) {
        checkpoints.add(records, base + position, line);
        records++;
        line++;
      } else {
        checkLine(position, end);
      }
      position = lineEnd;
    }
    return position;
  };

  /** Lines in buf[start, end) (whole lines): matched against the shapes, else checked exactly. */
  const structural = checks.depth === 'structure';
  const scanWindow = (start: number, end: number): void => {
    if (structural && records >= FULL_CHECK_RECORDS) {
      structureLines(start, end, Infinity);
      return;
    }
    const text = buf.toString('latin1', start, end);
    let position = 0;
    const length = end - start;
    while (position < length) {
      if (structural && records >= FULL_CHECK_RECORDS) {
        structureLines(start + position, end, Infinity);
        return;
      }
      const next = shapes.matchLine(text, position);
      if (next >= 0) {
        checkpoints.add(records, base + start + position, line);
        records++;
        line++;
        position = next;
        continue;
      }
      position = checkLine(start + position, end) - start;
    }
  };

  const hash = checks.hash ? await createFileHash(checks.hash) : null;
  // Synchronous reads: a read on libuv's pool would be a thread-pool round trip per chunk.
  for await (const window of readWindows(path, { chunkSize: CHUNK, sync: true, hash })) {
    const { filled, final } = window;
    buf = window.buf;
    base = window.base;
    const end = final ? filled : buf.lastIndexOf(NEWLINE, filled - 1) + 1;
    if (end > 0) {
      if (!isUtf8(buf.subarray(0, end))) reportBadUtf8(path, buf, end, line);
      for (let windowStart = 0; windowStart < end;) {
        let windowEnd = end;
        if (end - windowStart > WINDOW) {
          windowEnd = buf.lastIndexOf(NEWLINE, windowStart + WINDOW - 1) + 1;
          if (windowEnd <= windowStart) {
            const newline = buf.indexOf(NEWLINE, windowStart + WINDOW);
            windowEnd = newline === -1 || newline >= end ? end : newline + 1;
          }
        }
        scanWindow(windowStart, windowEnd);
        windowStart = windowEnd;
      }
    }
    if (checks.canaryTexts && end > 0)
      await refuseCanaryInChunk(path, adapter, checks.canaryTexts, buf, end, first?.text);
    checks.onBytes?.(base + end);
    if (final) {
      summary.endsWithNewline = filled === 0 || buf[filled - 1] === NEWLINE;
      summary.bytes = base + filled;
    }
    window.consumed = end;
  }
  summary.records = records;
  summary.lines = line - 1;
  summary.eol = eol ?? '\n';
  summary.hash = hash ? hash.digest() : '';
  return { summary, dataRecords: records, first, checkpoints };
}

/**
 * The fast path's search for canaries in buf[0, end) (whole lines): a hit whose line parses to a canary's text
 * means the manifest was injected before; the refusal then names the first line holding any canary of the set,
 * found by parsing the file from its start (this runs once, on the way to an error).
 */
async function refuseCanaryInChunk(
  path: string,
  adapter: RecordAdapter,
  texts: CanaryTexts,
  buf: Buffer,
  end: number,
  template: string | undefined,
): Promise<void> {
  for (let from = 0; from < end;) {
    const hit = texts.search(buf, from, end, template);
    if (hit === -1) return;
    const lineStart = buf.lastIndexOf(NEWLINE, hit) + 1;
    const newline = buf.indexOf(NEWLINE, hit);
    const lineEnd = newline === -1 || newline >= end ? end : newline;
    if (texts.match(parsedText(buf.toString('utf8', lineStart, lineEnd), path, adapter))) {
      for await (const record of iterateRecords(path, { quoted: adapter.quoted })) {
        if (record.blank) continue;
        const canary = texts.match(parsedText(record.text, path, adapter, record.line));
        if (canary) throw new RoteError(alreadyInjectedMessage(`${path}:${record.line}`, canary));
      }
    }
    from = lineEnd + 1;
  }
}

/** A line's transcript, or undefined when the line does not parse (pass 1 reports that line itself). */
function parsedText(text: string, file: string, adapter: RecordAdapter, line = 0): string | undefined {
  try {
    return adapter.parse(text, { file, line }, undefined).text;
  } catch {
    return undefined;
  }
}
