/**
 * Band-limited resampling by windowed-sinc interpolation (Kaiser window),
 * with the low-pass cutoff at 0.94 x the lower of the two Nyquist
 * frequencies, so downsampling is anti-aliased. The filter is tabulated once
 * at 512 points per zero crossing and read with linear interpolation.
 * Rational ratios (22050 -> 16000: 320 phases) get per-phase weights
 * precomputed, then each output sample is one ~95-tap dot product; other
 * ratios interpolate the table per tap.
 * Used by audio loading (recognition) and by src/manifest (canaries at the
 * corpus rate; verify). Measured in
 * test/audio/resample.test.ts: a tone above the new Nyquist loses far more
 * than 40 dB; an in-band tone keeps its frequency and amplitude.
 */
import { RoteError } from '../util/errors.ts';
import { besselI0, kaiserWindow, sinc } from './kaiser.ts';

/** Zero crossings of the sinc on each side. */
const HALF_WIDTH = 32;
const TABLE_STEPS = 512;
const KAISER_BETA = 8.0;
const ROLLOFF = 0.94;
/** Rational ratios with at most this many output phases use precomputed polyphase weights. */
const MAX_PHASES = 4096;

function gcd(a: number, b: number): number {
  if (!Number.isInteger(a) || !Number.isInteger(b)) return 1;
  while (b) [a, b] = [b, a % b];
  return a;
}

let kernelTable: Float64Array | undefined;
const polyphaseCache = new Map<string, Float64Array>();

/** sinc(u) * kaiser(u / HALF_WIDTH) for u = i / TABLE_STEPS, i = 0..HALF_WIDTH * TABLE_STEPS (+1 guard). */
function kernel(): Float64Array {
  if (kernelTable) return kernelTable;
  const size = HALF_WIDTH * TABLE_STEPS + 2;
  const table = new Float64Array(size);
  const i0Beta = besselI0(KAISER_BETA);
  for (let i = 0; i < size; i++) {
    const u = i / TABLE_STEPS;
    if (u >= HALF_WIDTH) continue;
    table[i] = sinc(u) * kaiserWindow(u / HALF_WIDTH, KAISER_BETA, i0Beta);
  }
  kernelTable = table;
  return table;
}

/**
 * Resamples mono samples from `fromRate` to `toRate` Hz: ceil(n * toRate / fromRate)
 * samples, output m at input time m * fromRate / toRate. Returns the input itself
 * when the rates are equal.
 */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  for (const [name, rate] of [
    ['fromRate', fromRate],
    ['toRate', toRate],
  ] as const) {
    if (!Number.isFinite(rate) || rate <= 0)
      throw new RoteError(`resample: ${name} must be a positive number of Hz, got ${rate}`);
  }
  if (fromRate === toRate) return samples;
  const table = kernel();
  const n = samples.length;
  const outLength = Math.ceil((n * toRate) / fromRate - 1e-9);
  const out = new Float32Array(outLength);
  // Cutoff in cycles per input sample; zero crossings of the sinc fall every 1 / (2 fc) input samples.
  const fc = (ROLLOFF * Math.min(fromRate, toRate)) / 2 / fromRate;
  const gain = 2 * fc;
  const crossingsPerSample = 2 * fc;
  const reach = HALF_WIDTH / crossingsPerSample; // input samples on each side
  const taps = (x: number): number => {
    const position = Math.abs(x) * crossingsPerSample * TABLE_STEPS;
    const index = Math.floor(position);
    if (index >= HALF_WIDTH * TABLE_STEPS) return 0;
    const fraction = position - index;
    return (table[index]! + fraction * (table[index + 1]! - table[index]!)) * gain;
  };
  const divisor = gcd(fromRate, toRate);
  const up = Number.isInteger(fromRate) && Number.isInteger(toRate) ? toRate / divisor : Infinity;
  if (up <= MAX_PHASES) {
    // Polyphase: output m sits at input position (m * down) / up; its fractional part takes
    // one of `up` values, so each phase's weights are computed once.
    const down = fromRate / divisor;
    const radius = Math.ceil(reach) + 1;
    const width = 2 * radius + 1;
    const key = `${fromRate}->${toRate}`;
    let weights = polyphaseCache.get(key);
    if (!weights) {
      weights = new Float64Array(up * width);
      for (let phase = 0; phase < up; phase++) {
        const fraction = phase / up;
        for (let r = -radius; r <= radius; r++) weights[phase * width + r + radius] = taps(fraction - r);
      }
      if (polyphaseCache.size >= 8) polyphaseCache.delete(polyphaseCache.keys().next().value!);
      polyphaseCache.set(key, weights);
    }
    for (let m = 0; m < outLength; m++) {
      const position = m * down;
      const base = Math.floor(position / up);
      const phase = position - base * up;
      const row = phase * width - (base - radius);
      const first = Math.max(0, base - radius);
      const last = Math.min(n - 1, base + radius);
      let sum = 0;
      for (let i = first; i <= last; i++) sum += samples[i]! * weights[row + i]!;
      out[m] = sum;
    }
    return out;
  }
  const step = fromRate / toRate;
  for (let m = 0; m < outLength; m++) {
    const t = m * step;
    const first = Math.max(0, Math.ceil(t - reach));
    const last = Math.min(n - 1, Math.floor(t + reach));
    let sum = 0;
    for (let i = first; i <= last; i++) sum += samples[i]! * taps(t - i);
    out[m] = sum;
  }
  return out;
}
