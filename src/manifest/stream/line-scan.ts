/**
 * The WebAssembly structure check of JSON-lines text (line-scan.wat): one
 * instance per scan, whose memory holds that scan's read buffer, so pass 1
 * reads straight into it and checks 16 bytes at a time (scan.ts).
 */
import { LINE_SCAN_WASM } from './line-scan-wasm.ts';

/** Where the buffer starts in the instance's memory (bytes before it stay zero). */
const DATA = 64;
const PAGE = 1 << 16;

interface Exports {
  memory: WebAssembly.Memory;
  settled: WebAssembly.Global;
  lastStart: WebAssembly.Global;
  scan(pos: number, end: number, limit: number): number;
}

export interface LineScanner {
  /** The read buffer, a view of the scanner's memory. */
  readonly buffer: Buffer;
  /**
   * Settles the lines of buffer[start, end) that are "{...}" (a newline after
   * "}" or "}\r"), from `start` (a line start), until `limit` lines are
   * settled; returns the buffer offset of the first line not settled (`end`
   * when all were) and how many were settled, and when that is `limit`,
   * where the last of them began.
   */
  scan(start: number, end: number, limit: number): { stop: number; settled: number; lastStart: number };
}

let compiled: WebAssembly.Module | null | undefined;

/** A scanner with a `capacity`-byte buffer; null where WebAssembly SIMD is unavailable (the caller checks in JavaScript). */
export function createLineScanner(capacity: number): LineScanner | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(Buffer.from(LINE_SCAN_WASM, 'base64'));
    } catch {
      compiled = null;
    }
  }
  if (!compiled) return null;
  const exports = new WebAssembly.Instance(compiled).exports as unknown as Exports;
  const needed = Math.ceil((DATA + capacity + DATA) / PAGE);
  const pages = exports.memory.buffer.byteLength / PAGE;
  if (needed > pages) exports.memory.grow(needed - pages);
  const buffer = Buffer.from(exports.memory.buffer, DATA, capacity);
  const result = { stop: 0, settled: 0, lastStart: 0 };
  return {
    buffer,
    scan(start, end, limit) {
      result.stop = exports.scan(DATA + start, DATA + end, limit) - DATA;
      result.settled = exports.settled.value as number;
      result.lastStart = (exports.lastStart.value as number) - DATA;
      return result;
    },
  };
}
