/**
 * Speed-up of synthesized speech by `factor`:
 * - 'tempo' keeps the pitch (ffmpeg atempo, WSOLA-like), the default;
 * - 'resample' raises the pitch with the speed (low-pass, then web-audio playbackRate).
 * Both return mono float samples at `outputRate`, about duration / factor long.
 */
import { SPEED_METHODS, type SpeedMethod } from './types.ts';
import { ffmpegTempoBatch, type TempoInput } from './ffmpeg-tempo.ts';
import { resampleSpeedUp } from './speedup-resample.ts';

export interface SpeedUpOptions {
  factor: number;
  method?: SpeedMethod;
  outputRate?: number;
}

export async function speedUp(
  samples: Float32Array,
  sampleRate: number,
  options: SpeedUpOptions,
): Promise<Float32Array> {
  const [result] = await speedUpMany([{ samples, sampleRate }], options);
  return result!;
}

/**
 * Speeds up several utterances at once (for 'tempo': one ffmpeg process per
 * call, so pass a batch of a few dozen). Results in input order.
 */
export async function speedUpMany(inputs: readonly TempoInput[], options: SpeedUpOptions): Promise<Float32Array[]> {
  const { factor, method = 'tempo', outputRate = 16000 } = options;
  if (!(factor >= 1 && factor <= 8)) throw new RangeError(`speed factor must be in [1, 8], got ${factor}`);
  if (method === 'tempo') return ffmpegTempoBatch(inputs, { factor, outputRate });
  if (method === 'resample') {
    const results: Float32Array[] = [];
    for (const input of inputs)
      results.push(await resampleSpeedUp(input.samples, input.sampleRate, { factor, outputRate }));
    return results;
  }
  throw new RangeError(`unknown speed-up method "${String(method)}"; use ${SPEED_METHODS.join(' or ')}`);
}
