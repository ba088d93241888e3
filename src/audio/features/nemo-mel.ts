/**
 * NeMo's FilterbankFeatures (nemo/collections/asr/parts/preprocessing/features.py,
 * exact_pad=False, eval mode) for one utterance:
 *   pre-emphasis on the whole signal (y[0] = x[0], y[i] = x[i] - c x[i-1]);
 *   torch.stft(center=True): pad n_fft/2 each side ('reflect' up to NeMo 2.4,
 *   zeros from 2.5), frames at t * hop, window = torch.hann_window(win,
 *   periodic=False) zero-padded centered to n_fft; |X|^mag_power;
 *   librosa Slaney mel (fmin, fmax = highfreq or sr/2, Slaney norm);
 *   log(x + 2^-24); per-feature normalization over the valid frames with
 *   unbiased std + 1e-5.
 * Valid frames: floor((len + 2 (n_fft/2) - n_fft) / hop) + 1 up to NeMo 2.4, one
 * fewer from 2.5 (the last STFT frame is then padding, masked and dropped here).
 *
 * pad_to (16 by default in NeMo, 0 in the Conformer configs) only appends
 * pad_value (0) frames after normalization, outside seq_len; the encoder masks
 * them through `length`. rote returns only the valid frames and leaves padding
 * to batching, so per-utterance features are identical either way.
 */
import { createPowerSpectrum } from '../fft.ts';
import { applyMelBank, slaneyMelBank } from './mel.ts';
import { GaussianSource, normalizePerFeature, torchSymmetricWindow } from './dsp.ts';
import { resolveNemoMelOptions, type FeatureMatrix, type NemoMelOptions } from './types.ts';

export interface NemoMelPlan {
  readonly options: Readonly<NemoMelOptions>;
  numFrames(numSamples: number): number;
  compute(samples: Float32Array): FeatureMatrix;
}

/** torch 'reflect' padding (edge not repeated: -1 -> 1, N -> N - 2), repeated if needed. */
function reflectWithoutEdge(index: number, length: number): number {
  if (length === 1) return 0;
  while (index < 0 || index >= length) index = index < 0 ? -index : 2 * (length - 1) - index;
  return index;
}

export function createNemoMelPlan(options: Partial<NemoMelOptions> = {}): NemoMelPlan {
  const o = resolveNemoMelOptions(options);
  const nFft = o.nFft;
  const pad = Math.floor(nFft / 2);
  const hop = o.hopLength;
  const window = torchSymmetricWindow(o.window, o.windowLength);
  const windowOffset = Math.floor((nFft - o.windowLength) / 2);
  const mel = slaneyMelBank(
    o.numBins,
    nFft,
    o.sampleRate,
    o.lowFreq,
    o.highFreq || o.sampleRate / 2,
    o.melNorm === 'slaney',
  );
  const fft = createPowerSpectrum(nFft);
  const frame = new Float64Array(nFft);
  const power = new Float64Array(nFft / 2 + 1);
  const energies = new Float64Array(o.numBins);
  let emphasized = new Float64Array(0);

  function stftFrames(numSamples: number): number {
    return numSamples === 0 ? 0 : Math.floor((numSamples + 2 * pad - nFft) / hop) + 1;
  }

  function numFrames(numSamples: number): number {
    const frames = stftFrames(numSamples);
    return o.dropFinalFrame ? Math.max(0, frames - 1) : Math.max(0, frames);
  }

  function compute(samples: Float32Array): FeatureMatrix {
    const n = samples.length;
    const frames = numFrames(n);
    const data = new Float32Array(frames * o.numBins);
    if (frames === 0) return { data, numFrames: 0, numBins: o.numBins };
    if (emphasized.length < n) emphasized = new Float64Array(n);
    const x = emphasized;
    for (let i = 0; i < n; i++) x[i] = samples[i]!;
    if (o.dither > 0) {
      const gaussian = new GaussianSource(o.ditherSeed);
      for (let i = 0; i < n; i++) x[i] += o.dither * gaussian.next();
    }
    if (o.preemphasis !== 0) for (let i = n - 1; i > 0; i--) x[i]! -= o.preemphasis * x[i - 1]!;
    const reflect = o.padMode === 'reflect';
    const halfPower = o.magPower / 2;
    for (let f = 0; f < frames; f++) {
      // Sample index (unpadded) of frame position windowOffset.
      const start = f * hop - pad + windowOffset;
      if (start >= 0 && start + o.windowLength <= n) {
        for (let j = 0; j < o.windowLength; j++) frame[windowOffset + j] = x[start + j]! * window[j]!;
      } else {
        for (let j = 0; j < o.windowLength; j++) {
          const i = start + j;
          const value = i >= 0 && i < n ? x[i]! : reflect ? x[reflectWithoutEdge(i, n)]! : 0;
          frame[windowOffset + j] = value * window[j]!;
        }
      }
      fft.compute(frame, power);
      if (halfPower !== 1) for (let k = 0; k < power.length; k++) power[k] = Math.pow(power[k]!, halfPower);
      applyMelBank(mel, power, energies);
      const row = f * o.numBins;
      for (let b = 0; b < o.numBins; b++) {
        const e = energies[b]!;
        data[row + b] = !o.log
          ? e
          : o.logZeroGuardType === 'add'
            ? Math.log(e + o.logZeroGuard)
            : Math.log(Math.max(e, o.logZeroGuard));
      }
    }
    if (o.normalize === 'per_feature') normalizePerFeature(data, frames, o.numBins, o.variance);
    return { data, numFrames: frames, numBins: o.numBins };
  }

  return { options: o, numFrames, compute };
}
