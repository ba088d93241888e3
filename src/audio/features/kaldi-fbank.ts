/**
 * Kaldi-compatible log mel filterbank (Kaldi's compute-fbank-feats,
 * torchaudio.compliance.kaldi.fbank, kaldi-native-fbank as used by
 * lhotse / icefall / sherpa-onnx). Per frame: extract (reflecting at the edges
 * when snip_edges is false), dither, remove DC, raw log energy, pre-emphasis
 * (x[i] -= c x[i-1], x[0] -= c x[0]), window, zero-pad to a power of two,
 * power spectrum, mel banks, log(max(e, FLT_EPSILON)).
 * Parity with torchaudio: test/audio/parity.test.ts.
 */
import { RoteError } from '../../util/errors.ts';
import { createPowerSpectrum, type PowerSpectrum } from '../fft.ts';
import { applyMelBank, kaldiMelBank, slaneyMelBank, type SparseMelBank } from './mel.ts';
import { GaussianSource, kaldiWindow } from './dsp.ts';
import {
  kaldiFrameLength,
  kaldiFrameShift,
  resolveKaldiFbankOptions,
  type FeatureMatrix,
  type KaldiFbankOptions,
} from './types.ts';

/** float32 machine epsilon (Kaldi's std::numeric_limits<float>::epsilon()). */
export const FLT_EPSILON = 1.1920928955078125e-7;

/** Precomputed window, mel banks, FFT and frame buffers for one option set. */
export interface KaldiFbankPlan {
  readonly options: Readonly<KaldiFbankOptions>;
  readonly frameLength: number;
  readonly frameShift: number;
  readonly paddedLength: number;
  /** Output columns: numBins, plus one with useEnergy. */
  readonly numColumns: number;
  numFrames(numSamples: number): number;
  compute(samples: Float32Array): FeatureMatrix;
}

export function kaldiNumFrames(
  numSamples: number,
  frameLength: number,
  frameShift: number,
  snipEdges: boolean,
): number {
  if (snipEdges) return numSamples < frameLength ? 0 : 1 + Math.floor((numSamples - frameLength) / frameShift);
  return Math.floor((numSamples + Math.floor(frameShift / 2)) / frameShift);
}

/** Reflects an out-of-range index Kaldi's way (-1 -> 0, N -> N - 1), repeatedly if needed. */
function reflectIndex(index: number, length: number): number {
  while (index < 0 || index >= length) index = index < 0 ? -index - 1 : 2 * length - 1 - index;
  return index;
}

export function createKaldiFbankPlan(options: Partial<KaldiFbankOptions> = {}): KaldiFbankPlan {
  const o = resolveKaldiFbankOptions(options);
  const frameLength = kaldiFrameLength(o);
  const frameShift = kaldiFrameShift(o);
  const paddedLength = o.roundToPowerOfTwo ? Math.max(8, 2 ** Math.ceil(Math.log2(frameLength))) : frameLength;
  if ((paddedLength & (paddedLength - 1)) !== 0) {
    throw new RoteError(
      `kaldi-fbank option roundToPowerOfTwo: false needs a power-of-two frame length, got ${frameLength} samples (set it to true)`,
    );
  }
  const window = kaldiWindow(o.window, frameLength);
  const mel: SparseMelBank =
    o.melBanks === 'kaldi'
      ? kaldiMelBank(o.numBins, paddedLength, o.sampleRate, o.lowFreq, o.highFreq)
      : slaneyMelBank(
          o.numBins,
          paddedLength,
          o.sampleRate,
          o.lowFreq,
          o.highFreq > 0 ? o.highFreq : o.sampleRate / 2 + o.highFreq,
          true,
        );
  const fft: PowerSpectrum = createPowerSpectrum(paddedLength);
  const frame = new Float64Array(paddedLength);
  const power = new Float64Array(paddedLength / 2 + 1);
  const energies = new Float64Array(o.numBins);
  const melOffset = o.useEnergy ? 1 : 0;
  const numColumns = o.numBins + melOffset;
  const preemph = o.preemphasis;
  const logEnergyFloor = o.energyFloor > 0 ? Math.log(o.energyFloor) : -Infinity;

  function numFrames(numSamples: number): number {
    return kaldiNumFrames(numSamples, frameLength, frameShift, o.snipEdges);
  }

  const { dither, removeDcOffset, useEnergy, rawEnergy, usePower, useLogFbank, numBins, snipEdges, scale } = o;
  const halfShift = Math.floor(frameShift / 2);
  const halfLength = Math.floor(frameLength / 2);

  function compute(samples: Float32Array): FeatureMatrix {
    const n = samples.length;
    const frames = numFrames(n);
    const data = new Float32Array(frames * numColumns);
    const gaussian = dither > 0 ? new GaussianSource(o.ditherSeed) : undefined;
    for (let f = 0; f < frames; f++) {
      const start = snipEdges ? f * frameShift : f * frameShift + halfShift - halfLength;
      let sum = 0;
      if (start >= 0 && start + frameLength <= n) {
        for (let j = 0; j < frameLength; j++) {
          const value = samples[start + j]! * scale;
          frame[j] = value;
          sum += value;
        }
      } else {
        for (let j = 0; j < frameLength; j++) {
          const value = samples[reflectIndex(start + j, n)]! * scale;
          frame[j] = value;
          sum += value;
        }
      }
      if (gaussian) {
        sum = 0;
        for (let j = 0; j < frameLength; j++) sum += frame[j] += gaussian.next() * dither;
      }
      const mean = removeDcOffset ? sum / frameLength : 0;
      let logEnergy = 0;
      if (useEnergy && rawEnergy) logEnergy = frameLogEnergy(frame, frameLength, mean);
      // DC removal, pre-emphasis and window in one backward pass:
      // z[j] = (x[j] - mean) - c (x[j-1] - mean), z[0] = (x[0] - mean)(1 - c).
      const shift = mean * (1 - preemph);
      for (let j = frameLength - 1; j > 0; j--) frame[j] = (frame[j]! - preemph * frame[j - 1]! - shift) * window[j]!;
      frame[0] = (frame[0]! - mean) * (1 - preemph) * window[0]!;
      // frame[frameLength..paddedLength) stays zero: nothing writes there.
      if (useEnergy && !rawEnergy) logEnergy = frameLogEnergy(frame, frameLength, 0);
      fft.compute(frame, power);
      if (!usePower) for (let k = 0; k < power.length; k++) power[k] = Math.sqrt(power[k]!);
      applyMelBank(mel, power, energies);
      const row = f * numColumns + melOffset;
      if (useLogFbank) {
        for (let b = 0; b < numBins; b++) {
          const e = energies[b]!;
          data[row + b] = Math.log(e > FLT_EPSILON ? e : FLT_EPSILON);
        }
      } else {
        for (let b = 0; b < numBins; b++) data[row + b] = energies[b]!;
      }
      if (useEnergy) data[row - 1] = Math.max(logEnergy, logEnergyFloor);
    }
    return { data, numFrames: frames, numBins: numColumns };
  }

  return { options: o, frameLength, frameShift, paddedLength, numColumns, numFrames, compute };
}

/** log(sum (frame[j] - mean)^2), floored at FLT_EPSILON. */
function frameLogEnergy(frame: Float64Array, length: number, mean: number): number {
  let sum = 0;
  for (let j = 0; j < length; j++) sum += (frame[j]! - mean) * (frame[j]! - mean);
  return Math.log(Math.max(sum, FLT_EPSILON));
}
