/**
 * The one adapter around fluent-ffmpeg (archived upstream) and the static
 * ffmpeg binary of @ffmpeg-installer/ffmpeg: pitch-preserving tempo change
 * with an atempo chain and resampling to the output rate, in one pass.
 *
 * A batch of utterances goes through ONE ffmpeg process with one input and
 * one output, raw float32 through stdin and stdout: the utterances are laid
 * end to end (each padded with silence to a block boundary), `asplit` hands
 * the stream to one chain per utterance, each chain cuts its own utterance
 * out (`atrim`), changes its tempo, resamples it and cuts it to its exact
 * length, and `concat` puts the results end to end again. ffmpeg's cost per
 * extra input or output (~13 ms of CPU each) is thus paid once per batch,
 * and since every chain starts from its own block-aligned segment, an
 * utterance's output does not depend on the batch it was in (tested).
 * `-cpuflags 0` keeps ffmpeg to its plain C code: its SIMD paths (AVX2, FMA)
 * round differently, so without it the same canary set would differ between
 * x86-64 CPUs. It costs ~2.5 ms of CPU per canary.
 */
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { RoteError } from '../util/errors.ts';

const require = createRequire(import.meta.url);
const FFMPEG_PATH = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
ffmpeg.setFfmpegPath(FFMPEG_PATH);

/** atempo accepts factors in [0.5, 2] per stage; larger factors are chained (3 = 2 x 1.5). */
export function atempoChain(factor: number): string[] {
  if (!(factor >= 0.5)) throw new RangeError(`atempo factor must be >= 0.5, got ${factor}`);
  const stages: string[] = [];
  let rest = factor;
  while (rest > 2) {
    stages.push('atempo=2');
    rest /= 2;
  }
  stages.push(`atempo=${Number(rest.toPrecision(12))}`);
  return stages;
}

export interface TempoInput {
  samples: Float32Array;
  sampleRate: number;
}

// atempo drops the last ~20 ms of each stage's output when its input ends: every segment
// gets at least this much trailing silence, and its output is cut to the exact length.
const TAIL_PADDING_SEC = 0.25;
/** Segments start at multiples of this many samples, so each chain sees the same frames whatever its position. */
const SEGMENT_ALIGN = 4096;

/** Output length of one utterance: round(inputSeconds / factor * outputRate), at least 1. */
export function tempoOutputLength(inputLength: number, inputRate: number, factor: number, outputRate: number): number {
  return Math.max(1, Math.round((inputLength / inputRate / factor) * outputRate));
}

/**
 * Changes the tempo of each input by `factor` (pitch kept) and resamples it to
 * `outputRate`. Each output has exactly tempoOutputLength(...) samples.
 * Inputs at different sample rates go through one ffmpeg process per rate.
 */
export async function ffmpegTempoBatch(
  inputs: readonly TempoInput[],
  options: { factor: number; outputRate: number },
): Promise<Float32Array[]> {
  const results: Float32Array[] = new Array(inputs.length);
  const byRate = new Map<number, number[]>();
  inputs.forEach((input, i) => byRate.set(input.sampleRate, [...(byRate.get(input.sampleRate) ?? []), i]));
  await Promise.all(
    [...byRate.values()].map(async (indices) => {
      const outputs = await tempoOneRate(
        indices.map((i) => inputs[i]!),
        options,
      );
      indices.forEach((index, j) => (results[index] = outputs[j]!));
    }),
  );
  return results;
}

