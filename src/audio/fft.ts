/**
 * Power spectra of real frames: |X_k|^2 for k = 0..n/2 of an n-point real DFT.
 *
 * Two implementations with one interface: a hand-written real FFT (an
 * n/2-point complex FFT on the even/odd samples packed as re/im: a radix-4
 * first pass reading the frame in bit-reversed order, then radix-2 stages
 * fused in pairs; then the standard split into the real spectrum) and an
 * adapter over fft.js's `realTransform`.
 * Frontends use `createPowerSpectrum`, which picks the hand-written one: on this
 * machine (Node 20, n = 512, `node --import tsx scripts/parity/fft-bench.ts`)
 * fft.js took 2.24x its time (each timed in its own process; numbers in
 * scripts/parity/README.md), because the hand-written one needs no
 * interleaved complex output array and computes the power directly in the
 * real-split step.
 * Lengths that are not powers of two (Whisper's 400) take `createMixedRadixPowerSpectrum`.
 * All three are checked against a direct DFT in test/audio/fft.test.ts.
 */
import { createRequire } from 'node:module';

export interface PowerSpectrum {
  /** Transform length n (a power of two, >= 8). */
  readonly size: number;
  /** Writes |X_k|^2, k = 0..n/2, of `frame` (length n, not modified) into `power` (length n/2 + 1). */
  compute(frame: Float64Array, power: Float64Array): void;
}

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size < 8 || (size & (size - 1)) !== 0) {
    throw new RangeError(`FFT size must be a power of two >= 8, got ${size}`);
  }
}

/** For each index i < half, i with its log2(half) bits reversed: the order the first pass reads the frame in. */
function bitReversalTable(half: number): Uint32Array {
  const bits = Math.log2(half);
  const bitReversed = new Uint32Array(half);
  for (let i = 0; i < half; i++) {
    let reversed = 0;
    for (let b = 0; b < bits; b++) if (i & (1 << b)) reversed |= 1 << (bits - 1 - b);
    bitReversed[i] = reversed;
  }
  return bitReversed;
}

/** One pass of the half-size complex FFT after its radix-4 first pass: stages of span and 2 span fused, or the last stage alone. */
interface ButterflyPass {
  span: number;
  /** Where this pass's twiddles start in the w1/w2 arrays. */
  offset: number;
  fused: boolean;
}

interface ButterflyPlan {
  passes: ButterflyPass[];
  w1Cos: Float64Array;
  w1Sin: Float64Array;
  w2Cos: Float64Array;
  w2Sin: Float64Array;
}

/**
 * Twiddles of the half-size complex FFT after its first two stages. Stages
 * of span s and 2s (s = 4, 16, 64, ...) run fused as one pass ("radix-2^2":
 * one sweep over memory instead of two), with w1 = e^{-i pi k / s} and
 * w2 = e^{-i pi k / 2s}, k < s, stored contiguously per pass. When the
 * stage count is odd, the last stage (span half / 2) runs alone with w1.
 */
function planButterflyPasses(half: number): ButterflyPlan {
  const passes: ButterflyPass[] = [];
  let twiddleCount = 0;
  for (let span = 4; span < half; span <<= 2) {
    const fused = 2 * span < half;
    passes.push({ span, offset: twiddleCount, fused });
    twiddleCount += span;
  }
  const w1Cos = new Float64Array(Math.max(1, twiddleCount));
  const w1Sin = new Float64Array(Math.max(1, twiddleCount));
  const w2Cos = new Float64Array(Math.max(1, twiddleCount));
  const w2Sin = new Float64Array(Math.max(1, twiddleCount));
  for (const { span, offset } of passes) {
    for (let k = 0; k < span; k++) {
      w1Cos[offset + k] = Math.cos((Math.PI * k) / span);
      w1Sin[offset + k] = -Math.sin((Math.PI * k) / span);
      w2Cos[offset + k] = Math.cos((Math.PI * k) / (2 * span));
      w2Sin[offset + k] = -Math.sin((Math.PI * k) / (2 * span));
    }
  }
  return { passes, w1Cos, w1Sin, w2Cos, w2Sin };
}

/** Split twiddles of the full-size real transform: e^{-2 pi i k / size}, k <= size / 2. */
function realSplitTwiddles(size: number): { splitCos: Float64Array; splitSin: Float64Array } {
  const half = size / 2;
  const splitCos = new Float64Array(half + 1);
  const splitSin = new Float64Array(half + 1);
  for (let k = 0; k <= half; k++) {
    splitCos[k] = Math.cos((2 * Math.PI * k) / size);
    splitSin[k] = -Math.sin((2 * Math.PI * k) / size);
  }
  return { splitCos, splitSin };
}

/**
 * The hand-written real FFT (preferred; see the module comment for why). The
 * tables are built once here; `compute` is one closure over them with every
 * loop inline (no calls per frame).
 */
