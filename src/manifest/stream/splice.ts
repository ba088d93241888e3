/**
 * Pass 2 of an injection over one file: find where each canary slot falls
 * (starting from pass 1's nearest checkpoint, so only a few records per slot
 * are read), then copy the input to the output in large chunks with the
 * canary records spliced in at those byte offsets.
 */
import { closeSync, openSync } from 'node:fs';
import { RoteError } from '../../util/errors.ts';
import { isGzip, openByteSource, scanBatches, emptySummary, spansFromSync } from './lines.ts';
import type { FileScan } from './scan.ts';
import type { RecordAdapter } from '../types.ts';
import { ManifestWriter } from './writer.ts';

const CHUNK = 1 << 20;
/** Reads from a checkpoint to a slot: a few records (the buffer grows for longer ones). */
const SLOT_CHUNK = 4 << 10;

/** Bytes inserted into a copy of a file before input offset `offset`. */
export interface Insertion {
  offset: number;
  bytes: Uint8Array;
}

export interface SlotPlace {
  /** File-local slot: the canaries go before data record `slot` (0-based), or at the end when slot = dataRecords. */
  slot: number;
  /** Byte offset in the input where they go. */
  offset: number;
  /** Input line of data record `slot` (lines + 1 at the end). */
  line: number;
  /** The record the canary records are modelled on: the one before the slot (the first, for slot 0). */
  template: { text: string; line: number };
}