async function tempoOneRate(
  inputs: readonly TempoInput[],
  options: { factor: number; outputRate: number },
): Promise<Float32Array[]> {
  const rate = inputs[0]!.sampleRate;
  const padding = Math.round(TAIL_PADDING_SEC * rate);
  const starts: number[] = [0];
  for (const input of inputs)
    starts.push(starts.at(-1)! + Math.ceil((input.samples.length + padding) / SEGMENT_ALIGN) * SEGMENT_ALIGN);
  const lengths = inputs.map((input) =>
    tempoOutputLength(input.samples.length, rate, options.factor, options.outputRate),
  );
  // The segments go to stdin as views of the inputs and of one block of zeros: nothing is copied here.
  const zeros = Buffer.alloc(4 * (padding + SEGMENT_ALIGN));
  const segments = inputs.flatMap((input, i) => [
    Buffer.from(input.samples.buffer, input.samples.byteOffset, input.samples.byteLength),
    zeros.subarray(0, 4 * (starts[i + 1]! - starts[i]! - input.samples.length)),
  ]);

  const chain = [...atempoChain(options.factor), `aresample=${options.outputRate}`].join(',');
  const filters = [`[0:a]asplit=${inputs.length}${inputs.map((_, i) => `[s${i}]`).join('')}`];
  inputs.forEach((_, i) => {
    filters.push(
      `[s${i}]atrim=start_sample=${starts[i]}:end_sample=${starts[i + 1]},asetpts=N/SR/TB,${chain},apad,atrim=end_sample=${lengths[i]}[t${i}]`,
    );
  });
  filters.push(`${inputs.map((_, i) => `[t${i}]`).join('')}concat=n=${inputs.length}:v=0:a=1[out]`);

  const command = ffmpeg()
    .input(Readable.from(segments, { objectMode: false }))
    .inputOptions(['-f', 'f32le', '-ar', String(rate), '-ac', '1'])
    .complexFilter(filters.join(';'))
    .outputOptions(['-map', '[out]', '-f', 'f32le', '-c:a', 'pcm_f32le'])
    .addOption('-nostdin')
    .addOption('-cpuflags', '0')
    .addOption('-v', 'error');
  const chunks = await new Promise<Buffer[]>((resolve, reject) => {
    const received: Buffer[] = [];
    let pending = 2; // the output stream has ended and ffmpeg has exited successfully
    let settled = false;
    const finish = () => --pending === 0 && !settled && ((settled = true), resolve(received));
    const expectedBytes = 4 * lengths.reduce((sum, length) => sum + length, 0);
    let outputEnded = false;
    command.on('error', (error: Error, _stdout: string | null, stderr: string | null) => {
      if (settled) return;
      // fluent-ffmpeg gives ffmpeg 20 ms to exit after its output closes, then kills it and reports this error;
      // on a loaded machine ffmpeg's exit can take longer although every sample has arrived: that is success.
      if (
        error.message === 'Output stream closed' &&
        outputEnded &&
        received.reduce((sum, chunk) => sum + chunk.length, 0) === expectedBytes
      ) {
        settled = true;
        resolve(received);
        return;
      }
      settled = true;
      const killed = /killed with signal (\w+)/.exec(error.message);
      // Killed from outside (the OOM killer, a user): not a bug in rote, one line says so.
      if (killed)
        reject(
          new RoteError(
            `the speed-up's ffmpeg process (${FFMPEG_PATH}) was killed by ${killed[1]} (out of memory, or stopped from outside); nothing was written, run the command again`,
          ),
        );
      else reject(new Error(`ffmpeg tempo failed: ${error.message}${stderr ? `\n${stderr}` : ''}`));
    });
    command.on('end', finish);
    const output = command.pipe();
    output.on('data', (chunk: Buffer) => received.push(chunk));
    output.on('end', () => {
      outputEnded = true;
      finish();
    });
  });
  return splitFloat32(chunks, lengths);
}

/** Cuts little-endian float32 bytes arriving in arbitrary chunks into arrays of the given lengths (all bytes must be used). */
function splitFloat32(chunks: readonly Buffer[], lengths: readonly number[]): Float32Array[] {
  const total = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  const expected = 4 * lengths.reduce((a, b) => a + b, 0);
  if (total !== expected) throw new Error(`ffmpeg tempo: expected ${expected} bytes of output, got ${total}`);
  const results = lengths.map((length) => new Float32Array(length));
  let chunk = 0;
  let offset = 0;
  for (const result of results) {
    const target = new Uint8Array(result.buffer);
    let filled = 0;
    while (filled < target.byteLength) {
      const piece = chunks[chunk]!.subarray(offset, offset + target.byteLength - filled);
      target.set(piece, filled);
      filled += piece.byteLength;
      offset += piece.byteLength;
      if (offset === chunks[chunk]!.byteLength) {
        chunk++;
        offset = 0;
      }
    }
  }
  return results;
}
