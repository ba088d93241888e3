/**
 * A small band-limited resampler (Kaiser-windowed sinc), pure and deterministic.
 * Lives in util because `src/manifest` must not depend on `src/audio`; it is
 * for copying canary audio to a corpus sample rate, not for feature frontends.
 *
 * Output sample n sits at input time t = n * from / to. The low-pass cutoff is
 * the lower of the two Nyquist rates scaled by `rolloff`; the kernel spans
 * `halfWidth` zero crossings on each side.
 */
export interface ResampleOptions {
  /** Fraction of the lower Nyquist rate kept (default 0.95). */
  rolloff?: number;
  /** Zero crossings of the sinc kept on each side (default 16). */
  halfWidth?: number;
  /** Kaiser window beta (default 8.6, about 90 dB stop-band). */
  beta?: number;
}

export function resample(samples: Float32Array, fromRate: number, toRate: number, options: ResampleOptions = {}): Float32Array {
  if (!(fromRate > 0) || !(toRate > 0) || !Number.isFinite(fromRate) || !Number.isFinite(toRate)) {
    throw new RangeError(`resample: sample rates must be positive, got ${fromRate} -> ${toRate}`);
  }
  if (fromRate === toRate) return samples.slice();
  const rolloff = options.rolloff ?? 0.95;
  const zeroCrossings = options.halfWidth ?? 16;
  const beta = options.beta ?? 8.6;
  const cutoff = Math.min(1, toRate / fromRate) * rolloff; // in cycles per input sample * 2
  const span = zeroCrossings / cutoff; // kernel half-width in input samples
  const outputLength = Math.round((samples.length * toRate) / fromRate);
  const output = new Float32Array(outputLength);
  const step = fromRate / toRate;
  const i0Beta = besselI0(beta);
  for (let n = 0; n < outputLength; n++) {
    const t = n * step;
    const first = Math.max(0, Math.ceil(t - span));
    const last = Math.min(samples.length - 1, Math.floor(t + span));
    let sum = 0;
    for (let k = first; k <= last; k++) {
      const x = t - k;
      const ratio = x / span;
      const window = besselI0(beta * Math.sqrt(Math.max(0, 1 - ratio * ratio))) / i0Beta;
      sum += samples[k]! * cutoff * sinc(cutoff * x) * window;
    }
    output[n] = sum;
  }
  return output;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/** Modified Bessel function of the first kind, order 0 (power series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const quarterSquare = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= quarterSquare / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}
