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
import { kaldiFrameLength, kaldiFrameShift, resolveKaldiFbankOptions, type FeatureMatrix, type KaldiFbankOptions } from './types.ts';

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

export function kaldiNumFrames(numSamples: number, frameLength: number, frameShift: number, snipEdges: boolean): number {
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
    throw new RoteError(`kaldi-fbank option roundToPowerOfTwo: false needs a power-of-two frame length, got ${frameLength} samples (set it to true)`);
  }
  const window = kaldiWindow(o.window, frameLength);
  const mel: SparseMelBank = o.melBanks === 'kaldi'
    ? kaldiMelBank(o.numBins, paddedLength, o.sampleRate, o.lowFreq, o.highFreq)
    : slaneyMelBank(o.numBins, paddedLength, o.sampleRate, o.lowFreq, o.highFreq > 0 ? o.highFreq : o.sampleRate / 2 + o.highFreq, true);
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

  function compute(samples: Float32Array): FeatureMatrix {
    const n = samples.length;
    const frames = numFrames(n);
    const data = new Float32Array(frames * numColumns);
    const gaussian = o.dither > 0 ? new GaussianSource(o.ditherSeed) : undefined;
    const scale = o.scale;
    for (let f = 0; f < frames; f++) {
      const start = o.snipEdges ? f * frameShift : f * frameShift + Math.floor(frameShift / 2) - Math.floor(frameLength / 2);
      if (start >= 0 && start + frameLength <= n) {
        for (let j = 0; j < frameLength; j++) frame[j] = samples[start + j]! * scale;
      } else {
        for (let j = 0; j < frameLength; j++) frame[j] = samples[reflectIndex(start + j, n)]! * scale;
      }
      if (gaussian) for (let j = 0; j < frameLength; j++) frame[j] += gaussian.next() * o.dither;
      if (o.removeDcOffset) {
        let sum = 0;
        for (let j = 0; j < frameLength; j++) sum += frame[j]!;
        const mean = sum / frameLength;
        for (let j = 0; j < frameLength; j++) frame[j]! -= mean;
      }
      let logEnergy = 0;
      if (o.useEnergy && o.rawEnergy) logEnergy = frameLogEnergy(frame, frameLength);
      if (preemph !== 0) {
        for (let j = frameLength - 1; j > 0; j--) frame[j]! -= preemph * frame[j - 1]!;
        frame[0]! -= preemph * frame[0]!;
      }
      for (let j = 0; j < frameLength; j++) frame[j]! *= window[j]!;
      // frame[frameLength..paddedLength) stays zero: nothing writes there.
      if (o.useEnergy && !o.rawEnergy) logEnergy = frameLogEnergy(frame, frameLength);
      fft.compute(frame, power);
      if (!o.usePower) for (let k = 0; k < power.length; k++) power[k] = Math.sqrt(power[k]!);
      applyMelBank(mel, power, energies);
      const row = f * numColumns;
      for (let b = 0; b < o.numBins; b++) {
        const e = energies[b]!;
        data[row + melOffset + b] = o.useLogFbank ? Math.log(e > FLT_EPSILON ? e : FLT_EPSILON) : e;
      }
      if (o.useEnergy) data[row] = Math.max(logEnergy, logEnergyFloor);
    }
    return { data, numFrames: frames, numBins: numColumns };
  }

  return { options: o, frameLength, frameShift, paddedLength, numColumns, numFrames, compute };
}

function frameLogEnergy(frame: Float64Array, length: number): number {
  let sum = 0;
  for (let j = 0; j < length; j++) sum += frame[j]! * frame[j]!;
  return Math.log(Math.max(sum, FLT_EPSILON));
}
