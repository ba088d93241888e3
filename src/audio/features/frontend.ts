/**
 * Frontends by spec: `createFrontend({ type: 'kaldi-fbank', numBins: 80 })`
 * builds windows, mel banks and FFT tables once; `compute` then allocates only
 * the output matrix (and, for NeMo, a reusable signal buffer).
 * The one-shot functions (`kaldiFbank`, `nemoMel`, `sherpaNemoMel`) reuse
 * cached frontends keyed by their resolved options.
 */
import { RoteError } from '../../util/errors.ts';
import { normalizePerFeature } from './dsp.ts';
import { createKaldiFbankPlan } from './kaldi-fbank.ts';
import { createNemoMelPlan } from './nemo-mel.ts';
import { createWhisperMelPlan, WHISPER_FRAMES, WHISPER_SAMPLE_RATE, type WhisperMelOptions } from './whisper-mel.ts';
import {
  resolveSherpaNemoMelOptions,
  type FeatureMatrix,
  type KaldiFbankOptions,
  type NemoMelOptions,
  type SherpaNemoMelOptions,
} from './types.ts';

/**
 * The raw waveform as the model's input (Hugging Face wav2vec2-family models): one value
 * per frame, a frame per sample; `normalize` 'per_utterance' is Wav2Vec2FeatureExtractor's
 * do_normalize over the utterance's own samples: (x - mean) / sqrt(variance + 1e-7).
 */
export interface WaveformOptions {
  sampleRate: number;
  normalize: 'none' | 'per_utterance';
}

export type FrontendSpec =
  | ({ type: 'kaldi-fbank' } & Partial<KaldiFbankOptions>)
  | ({ type: 'nemo-mel' } & Partial<NemoMelOptions>)
  | ({ type: 'sherpa-nemo-mel' } & Partial<SherpaNemoMelOptions>)
  | ({ type: 'waveform' } & Partial<WaveformOptions>)
  | ({ type: 'whisper-mel' } & Partial<WhisperMelOptions>);

export const FRONTEND_TYPES = ['kaldi-fbank', 'nemo-mel', 'sherpa-nemo-mel', 'waveform', 'whisper-mel'] as const;

export interface Frontend {
  /** The spec as given. */
  readonly spec: FrontendSpec;
  /** Every option with defaults filled in (printable, e.g. by inspect-model). */
  readonly resolved: { type: FrontendSpec['type'] } & Record<string, unknown>;
  readonly sampleRate: number;
  /** Feature columns per frame. */
  readonly numBins: number;
  compute(samples: Float32Array): FeatureMatrix;
  /** Frames `compute` returns for this many samples. */
  framesFor(numSamples: number): number;
}

function withoutType<T extends { type: string }>(spec: T): Omit<T, 'type'> {
  const { type: _type, ...rest } = spec;
  return rest;
}

export function createFrontend(spec: FrontendSpec): Frontend {
  if (!spec || typeof spec !== 'object')
    throw new RoteError(`frontend spec must be an object with a "type" (${FRONTEND_TYPES.join(', ')})`);
  switch (spec.type) {
    case 'kaldi-fbank': {
      const plan = createKaldiFbankPlan(withoutType(spec));
      return {
        spec,
        resolved: { type: spec.type, ...plan.options },
        sampleRate: plan.options.sampleRate,
        numBins: plan.numColumns,
        compute: plan.compute,
        framesFor: plan.numFrames,
      };
    }
    case 'nemo-mel': {
      const plan = createNemoMelPlan(withoutType(spec));
      return {
        spec,
        resolved: { type: spec.type, ...plan.options },
        sampleRate: plan.options.sampleRate,
        numBins: plan.options.numBins,
        compute: plan.compute,
        framesFor: plan.numFrames,
      };
    }
    case 'sherpa-nemo-mel': {
      const options = resolveSherpaNemoMelOptions(withoutType(spec));
      const { normalize, variance, ...fbank } = options;
      const plan = createKaldiFbankPlan(fbank);
      return {
        spec,
        resolved: { type: spec.type, ...options },
        sampleRate: options.sampleRate,
        numBins: plan.numColumns,
        compute(samples: Float32Array): FeatureMatrix {
          const features = plan.compute(samples);
          if (normalize === 'per_feature')
            normalizePerFeature(features.data, features.numFrames, features.numBins, variance);
          return features;
        },
        framesFor: plan.numFrames,
      };
    }
    case 'waveform':
      return waveformFrontend(spec);
    case 'whisper-mel': {
      const plan = createWhisperMelPlan(withoutType(spec));
      return {
        spec,
        resolved: {
          type: spec.type,
          ...plan.options,
          sampleRate: WHISPER_SAMPLE_RATE,
          frames: plan.options.sherpaOnnx ? 'floor((samples + 80) / 160)' : WHISPER_FRAMES,
        },
        sampleRate: WHISPER_SAMPLE_RATE,
        numBins: plan.options.numBins,
        compute: plan.compute,
        framesFor: plan.framesFor,
      };
    }
    default:
      throw new RoteError(
        `unknown frontend type ${JSON.stringify((spec as { type?: unknown }).type)} (expected one of ${FRONTEND_TYPES.join(', ')})`,
      );
  }
}

