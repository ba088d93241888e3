/**
 * WAV in/out, the one WAV reader of rote (the plain-JS espeak worker keeps its
 * own): the RIFF chunk walk (headers, probes, truncation check) is here;
 * samples are decoded through wavefile. wavefile is CommonJS and its ESM named
 * import type-checks but fails at run time, so it is loaded with createRequire.
 */
import { createRequire } from 'node:module';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { RoteError } from '../util/errors.ts';

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

/** Decodes WAV bytes; `source` names the file in error messages. A data chunk cut short is an error. */
export function decodeWav(bytes: Uint8Array, source = '<buffer>'): DecodedAudio {
  if (bytes.length === 0) throw new RoteError(`${source}: empty file, not a WAV`);
  // The header checks (RIFF, fmt before data, a data chunk, not truncated), before wavefile decodes it.
  const header = parseWavHeader(bytes, bytes.length, source);
  const wave = new WaveFile();
  try {
    wave.fromBuffer(bytes);
  } catch (error) {
    throw new RoteError(`${source}: not a readable WAV file (${(error as Error).message})`, { cause: error });
  }
  const channels = wave.fmt.numChannels;
  const sampleRate = wave.fmt.sampleRate;
  if (!channels || !sampleRate) throw new RoteError(`${source}: WAV header has no channels or sample rate`);
  if (wave.fmt.audioFormat === 1 && wave.fmt.bitsPerSample === 16) {
    // 16-bit PCM is scaled by 1/32768 as torchaudio, Kaldi and sherpa-onnx do
    // (wavefile's own float conversion divides positive samples by 32767).
    // wavefile has parsed the chunks; its per-sample unpacking is slow, so the
    // interleaved little-endian data bytes are read directly.
    return { samples: downmixPcm16(wave.data.samples, channels), sampleRate, channels };
  }
  try {
    wave.toBitDepth('32f');
  } catch (error) {
    throw new RoteError(`${source}: unsupported WAV encoding (${(error as Error).message})`, { cause: error });
  }
  const raw = wave.getSamples(false, Float32Array) as unknown as Float32Array | Float32Array[];
  const planes = Array.isArray(raw) ? raw : [raw];
  // wavefile counts the RIFF pad byte after an odd-sized data chunk (8-bit audio) as one more sample:
  // the frames are those the data chunk declares.
  const length = Math.min(planes[0]?.length ?? 0, header.numSamples);
  const samples = new Float32Array(length);
  const weight = 1 / planes.length;
  for (const plane of planes) for (let i = 0; i < length; i++) samples[i]! += plane[i]! * weight;
  return { samples, sampleRate, channels };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Interleaved little-endian int16 frames -> mono float samples (channel mean, / 32768). */
function downmixPcm16(bytes: Uint8Array, channels: number): Float32Array {
  const frames = Math.floor(bytes.byteLength / (2 * channels));
  const samples = new Float32Array(frames);
  const weight = 1 / 32768 / channels;
  if (LITTLE_ENDIAN) {
    const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
    const pcm = new Int16Array(aligned.buffer, aligned.byteOffset, frames * channels);
    if (channels === 1) {
      for (let i = 0; i < frames; i++) samples[i] = pcm[i]! * weight;
    } else {
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += pcm[i * channels + c]!;
        samples[i] = sum * weight;
      }
    }
    return samples;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += view.getInt16((i * channels + c) * 2, true);
    samples[i] = sum * weight;
  }
  return samples;
}

export interface WavHeader {
  sampleRate: number;
  channels: number;
  /** Sample frames (per channel). */
  numSamples: number;
}

interface WavChunks {
  format?: { channels: number; sampleRate: number; blockAlign: number };
  /** The data chunk: where its bytes start and the size its header declares. */
  data?: { offset: number; declaredBytes: number };
  /** A data chunk came before any fmt chunk. */
  dataBeforeFormat: boolean;
}

/**
 * Data sizes a writer that cannot seek back puts in the header (0xFFFFFFFF;
 * sox and espeak-ng write 0x7FFFF000 to a pipe): "until the end of the file".
 */
const STREAMED_DATA_SIZE = 0x7ffff000;