/** Places of the distinct, ascending file-local `slots`. */
export async function locateSlots(
  file: string,
  adapter: RecordAdapter,
  scan: FileScan,
  slots: number[],
): Promise<SlotPlace[]> {
  const places: SlotPlace[] = [];
  const gzip = isGzip(file);
  // Plain line files: one descriptor, synchronous reads of a few records per slot.
  const fd = gzip || adapter.quoted ? null : openSync(file, 'r');
  try {
    return await locateSlotsFrom(file, adapter, scan, slots, places, gzip, fd);
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

async function locateSlotsFrom(
  file: string,
  adapter: RecordAdapter,
  scan: FileScan,
  slots: number[],
  places: SlotPlace[],
  gzip: boolean,
  fd: number | null,
): Promise<SlotPlace[]> {
  let next = 0;
  let previous: { text: string; line: number } | null = null;
  while (next < slots.length && slots[next]! < scan.dataRecords) {
    const slot = slots[next]!;
    // gzip cannot seek: one scan from the start (the header, if any, is record -1).
    const start = gzip
      ? { index: adapter.header ? -1 : 0, offset: 0, line: 1 }
      : scan.checkpoints.before(Math.max(0, slot - 1));
    if (!start) break;
    let index = start.index;
    let jump = false;
    const batches =
      fd !== null
        ? [spansFromSync(fd, start, SLOT_CHUNK)]
        : scanBatches(
            file,
            { quoted: adapter.quoted, trusted: true, from: start, chunkSize: gzip ? CHUNK : SLOT_CHUNK },
            emptySummary(),
          );
    for await (const spans of batches) {
      for (const span of spans) {
        if (span.blank) continue;
        if (index < 0) {
          index++;
          continue;
        }
        const text = (): { text: string; line: number } => ({
          text: span.buf.toString('utf8', span.start, span.contentEnd),
          line: span.line,
        });
        while (next < slots.length && slots[next] === index) {
          places.push({
            slot: index,
            offset: span.base + span.start,
            line: span.line,
            template: index === 0 ? text() : previous!,
          });
          next++;
        }
        if (next === slots.length || slots[next]! >= scan.dataRecords) break;
        const wanted = slots[next]!;
        if (wanted === index + 1) previous = text();
        else if (!gzip && scan.checkpoints.before(wanted - 1)!.index > index) {
          jump = true;
          break;
        }
        index++;
      }
      if (jump || next === slots.length || slots[next]! >= scan.dataRecords) break;
    }
    if (!jump && next < slots.length && slots[next]! < scan.dataRecords) {
      throw new RoteError(
        `${file}: has fewer records than when it was first read; run inject again on a file nobody is writing`,
      );
    }
  }
  if (next < slots.length) {
    // The end of the file: after the last record.
    const last = scan.dataRecords > 0 ? await lastRecord(file, adapter, scan) : null;
    if (!last)
      throw new RoteError(
        `${file}: no records to model the canary records on; the manifest must hold at least one record`,
      );
    for (; next < slots.length; next++)
      places.push({ slot: slots[next]!, offset: scan.summary.bytes, line: scan.summary.lines + 1, template: last });
  }
  return places;
}

async function lastRecord(
  file: string,
  adapter: RecordAdapter,
  scan: FileScan,
): Promise<{ text: string; line: number } | null> {
  const start = isGzip(file)
    ? { index: adapter.header ? -1 : 0, offset: 0, line: 1 }
    : scan.checkpoints.before(scan.dataRecords - 1)!;
  let index = start.index;
  let last: { text: string; line: number } | null = null;
  for await (const spans of scanBatches(file, { quoted: adapter.quoted, trusted: true, from: start }, emptySummary())) {
    for (const span of spans) {
      if (span.blank) continue;
      if (index++ === scan.dataRecords - 1)
        last = { text: span.buf.toString('utf8', span.start, span.contentEnd), line: span.line };
    }
  }
  return last;
}

/**
 * Copies `file` (decompressed when `.gz`) to `writer` with `insertions`
 * (ascending offsets) spliced in; returns the number of input bytes copied.
 * Two buffers: the next chunk is read while this one is written. A failed
 * read or write names both files.
 */
export async function spliceCopy(
  file: string,
  insertions: Insertion[],
  writer: ManifestWriter,
  onBytes?: (copied: number) => void,
): Promise<number> {
  try {
    return await spliceCopyChunks(file, insertions, writer, onBytes);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (error instanceof RoteError || typeof code !== 'string') throw error;
    throw new RoteError(
      `${file} -> ${writer.target}: copy failed (${(error as Error).message}); nothing was written, check the disk and run inject again`,
      { cause: error },
    );
  }
}

/**
 * The pieces to write for one chunk buf[0, count) read at input offset
 * `position`: input bytes cut at each insertion that falls in the chunk (at
 * its end only when the input is exhausted, count 0), the insertion's bytes
 * in between. `next` is the first insertion not yet placed.
 */
export function splicePieces(
  buf: Uint8Array,
  count: number,
  position: number,
  insertions: Insertion[],
  next: number,
): { pieces: Uint8Array[]; next: number } {
  const end = position + count;
  const pieces: Uint8Array[] = [];
  let from = 0;
  while (
    next < insertions.length &&
    insertions[next]!.offset <= end &&
    (count > 0 || insertions[next]!.offset === end)
  ) {
    const cut = insertions[next]!.offset - position;
    if (cut > from) pieces.push(buf.subarray(from, cut));
    from = Math.max(from, cut);
    pieces.push(insertions[next]!.bytes);
    next++;
  }
  if (count > from) pieces.push(buf.subarray(from, count));
  return { pieces, next };
}

async function spliceCopyChunks(
  file: string,
  insertions: Insertion[],
  writer: ManifestWriter,
  onBytes?: (copied: number) => void,
): Promise<number> {
  const source = await openByteSource(file);
  const buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
  let which = 0;
  let reading = source.read(buffers[0]!, 0);
  let position = 0;
  let next = 0;
  try {
    for (;;) {
      const count = await reading;
      const buf = buffers[which]!;
      which ^= 1;
      if (count > 0) reading = source.read(buffers[which]!, 0);
      const chunk = splicePieces(buf, count, position, insertions, next);
      for (const piece of chunk.pieces) await writer.write(piece);
      next = chunk.next;
      if (count === 0) break;
      position += count;
      onBytes?.(position);
    }
  } finally {
    await reading.catch(() => 0);
    await source.close();
  }
  if (next < insertions.length)
    throw new RoteError(`${file}: shorter than when it was first read; run inject again on a file nobody is writing`);
  return position;
}
