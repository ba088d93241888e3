/**
 * The standard normal distribution, accurate in both tails, and Owen's T function.
 *
 * The body of the normal CDF comes from jStat. jStat computes the lower tail as
 * 0.5 * (1 + erf(x / sqrt 2)), which cancels to garbage below about x = -6, and
 * exposure lives in exactly that tail; so for |x| >= 3 the tail probability is
 * phi(x) * R(|x|) with R Mills' ratio from its continued fraction
 * R(x) = 1 / (x + 1 / (x + 2 / (x + 3 / (x + ...)))), evaluated from the back.
 */
import { createRequire } from 'node:module';

interface JStatSubset {
  normal: {
    cdf(x: number, mean: number, sd: number): number;
    pdf(x: number, mean: number, sd: number): number;
    inv(p: number, mean: number, sd: number): number;
  };
}
// jstat ships no types; its CommonJS export is loaded like wavefile's.
const { jStat } = createRequire(import.meta.url)('jstat') as { jStat: JStatSubset };

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const TAIL_START = 3;

export function normalPdf(x: number): number {
  return jStat.normal.pdf(x, 0, 1);
}

export function logNormalPdf(x: number): number {
  return -0.5 * x * x - LOG_SQRT_2PI;
}

/** Mills' ratio Q(x) / phi(x) for x >= TAIL_START (terms: twice what full double precision needs at each x). */
function millsRatio(x: number): number {
  let tail = x;
  for (let k = Math.ceil(16 + 800 / (x * x)); k >= 1; k--) tail = x + k / tail;
  return 1 / tail;
}

/** Phi(x), with full relative precision in the lower tail down to about -37. */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= -TAIL_START) return Math.exp(logNormalCdf(x));
  if (x >= TAIL_START) return 1 - normalPdf(x) * millsRatio(x);
  return jStat.normal.cdf(x, 0, 1);
}

/** log Phi(x), finite for every finite x. */
export function logNormalCdf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x === -Infinity) return -Infinity;
  if (x <= -TAIL_START) return logNormalPdf(x) + Math.log(millsRatio(-x));
  if (x >= TAIL_START) return Math.log1p(-normalPdf(x) * millsRatio(x));
  return Math.log(jStat.normal.cdf(x, 0, 1));
}

/** Quantile of the standard normal (jStat), e.g. 1.959964 for p = 0.975. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile(${p}): p must be in (0, 1)`);
  return jStat.normal.inv(p, 0, 1);
}

// Gauss-Legendre nodes and weights on [-1, 1], by Newton's method on P_n.
function gaussLegendre(n: number): { nodes: Float64Array; weights: Float64Array } {
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let derivative = 0;
    for (let iteration = 0; iteration < 100; iteration++) {
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      derivative = (n * (x * p1 - p0)) / (x * x - 1);
      const step = p1 / derivative;
      x -= step;
      if (Math.abs(step) < 1e-16) break;
    }
    nodes[i] = x;
    weights[i] = 2 / ((1 - x * x) * derivative * derivative);
  }
  return { nodes, weights };
}

const GL = gaussLegendre(20);

/** Integral of f over [a, b] by composite 20-point Gauss-Legendre on `panels` equal panels. */
export function integrate(f: (x: number) => number, a: number, b: number, panels: number): number {
  const width = (b - a) / panels;
  let total = 0;
  for (let p = 0; p < panels; p++) {
    const middle = a + (p + 0.5) * width;
    let sum = 0;
    for (let i = 0; i < GL.nodes.length; i++) sum += GL.weights[i]! * f(middle + 0.5 * width * GL.nodes[i]!);
    total += 0.5 * width * sum;
  }
  return total;
}

/**
 * Owen's T function T(h, a) = (1 / 2 pi) * integral_0^a exp(-h^2 (1 + x^2) / 2) / (1 + x^2) dx.
 *
 * |a| <= 1: the integral by Gauss-Legendre, cut where the integrand falls
 * below e^-72 of its peak (x = 12 / |h|), so large h stays resolved.
 * |a| > 1: Owen's (1956) identity for h >= 0, a > 0,
 * T(h, a) = (Q(h) + Q(ah)) / 2 - Q(h) Q(ah) - T(ah, 1/a), with Q = 1 - Phi,
 * and T even in h, odd in a.
 */
export function owensT(h: number, a: number): number {
  if (Number.isNaN(h) || Number.isNaN(a)) return Number.NaN;
  if (a === 0) return 0;
  if (a < 0) return -owensT(h, -a);
  h = Math.abs(h);
  if (a === Infinity) return h === 0 ? 0.25 : 0.5 * normalCdf(-h);
  if (h === 0) return Math.atan(a) / (2 * Math.PI);
  if (a <= 1) {
    const upper = Math.min(a, 12 / h);
    const halfH2 = 0.5 * h * h;
    const integral = integrate((x) => Math.exp(-halfH2 * (1 + x * x)) / (1 + x * x), 0, upper, 8);
    return integral / (2 * Math.PI);
  }
  const ah = a * h;
  const qh = normalCdf(-h);
  const qah = normalCdf(-ah);
  return 0.5 * (qh + qah) - qh * qah - owensT(ah, 1 / a);
}