export function createRealFftPowerSpectrum(size: number): PowerSpectrum {
  checkSize(size);
  const half = size / 2;
  const bitReversed = bitReversalTable(half);
  const { passes, w1Cos, w1Sin, w2Cos, w2Sin } = planButterflyPasses(half);
  const { splitCos, splitSin } = realSplitTwiddles(size);
  const re = new Float64Array(half);
  const im = new Float64Array(half);

  function compute(frame: Float64Array, power: Float64Array): void {
    // First two stages have trivial twiddles (1 and -i): one radix-4 pass,
    // reading its inputs straight from the frame in bit-reversed order
    // (z[j] = frame[2j] + i frame[2j + 1]).
    for (let a = 0; a < half; a += 4) {
      const p0 = 2 * bitReversed[a]!,
        p1 = 2 * bitReversed[a + 1]!,
        p2 = 2 * bitReversed[a + 2]!,
        p3 = 2 * bitReversed[a + 3]!;
      const r0 = frame[p0]!,
        i0 = frame[p0 + 1]!,
        r1 = frame[p1]!,
        i1 = frame[p1 + 1]!;
      const r2 = frame[p2]!,
        i2 = frame[p2 + 1]!,
        r3 = frame[p3]!,
        i3 = frame[p3 + 1]!;
      const s0r = r0 + r1,
        s0i = i0 + i1,
        d0r = r0 - r1,
        d0i = i0 - i1;
      const s1r = r2 + r3,
        s1i = i2 + i3,
        d1r = r2 - r3,
        d1i = i2 - i3;
      re[a] = s0r + s1r;
      im[a] = s0i + s1i;
      re[a + 2] = s0r - s1r;
      im[a + 2] = s0i - s1i;
      // d1 * (-i) = (d1i, -d1r)
      re[a + 1] = d0r + d1i;
      im[a + 1] = d0i - d1r;
      re[a + 3] = d0r - d1i;
      im[a + 3] = d0i + d1r;
    }
    for (const { span, offset, fused } of passes) {
      if (!fused) {
        for (let k = 0; k < span; k++) {
          const wr = w1Cos[offset + k]!;
          const wi = w1Sin[offset + k]!;
          for (let a = k; a < half; a += 2 * span) {
            const b = a + span;
            const rb = re[b]!,
              ib = im[b]!;
            const br = rb * wr - ib * wi;
            const bi = rb * wi + ib * wr;
            const ra = re[a]!,
              ia = im[a]!;
            re[b] = ra - br;
            im[b] = ia - bi;
            re[a] = ra + br;
            im[a] = ia + bi;
          }
        }
        continue;
      }
      const step = 4 * span;
      for (let k = 0; k < span; k++) {
        const ar = w1Cos[offset + k]!,
          ai = w1Sin[offset + k]!;
        const br = w2Cos[offset + k]!,
          bi = w2Sin[offset + k]!;
        for (let i0 = k; i0 < half; i0 += step) {
          const i1 = i0 + span,
            i2 = i1 + span,
            i3 = i2 + span;
          // Stage of span s: (x0, x1) and (x2, x3) with w1.
          const r1 = re[i1]!,
            m1 = im[i1]!,
            r3 = re[i3]!,
            m3 = im[i3]!;
          const t1r = r1 * ar - m1 * ai,
            t1i = r1 * ai + m1 * ar;
          const t3r = r3 * ar - m3 * ai,
            t3i = r3 * ai + m3 * ar;
          const r0 = re[i0]!,
            m0 = im[i0]!,
            r2 = re[i2]!,
            m2 = im[i2]!;
          const y0r = r0 + t1r,
            y0i = m0 + t1i,
            y1r = r0 - t1r,
            y1i = m0 - t1i;
          const y2r = r2 + t3r,
            y2i = m2 + t3i,
            y3r = r2 - t3r,
            y3i = m2 - t3i;
          // Stage of span 2s: (y0, y2) with w2, (y1, y3) with w2 * (-i).
          const u2r = y2r * br - y2i * bi,
            u2i = y2r * bi + y2i * br;
          const v3r = y3r * br - y3i * bi,
            v3i = y3r * bi + y3i * br;
          re[i0] = y0r + u2r;
          im[i0] = y0i + u2i;
          re[i2] = y0r - u2r;
          im[i2] = y0i - u2i;
          // (-i) v3 = (v3i, -v3r)
          re[i1] = y1r + v3i;
          im[i1] = y1i - v3r;
          re[i3] = y1r - v3i;
          im[i3] = y1i + v3r;
        }
      }
    }
    // X[0] = Re Z[0] + Im Z[0]; X[half] = Re Z[0] - Im Z[0].
    const dc = re[0]! + im[0]!;
    const nyquist = re[0]! - im[0]!;
    power[0] = dc * dc;
    power[half] = nyquist * nyquist;
    for (let k = 1; k < half; k++) {
      const zr = re[k]!;
      const zi = im[k]!;
      const cr = re[half - k]!;
      const ci = -im[half - k]!; // conj(Z[half-k])
      const evenR = 0.5 * (zr + cr);
      const evenI = 0.5 * (zi + ci);
      // (Z[k] - conj Z[half-k]) / (2i) = (dI, -dR) / 2
      const oddR = 0.5 * (zi - ci);
      const oddI = -0.5 * (zr - cr);
      const wr = splitCos[k]!;
      const wi = splitSin[k]!;
      const xr = evenR + oddR * wr - oddI * wi;
      const xi = evenI + oddR * wi + oddI * wr;
      power[k] = xr * xr + xi * xi;
    }
  }
  return { size, compute };
}

