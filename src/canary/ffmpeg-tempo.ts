/**
 * The one adapter around fluent-ffmpeg (archived upstream) and the static
 * ffmpeg binary of @ffmpeg-installer/ffmpeg: pitch-preserving tempo change
 * with an atempo chain, then resampling to the output rate.
 *
 * Several utterances go through ONE ffmpeg process (one input, one filter
 * chain and one output per utterance) to spread the process start-up cost;
 * the chains are independent, so an utterance's output does not depend on
 * the batch it was in. Raw float32 in and out: no WAV parsing on either side.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import ffmpeg from 'fluent-ffmpeg';

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

// atempo drops the last ~20 ms of each stage's output when its input ends; trailing
// silence is appended before and the result cut to the exact length after.
const TAIL_PADDING_SEC = 0.25;

/**
 * Changes the tempo of each input by `factor` (pitch kept) and resamples it to
 * `outputRate`. Each output has exactly round(inputSeconds / factor * outputRate) samples.
 */
export async function ffmpegTempoBatch(inputs: readonly TempoInput[], options: { factor: number; outputRate: number }): Promise<Float32Array[]> {
  if (inputs.length === 0) return [];
  const directory = await mkdtemp(join(tmpdir(), 'rote-tempo-'));
  try {
    const command = ffmpeg();
    const filters: string[] = [];
    await Promise.all(
      inputs.map(async (input, i) => {
        const path = join(directory, `in${i}.f32`);
        const padded = new Float32Array(input.samples.length + Math.round(TAIL_PADDING_SEC * input.sampleRate));
        padded.set(input.samples);
        await writeFile(path, new Uint8Array(padded.buffer));
        return path;
      }),
    ).then((paths) =>
      paths.forEach((path, i) => {
        command.input(path).inputOptions(['-f', 'f32le', '-ar', String(inputs[i]!.sampleRate), '-ac', '1']);
        filters.push(`[${i}:a]${[...atempoChain(options.factor), `aresample=${options.outputRate}`].join(',')}[o${i}]`);
      }),
    );
    command.complexFilter(filters.join(';'));
    const outputs = inputs.map((_, i) => join(directory, `out${i}.f32`));
    outputs.forEach((path, i) => {
      command.output(path).outputOptions(['-map', `[o${i}]`, '-ac', '1', '-ar', String(options.outputRate), '-f', 'f32le', '-c:a', 'pcm_f32le']);
    });
    command.addOption('-nostdin').addOption('-v', 'error');
    await new Promise<void>((resolve, reject) => {
      command
        .on('end', () => resolve())
        .on('error', (error: Error, _stdout: string | null, stderr: string | null) => reject(new Error(`ffmpeg tempo failed: ${error.message}${stderr ? `\n${stderr}` : ''}`)))
        .run();
    });
    return await Promise.all(
      outputs.map(async (path, i) => {
        const bytes = await readFile(path);
        const input = inputs[i]!;
        const length = Math.max(1, Math.round((input.samples.length / input.sampleRate / options.factor) * options.outputRate));
        const result = new Float32Array(length);
        const available = Math.min(length * 4, bytes.byteLength - (bytes.byteLength % 4));
        new Uint8Array(result.buffer).set(bytes.subarray(0, available));
        return result;
      }),
    );
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
