/**
 * Kaiser-windowed sinc filters: the one implementation behind the resampler
 * (src/audio/resample.ts) and the anti-aliasing low-pass of the canary
 * stage's speed-up (src/canary/speedup-resample.ts). Pure functions.
 * Design formulas: J. F. Kaiser, "Nonrecursive digital filter design using
 * the I0-sinh window function" (1974), as in Oppenheim & Schafer 7.5.3.
 */

/** Zeroth-order modified Bessel function of the first kind (power series; converges fast for window betas). */
export function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const quarterSquare = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= quarterSquare / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** Normalized sinc: sin(pi x) / (pi x). */
export function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/** Kaiser window at `position` in [-1, 1] (0 outside); pass `i0Beta = besselI0(beta)` when calling it in a loop. */
export function kaiserWindow(position: number, beta: number, i0Beta = besselI0(beta)): number {
  const squared = position * position;
  if (squared > 1) return 0;
  return besselI0(beta * Math.sqrt(1 - squared)) / i0Beta;
}

/** Window beta for a stop-band attenuation in dB (Kaiser's empirical formula). */
export function kaiserBeta(attenuationDb: number): number {
  if (attenuationDb > 50) return 0.1102 * (attenuationDb - 8.7);
  if (attenuationDb >= 21) return 0.5842 * (attenuationDb - 21) ** 0.4 + 0.07886 * (attenuationDb - 21);
  return 0;
}

export interface LowPassDesign {
  /** Cut-off (-6 dB point) in Hz. */
  cutoffHz: number;
  /** Width of the transition band in Hz. */
  transitionHz: number;
  /** Stop-band attenuation in dB. */
  attenuationDb: number;
}

/**
 * Kaiser-windowed sinc low-pass FIR (odd length, linear phase, unit DC gain).
 * Length from Kaiser's formula N = (A - 8) / (2.285 * 2 pi df / fs) + 1.
 */
export function designLowPass(sampleRate: number, design: LowPassDesign): Float32Array {
  const { cutoffHz, transitionHz, attenuationDb } = design;
  if (!(cutoffHz > 0 && cutoffHz < sampleRate / 2))
    throw new RangeError(`low-pass cut-off ${cutoffHz} Hz must be in (0, ${sampleRate / 2})`);
  if (!(transitionHz > 0)) throw new RangeError(`transition width must be > 0, got ${transitionHz}`);
  const beta = kaiserBeta(attenuationDb);
  let length = Math.ceil((attenuationDb - 8) / (2.285 * 2 * Math.PI * (transitionHz / sampleRate))) + 1;
  if (length % 2 === 0) length++;
  const middle = (length - 1) / 2;
  const normalizedCutoff = cutoffHz / sampleRate;
  const i0Beta = besselI0(beta);
  const taps = new Float64Array(length);
  let sum = 0;
  for (let i = 0; i < length; i++) {
    const t = i - middle;
    taps[i] =
      2 *
      normalizedCutoff *
      sinc(2 * normalizedCutoff * t) *
      (middle === 0 ? 1 : kaiserWindow(t / middle, beta, i0Beta));
    sum += taps[i]!;
  }
  const result = new Float32Array(length);
  for (let i = 0; i < length; i++) result[i] = taps[i]! / sum;
  return result;
}

/** Linear-phase FIR filtering with the delay removed: output[i] is aligned with input[i]; zeros outside. */
export function filterZeroPhase(samples: Float32Array, taps: Float32Array): Float32Array {
  const n = samples.length;
  const m = taps.length;
  const delay = (m - 1) >> 1;
  const output = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // output[i] = sum_k taps[k] * samples[i + delay - k]
    const first = Math.max(0, i + delay - (n - 1));
    const last = Math.min(m - 1, i + delay);
    let acc = 0;
    for (let k = first; k <= last; k++) acc += taps[k]! * samples[i + delay - k]!;
    output[i] = acc;
  }
  return output;
}