/** Walks the RIFF chunks of a WAV's first bytes up to its data chunk; null when not RIFF/WAVE. Never throws. */
function walkWavChunks(bytes: Uint8Array): WavChunks | null {
  const ascii = (at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || ascii(0) !== 'RIFF' || ascii(8) !== 'WAVE') return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: WavChunks = { dataBeforeFormat: false };
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = ascii(at);
    const size = view.getUint32(at + 4, true);
    if (id === 'fmt ') {
      if (at + 24 > bytes.length) break;
      chunks.format = {
        channels: view.getUint16(at + 10, true),
        sampleRate: view.getUint32(at + 12, true),
        blockAlign: view.getUint16(at + 20, true),
      };
    } else if (id === 'data') {
      chunks.dataBeforeFormat = !chunks.format;
      chunks.data = { offset: at + 8, declaredBytes: size };
      return chunks;
    }
    at += 8 + size + (size % 2);
  }
  return chunks;
}

/**
 * Parses a WAV header from its first bytes (`fileSize`: the whole file's
 * size). A streamed data size (see STREAMED_DATA_SIZE) means the rest of the
 * file; a data chunk that declares more bytes than the file holds is refused
 * (a truncated file is not a shorter utterance). Pure.
 */
export function parseWavHeader(bytes: Uint8Array, fileSize: number, source: string): WavHeader {
  if (fileSize === 0) throw new RoteError(`${source}: empty file, not a WAV`);
  const chunks = walkWavChunks(bytes);
  if (!chunks) throw new RoteError(`${source}: not a WAV file (no RIFF/WAVE header)`);
  if (chunks.dataBeforeFormat) throw new RoteError(`${source}: WAV data chunk before its fmt chunk`);
  const { format, data } = chunks;
  if (!data || !format) throw new RoteError(`${source}: WAV file has no data chunk (truncated or corrupt)`);
  if (!format.channels || !format.sampleRate || !format.blockAlign)
    throw new RoteError(`${source}: WAV header has no channels, sample rate or block size`);
  const available = Math.max(0, fileSize - data.offset);
  let dataBytes = data.declaredBytes;
  if (dataBytes >= STREAMED_DATA_SIZE) dataBytes = available;
  else if (dataBytes > available) {
    throw new RoteError(
      `${source}: truncated WAV: its data chunk declares ${dataBytes} bytes but the file holds ${available}; copy or re-create the file`,
    );
  }
  return {
    sampleRate: format.sampleRate,
    channels: format.channels,
    numSamples: Math.floor(dataBytes / format.blockAlign),
  };
}

/** The sample rate in a WAV's fmt chunk, from its first bytes; undefined when not a WAV or no fmt chunk is among them. */
export function wavSampleRate(head: Uint8Array): number | undefined {
  return walkWavChunks(head)?.format?.sampleRate || undefined;
}

const HEADER_BYTES = 1 << 16;

/**
 * A WAV's header only (RIFF chunks up to `data`), to learn an utterance's
 * length before decoding it, so batches can be planned without holding every
 * file's samples in memory. Synchronous, like the feature reads: one small
 * read per file is cheaper than thread-pool round trips.
 */
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

/** The error for an audio file that cannot be read (missing, a directory, no permission). */
export function unreadableAudio(path: string, error: unknown): RoteError {
  return new RoteError(
    `${path}: cannot read audio file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    { cause: error },
  );
}

export async function readWav(path: string): Promise<DecodedAudio> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw unreadableAudio(path, error);
  }
  return decodeWav(bytes, path);
}

/**
 * readWav with a synchronous read: for loops that read many small files one
 * after another (recognition), where fs.promises.readFile's thread-pool round
 * trips cost ~10x the read itself (0.2-0.3 ms against 0.02 ms for a 45 kB file).
 */
export function readWavSync(path: string): DecodedAudio {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw unreadableAudio(path, error);
  }
  return decodeWav(bytes, path);
}

/**
 * Why `samples` cannot be stored as 16-bit PCM as they are (NaN or infinite values, which would become 0,
 * or values beyond full scale [-1, 1], which would be clipped), or null when they can. Pure.
 */
export function samplesOutsideFullScale(samples: Float32Array): string | null {
  let beyond = 0;
  let first = -1;
  for (let i = 0; i < samples.length; i++) {
    const value = samples[i]!;
    if (!Number.isFinite(value)) return `holds a sample that is not a finite number (${value} at sample ${i})`;
    if (value > 1 || value < -1) {
      if (first < 0) first = i;
      beyond++;
    }
  }
  return beyond === 0
    ? null
    : `holds ${beyond} sample${beyond === 1 ? '' : 's'} beyond full scale [-1, 1] (the first, ${samples[first]}, at sample ${first})`;
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
