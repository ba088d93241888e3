/**
 * The raw-waveform "frontend" of Hugging Face wav2vec2-family models (Wav2Vec2FeatureExtractor):
 * no spectral features, the samples themselves as float32, one column per sample. With
 * `doNormalize` each utterance is scaled to zero mean and unit variance over its valid
 * samples: (x - mean) / sqrt(var + 1e-7), population variance, as
 * `Wav2Vec2FeatureExtractor.zero_mean_unit_var_norm`; padding past the valid samples holds
 * `paddingValue`. The sampling rate is the model's (preprocessor_config.json sampling_rate):
 * rote resamples input audio to it before the frontend runs.
 */
import { RoteError } from '../../util/errors.ts';
import type { FeatureMatrix } from './types.ts';

export interface WaveformOptions {
  sampleRate: number;
  doNormalize: boolean;
  paddingValue: number;
}

export const WAVEFORM_DEFAULTS: Readonly<WaveformOptions> = Object.freeze({
  sampleRate: 16000,
  doNormalize: true,
  paddingValue: 0,
});

/** Wav2Vec2FeatureExtractor's variance epsilon. */
const NORM_EPSILON = 1e-7;

export function resolveWaveformOptions(options: Partial<WaveformOptions> = {}): WaveformOptions {
  for (const key of Object.keys(options)) {
    if (key !== 'type' && !(key in WAVEFORM_DEFAULTS))
      throw new RoteError(`waveform: unknown option "${key}" (known: ${Object.keys(WAVEFORM_DEFAULTS).join(', ')})`);
  }
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o: WaveformOptions = { ...WAVEFORM_DEFAULTS, ...defined };
  if (typeof o.sampleRate !== 'number' || !(o.sampleRate > 0) || !Number.isFinite(o.sampleRate))
    throw new RoteError(
      `waveform option sampleRate: got ${JSON.stringify(o.sampleRate)}, expected a positive number of Hz`,
    );
  if (typeof o.doNormalize !== 'boolean')
    throw new RoteError(`waveform option doNormalize: got ${JSON.stringify(o.doNormalize)}, expected true or false`);
  if (typeof o.paddingValue !== 'number' || !Number.isFinite(o.paddingValue))
    throw new RoteError(`waveform option paddingValue: got ${JSON.stringify(o.paddingValue)}, expected a number`);
  return o;
}

/**
 * Zero mean, unit variance over `samples[0..validLength)` (sums in float64), the rest set to
 * `paddingValue`. Returns a new array. Pure.
 */
export function zeroMeanUnitVariance(
  samples: Float32Array,
  validLength = samples.length,
  paddingValue = 0,
): Float32Array {
  if (!Number.isInteger(validLength) || validLength < 0 || validLength > samples.length)
    throw new RangeError(`validLength ${validLength} is outside [0, ${samples.length}]`);
  const out = new Float32Array(samples.length);
  let sum = 0;
  for (let i = 0; i < validLength; i++) sum += samples[i]!;
  const mean = validLength > 0 ? sum / validLength : 0;
  let squares = 0;
  for (let i = 0; i < validLength; i++) {
    const d = samples[i]! - mean;
    squares += d * d;
  }
  const scale = 1 / Math.sqrt((validLength > 0 ? squares / validLength : 0) + NORM_EPSILON);
  for (let i = 0; i < validLength; i++) out[i] = (samples[i]! - mean) * scale;
  out.fill(paddingValue, validLength);
  return out;
}

/** The samples as a [numSamples, 1] feature matrix, normalized when `doNormalize`. */
export function waveformFeatures(samples: Float32Array, options: WaveformOptions): FeatureMatrix {
  const data = options.doNormalize ? zeroMeanUnitVariance(samples) : Float32Array.from(samples);
  return { data, numFrames: samples.length, numBins: 1 };
}