function waveformFrontend(spec: { type: 'waveform' } & Partial<WaveformOptions>): Frontend {
  const options: WaveformOptions = { sampleRate: 16000, normalize: 'none', ...withoutType(spec) };
  if (!Number.isInteger(options.sampleRate) || options.sampleRate < 1)
    throw new RoteError(`waveform frontend: sampleRate must be a positive integer, got ${String(options.sampleRate)}`);
  if (options.normalize !== 'none' && options.normalize !== 'per_utterance')
    throw new RoteError(
      `waveform frontend: normalize must be "none" or "per_utterance", got ${JSON.stringify(options.normalize)}`,
    );
  return {
    spec,
    resolved: { type: 'waveform', ...options },
    sampleRate: options.sampleRate,
    numBins: 1,
    compute(samples: Float32Array): FeatureMatrix {
      const data = Float32Array.from(samples);
      if (options.normalize === 'per_utterance' && data.length > 0) {
        let mean = 0;
        for (let i = 0; i < data.length; i++) mean += data[i]!;
        mean /= data.length;
        let variance = 0;
        for (let i = 0; i < data.length; i++) variance += (data[i]! - mean) ** 2;
        const scale = 1 / Math.sqrt(variance / data.length + 1e-7);
        for (let i = 0; i < data.length; i++) data[i] = (data[i]! - mean) * scale;
      }
      return { data, numFrames: data.length, numBins: 1 };
    },
    framesFor: (numSamples) => numSamples,
  };
}

const cache = new Map<string, Frontend>();
const CACHE_LIMIT = 32;

function cachedFrontend(spec: FrontendSpec): Frontend {
  const key = JSON.stringify(spec, Object.keys(spec).sort());
  let frontend = cache.get(key);
  if (!frontend) {
    frontend = createFrontend(spec);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(key, frontend);
  }
  return frontend;
}

/** Kaldi-compatible log mel fbank; defaults are icefall / lhotse / sherpa-onnx's (80 bins, 25/10 ms, povey, ...). */
export function kaldiFbank(samples: Float32Array, options: Partial<KaldiFbankOptions> = {}): FeatureMatrix {
  return cachedFrontend({ ...options, type: 'kaldi-fbank' }).compute(samples);
}

/** NeMo FilterbankFeatures' log mel (eval mode), per-feature normalized by default. */
export function nemoMel(samples: Float32Array, options: Partial<NemoMelOptions> = {}): FeatureMatrix {
  return cachedFrontend({ ...options, type: 'nemo-mel' }).compute(samples);
}

/** Whisper's log-mel (openai/whisper, WhisperFeatureExtractor): always 3000 frames (30 s, padded or trimmed). */
export function whisperLogMel(samples: Float32Array, options: Partial<WhisperMelOptions> = {}): FeatureMatrix {
  return cachedFrontend({ ...options, type: 'whisper-mel' }).compute(samples);
}

/** sherpa-onnx's frontend for NeMo models (Kaldi framing, librosa mel, population-variance normalization). */
export function sherpaNemoMel(samples: Float32Array, options: Partial<SherpaNemoMelOptions> = {}): FeatureMatrix {
  return cachedFrontend({ ...options, type: 'sherpa-nemo-mel' }).compute(samples);
}
