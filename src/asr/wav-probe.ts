/**
 * Reads a WAV header only (RIFF chunks up to `data`) to learn an utterance's
 * length before decoding it, so batches can be planned without holding every
 * file's samples in memory.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { RoteError } from '../util/errors.ts';
import { unreadableAudio } from '../util/wav.ts';

export interface WavHeader {
  sampleRate: number;
  channels: number;
  /** Sample frames (per channel). */
  numSamples: number;
}

const HEADER_BYTES = 1 << 16;

/** Parses a WAV header from its first bytes; `fileSize` caps a streamed (0xFFFFFFFF) data size. Pure. */
export function parseWavHeader(bytes: Uint8Array, fileSize: number, source: string): WavHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (fileSize === 0) throw new RoteError(`${source}: empty file, not a WAV`);
  if (bytes.length < 12 || ascii(0) !== 'RIFF' || ascii(8) !== 'WAVE') throw new RoteError(`${source}: not a WAV file (no RIFF/WAVE header)`);
  let at = 12;
  let format: { channels: number; sampleRate: number; blockAlign: number } | null = null;
  while (at + 8 <= bytes.length) {
    const id = ascii(at);
    const size = view.getUint32(at + 4, true);
    if (id === 'fmt ') {
      if (at + 24 > bytes.length) break;
      format = { channels: view.getUint16(at + 10, true), sampleRate: view.getUint32(at + 12, true), blockAlign: view.getUint16(at + 20, true) };
    } else if (id === 'data') {
      if (!format) throw new RoteError(`${source}: WAV data chunk before its fmt chunk`);
      if (!format.channels || !format.sampleRate || !format.blockAlign) throw new RoteError(`${source}: WAV header has no channels, sample rate or block size`);
      const available = Math.max(0, fileSize - (at + 8));
      const dataBytes = size === 0xffffffff || size > available ? available : size;
      return { sampleRate: format.sampleRate, channels: format.channels, numSamples: Math.floor(dataBytes / format.blockAlign) };
    }
    at += 8 + size + (size % 2);
  }
  throw new RoteError(`${source}: WAV file has no data chunk (truncated or corrupt)`);
}

/** Synchronous, like the feature reads: one small read per file is cheaper than thread-pool round trips. */
export function probeWav(path: string): WavHeader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw unreadableAudio(path, error);
  }
  try {
    const { size } = fstatSync(fd);
    const buffer = new Uint8Array(Math.min(size, HEADER_BYTES));
    const bytesRead = readSync(fd, buffer, 0, buffer.length, 0);
    return parseWavHeader(buffer.subarray(0, bytesRead), size, path);
  } finally {
    closeSync(fd);
  }
}
