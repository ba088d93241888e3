/**
 * Speed-up by resampling (pitch rises with the speed, like playing a tape
 * faster): a windowed-sinc low-pass, then node-web-audio-api's
 * OfflineAudioContext plays the buffer at `playbackRate = factor` into the
 * output rate. The web-audio source resamples without any anti-aliasing
 * filter (a 3 kHz tone sped up 3x into 16 kHz aliases to 7 kHz at full
 * amplitude), so everything that would land above the output Nyquist is
 * removed first, at the input rate.
 */
import { OfflineAudioContext } from 'node-web-audio-api';

export interface LowPassDesign {
  /** Cut-off (-6 dB point) in Hz. */
  cutoffHz: number;
  /** Width of the transition band in Hz. */
  transitionHz: number;
  /** Stop-band attenuation in dB. */
  attenuationDb: number;
}

/** Zeroth-order modified Bessel function of the first kind (series; converges fast for Kaiser betas). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const quarterSquare = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= quarterSquare / (k * k);
    sum += term;
    if (term < sum * 1e-16) break;
  }
  return sum;
}

/**
 * Kaiser-windowed sinc low-pass FIR (odd length, linear phase, unit DC gain).
 * Length and beta from Kaiser's formulas: N = (A - 8) / (2.285 * 2*pi*df/fs) + 1,
 * beta = 0.1102 (A - 8.7) for A > 50.
 */
export function designLowPass(sampleRate: number, design: LowPassDesign): Float32Array {
  const { cutoffHz, transitionHz, attenuationDb } = design;
  if (!(cutoffHz > 0 && cutoffHz < sampleRate / 2)) throw new RangeError(`low-pass cut-off ${cutoffHz} Hz must be in (0, ${sampleRate / 2})`);
  if (!(transitionHz > 0)) throw new RangeError(`transition width must be > 0, got ${transitionHz}`);
  const beta = attenuationDb > 50 ? 0.1102 * (attenuationDb - 8.7) : attenuationDb >= 21 ? 0.5842 * (attenuationDb - 21) ** 0.4 + 0.07886 * (attenuationDb - 21) : 0;
  let length = Math.ceil((attenuationDb - 8) / (2.285 * 2 * Math.PI * (transitionHz / sampleRate))) + 1;
  if (length % 2 === 0) length++;
  const middle = (length - 1) / 2;
  const normalizedCutoff = cutoffHz / sampleRate;
  const taps = new Float64Array(length);
  const windowNorm = besselI0(beta);
  let sum = 0;
  for (let i = 0; i < length; i++) {
    const t = i - middle;
    const sinc = t === 0 ? 2 * normalizedCutoff : Math.sin(2 * Math.PI * normalizedCutoff * t) / (Math.PI * t);
    const ratio = t / middle;
    const window = besselI0(beta * Math.sqrt(Math.max(0, 1 - ratio * ratio))) / windowNorm;
    taps[i] = sinc * window;
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

/** The anti-aliasing filter used before a `factor`x speed-up into `outputRate` (stop band from the new Nyquist, 60 dB). */
export function antiAliasDesign(inputRate: number, factor: number, outputRate: number): LowPassDesign | null {
  const stopHz = outputRate / (2 * factor);
  if (stopHz >= inputRate / 2) return null;
  return { cutoffHz: 0.9 * stopHz, transitionHz: 0.2 * stopHz, attenuationDb: 60 };
}

/** Speeds up `samples` by `factor` with pitch change: low-pass, then web-audio playbackRate into `outputRate`. */
export async function resampleSpeedUp(samples: Float32Array, sampleRate: number, options: { factor: number; outputRate: number }): Promise<Float32Array> {
  const { factor, outputRate } = options;
  const design = antiAliasDesign(sampleRate, factor, outputRate);
  const filtered = design ? filterZeroPhase(samples, designLowPass(sampleRate, design)) : samples;
  const length = Math.max(1, Math.round((samples.length / sampleRate / factor) * outputRate));
  const context = new OfflineAudioContext({ numberOfChannels: 1, length, sampleRate: outputRate });
  const buffer = context.createBuffer(1, Math.max(1, filtered.length), sampleRate);
  buffer.copyToChannel(filtered as Float32Array<ArrayBuffer>, 0);
  const source = context.createBufferSource();
  source.buffer = buffer;
  source.playbackRate.value = factor;
  source.connect(context.destination);
  source.start(0);
  const rendered = await context.startRendering();
  return Float32Array.from(rendered.getChannelData(0));
}
