/**
 * Whisper's log-mel frontend, as openai/whisper (whisper/audio.py:
 * log_mel_spectrogram after pad_or_trim) and transformers' WhisperFeatureExtractor
 * compute it:
 *   the samples (16 kHz) zero-padded or trimmed to 30 s (480000 samples);
 *   an STFT with n_fft 400, hop 160, a periodic Hann window of 400, centered
 *   frames (200 samples of reflect padding each side, edge not repeated), the
 *   last frame dropped: 3000 frames;
 *   the power spectrum |X|^2, librosa's Slaney mel filters (0-8000 Hz, Slaney
 *   normalization; 80 or 128 filters, the model's `feature_size`);
 *   log10(max(mel, 1e-10)), floored at (the maximum over all frames - 8), then (x + 4) / 4.
 * A 400-point DFT is not a power of two: each frame's spectrum is a mixed-radix FFT
 * (4 x 4 x 5 x 5, src/audio/fft.ts), skipped for frames that are all zeros (the 30 s
 * padding of a short canary), whose power is exactly 0.
 * Trimming is what the feature extractor does with longer input; rote's Whisper
 * engine refuses canaries over 30 s before they reach this frontend.
 *
 * `sherpaOnnx`: what sherpa-onnx feeds its Whisper export instead (kaldi-native-fbank's
 * WhisperFeatureComputer, then NormalizeWhisperFeatures), to compare with sherpa-onnx:
 * no 30 s padding; Kaldi framing with snip_edges false (floor((n + 80) / 160) frames, the
 * frame f from sample 160 f - 120, samples past either end reflected with the edge
 * repeated); the same window, power spectrum and mel filters; the maximum and floor over
 * these frames alone. (sherpa-onnx then appends 1000 zero frames: the model does that.)
 */
import { RoteError } from '../../util/errors.ts';
import { createMixedRadixPowerSpectrum } from '../fft.ts';
import { applyMelBank, slaneyMelBank } from './mel.ts';
import type { FeatureMatrix } from './types.ts';

export interface WhisperMelOptions {
  /** Mel filters: 80 (Whisper up to large-v2) or 128 (large-v3); preprocessor_config.json's feature_size. */
  numBins: number;
  /** sherpa-onnx's variant (see above); default false. */
  sherpaOnnx: boolean;
}

export const WHISPER_SAMPLE_RATE = 16000;
const N_FFT = 400;
const HOP = 160;
const CHUNK_SAMPLES = 30 * WHISPER_SAMPLE_RATE;
export const WHISPER_FRAMES = CHUNK_SAMPLES / HOP;

interface WhisperMelPlan {
  readonly options: Readonly<WhisperMelOptions>;
  compute(samples: Float32Array): FeatureMatrix;
  framesFor(numSamples: number): number;
}

/** torch 'reflect' padding index for the 30 s chunk (no repeated edge). */
function reflect(index: number, length: number): number {
  if (index < 0) return -index;
  if (index >= length) return 2 * (length - 1) - index;
  return index;
}

function resolveWhisperMelOptions(options: Partial<WhisperMelOptions> = {}): WhisperMelOptions {
  const numBins = options.numBins ?? 80;
  if (!Number.isInteger(numBins) || numBins < 1 || numBins > 200)
    throw new RoteError(
      `whisper-mel frontend: numBins must be an integer from 1 to 200 (80 or 128), got ${String(numBins)}`,
    );
  return { numBins, sherpaOnnx: options.sherpaOnnx ?? false };
}

/** Kaldi's reflection at the ends of the signal (-1 -> 0, n -> n - 1). */
function reflectKaldi(index: number, length: number): number {
  let i = index;
  while (i < 0 || i >= length) i = i < 0 ? -i - 1 : 2 * length - 1 - i;
  return i;
}

export function createWhisperMelPlan(options: Partial<WhisperMelOptions> = {}): WhisperMelPlan {
  const o = resolveWhisperMelOptions(options);
  const numFftBins = N_FFT / 2 + 1;
  const mel = slaneyMelBank(o.numBins, N_FFT, WHISPER_SAMPLE_RATE, 0, WHISPER_SAMPLE_RATE / 2, true);
  const window = new Float64Array(N_FFT);
  for (let i = 0; i < N_FFT; i++) window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N_FFT);
  const spectrum = createMixedRadixPowerSpectrum(N_FFT);
  const frame = new Float64Array(N_FFT);
  const power = new Float64Array(numFftBins);
  const energies = new Float64Array(o.numBins);

  /** Frames: openai/whisper's 30 s window, or sherpa-onnx's Kaldi framing of the samples alone. */
  function framesFor(numSamples: number): number {
    return o.sherpaOnnx ? Math.floor((numSamples + HOP / 2) / HOP) : WHISPER_FRAMES;
  }

  function compute(samples: Float32Array): FeatureMatrix {
    const length = Math.min(samples.length, CHUNK_SAMPLES);
    const numFrames = framesFor(samples.length);
    const numBins = o.numBins;
    const logMel = new Float64Array(numFrames * numBins);
    let max = -Infinity;
    for (let f = 0; f < numFrames; f++) {
      const start = o.sherpaOnnx ? f * HOP + HOP / 2 - N_FFT / 2 : f * HOP - N_FFT / 2;
      let nonZero = false;
      for (let j = 0; j < N_FFT; j++) {
        let value: number;
        if (o.sherpaOnnx) value = samples[reflectKaldi(start + j, samples.length)]! * window[j]!;
        else {
          const i = reflect(start + j, CHUNK_SAMPLES);
          value = i < length ? samples[i]! * window[j]! : 0;
        }
        frame[j] = value;
        if (value !== 0) nonZero = true;
      }
      if (nonZero) {
        spectrum.compute(frame, power);
        applyMelBank(mel, power, energies);
      } else energies.fill(0);
      for (let b = 0; b < numBins; b++) {
        const value = Math.log10(Math.max(energies[b]!, 1e-10));
        logMel[f * numBins + b] = value;
        if (value > max) max = value;
      }
    }
    const floor = max - 8;
    const data = new Float32Array(logMel.length);
    for (let i = 0; i < data.length; i++) data[i] = (Math.max(logMel[i]!, floor) + 4) / 4;
    return { data, numFrames, numBins };
  }

  return { options: o, compute, framesFor };
}
