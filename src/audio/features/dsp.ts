/**
 * Small shared pieces of the frontends: window functions, seeded Gaussian
 * dither, and NeMo-style per-feature normalization.
 */
import { SeededRandom } from '../../util/random.ts';
import type { KaldiWindow, NemoWindow } from './types.ts';

/** Kaldi / kaldi-native-fbank windows (feature-window.cc). */
export function kaldiWindow(type: KaldiWindow, length: number): Float64Array {
  const window = new Float64Array(length);
  const a = (2 * Math.PI) / (type === 'hann-periodic' ? length : length - 1);
  for (let i = 0; i < length; i++) {
    const c = Math.cos(a * i);
    switch (type) {
      case 'povey':
        window[i] = Math.pow(0.5 - 0.5 * c, 0.85);
        break;
      case 'hann':
      case 'hann-periodic':
        window[i] = 0.5 - 0.5 * c;
        break;
      case 'hamming':
        window[i] = 0.54 - 0.46 * c;
        break;
      case 'rectangular':
        window[i] = 1;
        break;
      case 'blackman':
        window[i] = 0.42 - 0.5 * c + 0.08 * Math.cos(2 * a * i);
        break;
    }
  }
  return window;
}

/** torch.{hann,hamming,blackman,bartlett}_window(length, periodic=False); 'none' is all ones. */
export function torchSymmetricWindow(type: NemoWindow, length: number): Float64Array {
  const window = new Float64Array(length);
  if (length === 1) {
    window[0] = 1;
    return window;
  }
  const n = length - 1;
  for (let i = 0; i < length; i++) {
    switch (type) {
      case 'hann':
        window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
        break;
      case 'hamming':
        window[i] = 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / n);
        break;
      case 'blackman':
        window[i] = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / n) + 0.08 * Math.cos((4 * Math.PI * i) / n);
        break;
      case 'bartlett':
        window[i] = 1 - Math.abs((2 * i) / n - 1);
        break;
      case 'none':
        window[i] = 1;
        break;
    }
  }
  return window;
}

/** Standard normal draws (Box-Muller) from a seeded generator. */
export class GaussianSource {
  private readonly random: SeededRandom;
  private spare: number | undefined;
  constructor(seed: string) {
    this.random = new SeededRandom(seed);
  }
  next(): number {
    if (this.spare !== undefined) {
      const value = this.spare;
      this.spare = undefined;
      return value;
    }
    const u1 = 1 - this.random.nextFloat(); // (0, 1]
    const u2 = this.random.nextFloat();
    const radius = Math.sqrt(-2 * Math.log(u1));
    this.spare = radius * Math.sin(2 * Math.PI * u2);
    return radius * Math.cos(2 * Math.PI * u2);
  }
}

/**
 * NeMo's normalize_batch('per_feature') on a frame-major matrix, in place:
 * (x - mean) / (std + 1e-5) per bin over all frames. 'unbiased' divides the
 * variance by n - 1 and uses std 0 when n = 1 (NeMo maps the NaN to 0);
 * 'population' divides by n (sherpa-onnx).
 */
export function normalizePerFeature(
  data: Float32Array | Float64Array,
  numFrames: number,
  numBins: number,
  variance: 'unbiased' | 'population',
): void {
  if (numFrames === 0) return;
  // One pass of sums shifted by the first frame (no cancellation when the
  // values sit far from zero), then one pass applying (x - mean) / (std + eps).
  const shift = new Float64Array(numBins);
  const sums = new Float64Array(numBins);
  const squares = new Float64Array(numBins);
  for (let b = 0; b < numBins; b++) shift[b] = data[b]!;
  for (let f = 1; f < numFrames; f++) {
    const row = f * numBins;
    for (let b = 0; b < numBins; b++) {
      const d = data[row + b]! - shift[b]!;
      sums[b] += d;
      squares[b] += d * d;
    }
  }
  const denominator = variance === 'unbiased' ? numFrames - 1 : numFrames;
  const mean = new Float64Array(numBins);
  const inverseStd = new Float64Array(numBins);
  for (let b = 0; b < numBins; b++) {
    const sum = sums[b]!;
    mean[b] = shift[b]! + sum / numFrames;
    const spread = Math.max(0, squares[b]! - (sum * sum) / numFrames);
    const std = denominator > 0 ? Math.sqrt(spread / denominator) : 0;
    inverseStd[b] = 1 / (std + 1e-5);
  }
  for (let f = 0; f < numFrames; f++) {
    const row = f * numBins;
    for (let b = 0; b < numBins; b++) data[row + b] = (data[row + b]! - mean[b]!) * inverseStd[b]!;
  }
}
