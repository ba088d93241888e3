/**
 * A corpus file's sample rate from its header (WAV, FLAC or MP3), without
 * decoding it: inject writes canaries at the corpus's rate.
 */
import { open } from 'node:fs/promises';
import { wavSampleRate } from './wav.ts';

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
  if (head.length >= 12 && head.toString('latin1', 0, 4) === 'RIFF') return wavSampleRate(head);
  if (head.length >= 26 && head.toString('latin1', 0, 4) === 'fLaC') {
    // STREAMINFO is the first metadata block: 4-byte block header, then 10 bytes, then 20 bits of rate.
    const rate = (head[18]! << 12) | (head[19]! << 4) | (head[20]! >> 4);
    return rate > 0 ? rate : undefined;
  }
  let offset = 0;
  if (head.toString('latin1', 0, 3) === 'ID3' && head.length >= 10) {
    offset =
      10 + (((head[6]! & 0x7f) << 21) | ((head[7]! & 0x7f) << 14) | ((head[8]! & 0x7f) << 7) | (head[9]! & 0x7f));
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