interface FftJsInstance {
  createComplexArray(): number[];
  realTransform(out: number[] | Float64Array, data: ArrayLike<number>): void;
}
type FftJsConstructor = new (size: number) => FftJsInstance;

/** fft.js's radix-4 real transform behind the same interface (kept for the benchmark and as a cross-check). */
export function createFftJsPowerSpectrum(size: number): PowerSpectrum {
  checkSize(size);
  const FFT = createRequire(import.meta.url)('fft.js') as FftJsConstructor;
  const fft = new FFT(size);
  const out = new Float64Array(2 * size);
  const half = size / 2;
  function compute(frame: Float64Array, power: Float64Array): void {
    fft.realTransform(out, frame);
    for (let k = 0; k <= half; k++) {
      const r = out[2 * k]!;
      const i = out[2 * k + 1]!;
      power[k] = r * r + i * i;
    }
  }
  return { size, compute };
}

/** The implementation frontends use. */
export function createPowerSpectrum(size: number): PowerSpectrum {
  return createRealFftPowerSpectrum(size);
}

/** The prime factors of `size`, pairs of 2 taken as one radix 4: the radices of the mixed-radix DFT, outermost first. */
function mixedRadices(size: number): number[] {
  const radices: number[] = [];
  let rest = size;
  while (rest % 4 === 0) {
    radices.push(4);
    rest /= 4;
  }
  for (let p = 2; rest > 1; p++)
    while (rest % p === 0) {
      radices.push(p);
      rest /= p;
    }
  return radices;
}

/**
 * Power spectra for any frame length, not only powers of two (Whisper's n_fft is 400): an
 * iterative mixed-radix Cooley-Tukey DFT. The radices are the length's prime factors (pairs
 * of 2 as 4; 400 = 4 x 4 x 5 x 5); the frame is read in mixed-radix digit-reversed order, then
 * one in-place pass per radix, innermost first, each butterfly a direct r-point DFT with its
 * twiddles folded into one table per pass. For n = 400 that is n (4 + 4 + 5 + 5) = 7200 complex
 * multiply-adds per frame, against n (n/2 + 1) = 80400 of a direct DFT. Pure apart from its buffers.
 */
export function createMixedRadixPowerSpectrum(size: number): PowerSpectrum {
  if (!Number.isInteger(size) || size < 2) throw new RangeError(`DFT size must be an integer >= 2, got ${size}`);
  const radices = mixedRadices(size);
  const order = new Uint32Array(size);
  for (let i = 0; i < size; i++) {
    let rest = i;
    let index = 0;
    let span = size;
    for (const r of radices) {
      span /= r;
      index += (rest % r) * span;
      rest = Math.floor(rest / r);
    }
    order[index] = i;
  }
  // Pass p combines r sub-spectra of length `inner` into spectra of length inner * r:
  // X[s inner + k] = sum_q Y_q[k] e^{-2 pi i q (s inner + k) / (inner r)}, the factor stored at ((k r + s) r + q).
  const passes = [...radices].reverse().map((r, p, inOrder) => {
    const inner = inOrder.slice(0, p).reduce((a, b) => a * b, 1);
    const length = inner * r;
    const cos = new Float64Array(inner * r * r);
    const sin = new Float64Array(inner * r * r);
    for (let k = 0; k < inner; k++)
      for (let s = 0; s < r; s++)
        for (let q = 0; q < r; q++) {
          const angle = (-2 * Math.PI * ((q * (s * inner + k)) % length)) / length;
          cos[(k * r + s) * r + q] = Math.cos(angle);
          sin[(k * r + s) * r + q] = Math.sin(angle);
        }
    return { r, inner, length, cos, sin };
  });
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  const inRe = new Float64Array(Math.max(...radices));
  const inIm = new Float64Array(inRe.length);
  return {
    size,
    compute(frame: Float64Array, power: Float64Array): void {
      for (let i = 0; i < size; i++) re[i] = frame[order[i]!]!;
      im.fill(0);
      for (const { r, inner, length, cos, sin } of passes) {
        for (let block = 0; block < size; block += length)
          for (let k = 0; k < inner; k++) {
            for (let q = 0; q < r; q++) {
              inRe[q] = re[block + q * inner + k]!;
              inIm[q] = im[block + q * inner + k]!;
            }
            for (let s = 0; s < r; s++) {
              const base = (k * r + s) * r;
              let sumRe = 0;
              let sumIm = 0;
              for (let q = 0; q < r; q++) {
                const c = cos[base + q]!;
                const sn = sin[base + q]!;
                sumRe += inRe[q]! * c - inIm[q]! * sn;
                sumIm += inRe[q]! * sn + inIm[q]! * c;
              }
              re[block + s * inner + k] = sumRe;
              im[block + s * inner + k] = sumIm;
            }
          }
      }
      for (let k = 0; k <= size >> 1; k++) power[k] = re[k]! * re[k]! + im[k]! * im[k]!;
    },
  };
}
