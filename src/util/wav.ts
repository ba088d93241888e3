/**
 * WAV in/out through wavefile. wavefile is CommonJS and its ESM named import
 * type-checks but fails at run time, so it is loaded with createRequire.
 */
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { RoteError } from './errors.ts';

interface WaveFileInstance {
  fmt: { numChannels: number; sampleRate: number; bitsPerSample: number; audioFormat: number };
  data: { samples: Uint8Array };
  fromBuffer(bytes: Uint8Array): void;
  fromScratch(channels: number, sampleRate: number, bitDepth: string, samples: ArrayLike<number>): void;
  toBitDepth(bitDepth: string): void;
  getSamples(interleaved?: boolean, OutputObject?: unknown): Float64Array | Float64Array[];
  toBuffer(): Uint8Array;
}
const { WaveFile } = createRequire(import.meta.url)('wavefile') as {
  WaveFile: new () => WaveFileInstance;
};

export interface DecodedAudio {
  /** Mono samples in [-1, 1] (channels averaged when the file has several). */
  samples: Float32Array;
  sampleRate: number;
  /** Channels in the file before the downmix. */
  channels: number;
}

/** Decodes WAV bytes; `source` names the file in error messages. */
export function decodeWav(bytes: Uint8Array, source = '<buffer>'): DecodedAudio {
  if (bytes.length === 0) throw new RoteError(`${source}: empty file, not a WAV`);
  const wave = new WaveFile();
  try {
    wave.fromBuffer(bytes);
  } catch (error) {
    throw new RoteError(`${source}: not a readable WAV file (${(error as Error).message})`, { cause: error });
  }
  const channels = wave.fmt.numChannels;
  const sampleRate = wave.fmt.sampleRate;
  if (!channels || !sampleRate) throw new RoteError(`${source}: WAV header has no channels or sample rate`);
  let planes: ArrayLike<number>[];
  let scale = 1;
  if (wave.fmt.audioFormat === 1 && wave.fmt.bitsPerSample === 16) {
    // 16-bit PCM is scaled by 1/32768 as torchaudio, Kaldi and sherpa-onnx do
    // (wavefile's own float conversion divides positive samples by 32767).
    // wavefile has parsed the chunks; its per-sample unpacking is slow, so the
    // interleaved little-endian data bytes are read directly.
    const bytes = wave.data.samples;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const frames = Math.floor(bytes.byteLength / (2 * channels));
    planes = Array.from({ length: channels }, (_, channel) => {
      const plane = new Int16Array(frames);
      for (let i = 0; i < frames; i++) plane[i] = view.getInt16((i * channels + channel) * 2, true);
      return plane;
    });
    scale = 1 / 32768;
  } else {
    try {
      wave.toBitDepth('32f');
    } catch (error) {
      throw new RoteError(`${source}: unsupported WAV encoding (${(error as Error).message})`, { cause: error });
    }
    const raw = wave.getSamples(false, Float32Array) as unknown as Float32Array | Float32Array[];
    planes = Array.isArray(raw) ? raw : [raw];
  }
  const length = planes[0]?.length ?? 0;
  const samples = new Float32Array(length);
  const weight = scale / planes.length;
  for (const plane of planes) for (let i = 0; i < length; i++) samples[i]! += plane[i]! * weight;
  return { samples, sampleRate, channels };
}

export async function readWav(path: string): Promise<DecodedAudio> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new RoteError(`${path}: cannot read audio file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
  return decodeWav(bytes, path);
}

/**
 * Encodes mono samples in [-1, 1] as a 16-bit PCM WAV: scaled by 32768 (the
 * inverse of decodeWav), rounded half away from zero, clipped to the int16 range.
 */
export function encodeWav16(samples: Float32Array, sampleRate: number): Uint8Array {
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const scaled = samples[i]! * 32768;
    const rounded = scaled < 0 ? -Math.round(-scaled) : Math.round(scaled);
    pcm[i] = Math.max(-32768, Math.min(32767, rounded));
  }
  const wave = new WaveFile();
  wave.fromScratch(1, sampleRate, '16', pcm);
  return wave.toBuffer();
}
