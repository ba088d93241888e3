/**
 * Canary audio for a manifest: probing the corpus sample rate from a file
 * header, and placing canary WAVs in the audio dir (copied, hard-linked, or
 * resampled when the corpus rate differs).
 */
import { readFileSync } from 'node:fs';
import { copyFile, constants, link, open, rm, writeFile } from 'node:fs/promises';
import { RoteError } from '../util/errors.ts';
import { sha256Hex } from '../util/hash.ts';
import { decodeWav, encodeWav16 } from '../util/wav.ts';
import { resample } from '../util/resample.ts';

/** Sample rate from a WAV, FLAC or MP3 header, or undefined when it cannot be read. */
export async function probeSampleRate(path: string): Promise<number | undefined> {
  let head: Buffer;
  try {
    const handle = await open(path, 'r');
    try {
      head = Buffer.alloc(65536);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
  return sampleRateFromHeader(head);
}

export function sampleRateFromHeader(head: Buffer): number | undefined {
  if (head.length >= 12 && head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WAVE') {
    let offset = 12;
    while (offset + 8 <= head.length) {
      const id = head.toString('latin1', offset, offset + 4);
      const size = head.readUInt32LE(offset + 4);
      if (id === 'fmt ' && offset + 16 <= head.length) return head.readUInt32LE(offset + 12);
      offset += 8 + size + (size % 2);
    }
    return undefined;
  }
  if (head.length >= 26 && head.toString('latin1', 0, 4) === 'fLaC') {
    // STREAMINFO is the first metadata block: 4-byte block header, then 10 bytes, then 20 bits of rate.
    const rate = (head[18]! << 12) | (head[19]! << 4) | (head[20]! >> 4);
    return rate > 0 ? rate : undefined;
  }
  let offset = 0;
  if (head.toString('latin1', 0, 3) === 'ID3' && head.length >= 10) {
    offset = 10 + (((head[6]! & 0x7f) << 21) | ((head[7]! & 0x7f) << 14) | ((head[8]! & 0x7f) << 7) | (head[9]! & 0x7f));
  }
  for (; offset + 4 <= head.length; offset++) {
    if (head[offset] !== 0xff || (head[offset + 1]! & 0xe0) !== 0xe0) continue;
    const version = (head[offset + 1]! >> 3) & 3; // 3 = MPEG1, 2 = MPEG2, 0 = MPEG2.5
    const rateIndex = (head[offset + 2]! >> 2) & 3;
    if (version === 1 || rateIndex === 3) continue;
    const base = [44100, 48000, 32000][rateIndex]!;
    return version === 3 ? base : version === 2 ? base / 2 : base / 4;
  }
  return undefined;
}

export interface PreparedCanaryAudio {
  /** WAV bytes at the corpus rate (undefined when the source is used as is). */
  bytes?: Uint8Array;
  sourcePath: string;
  sampleRate: number;
  numSamples: number;
  resampled: boolean;
}

/**
 * Reads a canary's WAV, checks its hash against the set, and resamples it when
 * the corpus rate differs. Synchronous: for a few dozen small files one call
 * each costs less than thread-pool round trips (placing copies, which creates
 * files, is faster in parallel: placeCanaryAudio).
 */
export function prepareCanaryAudio(sourcePath: string, expectedSha256: string, targetRate: number): PreparedCanaryAudio {
  let bytes: Buffer;
  try {
    bytes = readFileSync(sourcePath);
  } catch (error) {
    throw new RoteError(`${sourcePath}: cannot read canary audio (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
  if (sha256Hex(bytes) !== expectedSha256) {
    throw new RoteError(`${sourcePath}: sha256 differs from the canary list; the canary set was modified, regenerate or restore it`);
  }
  const decoded = decodeWav(bytes, sourcePath);
  if (decoded.sampleRate === targetRate && decoded.channels === 1) {
    return { sourcePath, sampleRate: targetRate, numSamples: decoded.samples.length, resampled: false };
  }
  const samples = decoded.sampleRate === targetRate ? decoded.samples : resample(decoded.samples, decoded.sampleRate, targetRate);
  return { bytes: encodeWav16(samples, targetRate), sourcePath, sampleRate: targetRate, numSamples: samples.length, resampled: true };
}

/**
 * Writes one copy to `target` (never overwriting): the resampled bytes, or the
 * source copied or hard-linked. Returns how it was placed.
 */
export async function placeCanaryAudio(prepared: PreparedCanaryAudio, target: string, linkFiles: boolean, firstCopy: string | undefined): Promise<'copy' | 'link' | 'resample'> {
  const source = prepared.bytes ? firstCopy : prepared.sourcePath;
  try {
    if (linkFiles && source) {
      try {
        await link(source, target);
        return prepared.bytes ? 'resample' : 'link';
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV' && (error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
      }
    }
    if (prepared.bytes) {
      await writeFile(target, prepared.bytes, { flag: 'wx' });
      return 'resample';
    }
    await copyFile(prepared.sourcePath, target, constants.COPYFILE_EXCL);
    return 'copy';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new RoteError(`${target}: already exists; rote never overwrites audio, use an empty --audio-dir`, { cause: error });
    if (code === 'EACCES' || code === 'ENOENT' || code === 'EROFS' || code === 'ENOTDIR') {
      throw new RoteError(`${target}: cannot write canary audio (${code}); check that --audio-dir is a writable directory`, { cause: error });
    }
    throw error;
  }
}

export async function removeQuietly(paths: string[]): Promise<void> {
  await Promise.all(paths.map((path) => rm(path, { force: true }).catch(() => undefined)));
}
