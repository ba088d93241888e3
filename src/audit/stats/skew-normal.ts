/**
 * The skew-normal distribution (Azzalini 1985) with location xi, scale omega,
 * shape alpha: pdf(x) = 2 / omega * phi(z) * Phi(alpha z), z = (x - xi) / omega;
 * CDF(x) = Phi(z) - 2 T(z, alpha) with Owen's T. Fitted by maximum likelihood
 * (Nelder-Mead from a method-of-moments start), as TensorFlow Privacy's
 * extrapolated exposure does with scipy.stats.skewnorm.fit.
 */
import { integrate, logNormalCdf, logNormalPdf, normalCdf, owensT } from './normal.ts';
import { nelderMead } from './optimize.ts';
import type { SeededRandom } from '../../util/random.ts';

export interface SkewNormalParameters {
  location: number;
  scale: number;
  shape: number;
}

/** |shape| is kept below this in fits: with few references the likelihood can keep rising towards a half-normal. */
export const MAX_FIT_SHAPE = 100;

export function skewNormalLogPdf(x: number, { location, scale, shape }: SkewNormalParameters): number {
  const z = (x - location) / scale;
  return Math.LN2 - Math.log(scale) + logNormalPdf(z) + logNormalCdf(shape * z);
}

export function skewNormalCdf(x: number, { location, scale, shape }: SkewNormalParameters): number {
  const z = (x - location) / scale;
  if (z === -Infinity) return 0;
  if (z === Infinity) return 1;
  return Math.min(1, Math.max(0, normalCdf(z) - 2 * owensT(z, shape)));
}

/**
 * log CDF(x). Where the CDF is below 1e-6 (the lower tail, where Phi(z) - 2T
 * cancels), it is integrated directly: log CDF(x) = log pdf(x) +
 * log integral_0^inf pdf(x - u) / pdf(x) du. The log-density is concave, so the
 * integrand falls at least as fast as exp(-s u), s = d log pdf / dx at x.
 */
export function skewNormalLogCdf(x: number, parameters: SkewNormalParameters): number {
  const cdf = skewNormalCdf(x, parameters);
  const { location, scale, shape } = parameters;
  const z = (x - location) / scale;
  if (cdf >= 1e-6 || !Number.isFinite(z)) return Math.log(cdf);
  const inverseMills = Math.exp(logNormalPdf(shape * z) - logNormalCdf(shape * z));
  const slope = (-z + shape * inverseMills) / scale;
  if (!(slope > 0)) return Math.log(cdf);
  const logPdfAtX = skewNormalLogPdf(x, parameters);
  const span = 60 / slope;
  const ratio = integrate((u) => Math.exp(skewNormalLogPdf(x - u, parameters) - logPdfAtX), 0, span, 48);
  return logPdfAtX + Math.log(ratio);
}

export function skewNormalMoments({ location, scale, shape }: SkewNormalParameters): {
  mean: number;
  variance: number;
  skewness: number;
} {
  const delta = shape / Math.sqrt(1 + shape * shape);
  const b = delta * Math.sqrt(2 / Math.PI);
  const mean = location + scale * b;
  const variance = scale * scale * (1 - b * b);
  const skewness = ((4 - Math.PI) / 2) * (b ** 3 / (1 - b * b) ** 1.5);
  return { mean, variance, skewness };
}

/** One draw: xi + omega (delta |U0| + sqrt(1 - delta^2) U1), U0, U1 standard normal (Box-Muller). */
export function sampleSkewNormal(random: SeededRandom, { location, scale, shape }: SkewNormalParameters): number {
  const delta = shape / Math.sqrt(1 + shape * shape);
  const radius = Math.sqrt(-2 * Math.log(1 - random.nextFloat()));
  const angle = 2 * Math.PI * random.nextFloat();
  const u0 = radius * Math.cos(angle);
  const u1 = radius * Math.sin(angle);
  return location + scale * (delta * Math.abs(u0) + Math.sqrt(1 - delta * delta) * u1);
}

export type SkewNormalFit =
  | {
      ok: true;
      parameters: SkewNormalParameters;
      logLikelihood: number;
      iterations: number;
      converged: boolean;
      shapeAtBound: boolean;
    }
  | { ok: false; reason: string };

/** Method-of-moments start: the sample skewness, clipped to what a skew-normal can reach, gives delta. */
export function skewNormalMomentStart(values: ArrayLike<number>): SkewNormalParameters {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]! / n;
  let m2 = 0;
  let m3 = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i]! - mean;
    m2 += (d * d) / n;
    m3 += (d * d * d) / n;
  }
  const sd = Math.sqrt(m2);
  const maxSkew = 0.99;
  const skew = Math.max(-maxSkew, Math.min(maxSkew, m2 > 0 ? m3 / m2 ** 1.5 : 0));
  const g = Math.abs(skew) ** (2 / 3);
  const absDelta = Math.sqrt((Math.PI / 2) * (g / (g + ((4 - Math.PI) / 2) ** (2 / 3))));
  const delta = Math.sign(skew) * absDelta;
  const shape = delta / Math.sqrt(1 - delta * delta);
  const scale = sd / Math.sqrt(1 - (2 * delta * delta) / Math.PI);
  const location = mean - scale * delta * Math.sqrt(2 / Math.PI);
  return { location, scale, shape };
}

/** Maximum-likelihood fit; refuses fewer than 3 distinct values (no spread to fit). */
export function fitSkewNormal(values: ArrayLike<number>): SkewNormalFit {
  const data = Float64Array.from(values);
  if (data.some((value) => !Number.isFinite(value))) return { ok: false, reason: 'a reference score is not finite' };
  if (new Set(data).size < 3)
    return {
      ok: false,
      reason: `the references have ${new Set(data).size} distinct value(s); a skew-normal fit needs at least 3`,
    };

  const toParameters = ([location, logScale, free]: number[]): SkewNormalParameters => ({
    location: location!,
    scale: Math.exp(logScale!),
    shape: MAX_FIT_SHAPE * Math.tanh(free! / MAX_FIT_SHAPE),
  });
  const negativeLogLikelihood = (point: number[]): number => {
    const parameters = toParameters(point);
    let sum = 0;
    for (let i = 0; i < data.length; i++) sum -= skewNormalLogPdf(data[i]!, parameters);
    return sum;
  };
  const fromParameters = (p: SkewNormalParameters): number[] => [
    p.location,
    Math.log(p.scale),
    MAX_FIT_SHAPE * Math.atanh(p.shape / MAX_FIT_SHAPE),
  ];

  const mean = data.reduce((sum, value) => sum + value, 0) / data.length;
  const sd = Math.sqrt(data.reduce((sum, value) => sum + (value - mean) ** 2, 0) / data.length);
  const starts = [skewNormalMomentStart(data), { location: mean, scale: sd, shape: 0 }];
  let best: ReturnType<typeof nelderMead> | null = null;
  for (const start of starts) {
    let result = nelderMead(negativeLogLikelihood, fromParameters(start), {
      step: [0.25 * start.scale, 0.25, 1],
      maxIterations: 3000,
    });
    // A restart from the optimum shakes Nelder-Mead out of a collapsed simplex.
    result = nelderMead(negativeLogLikelihood, result.point, {
      step: [0.05 * Math.exp(result.point[1]!), 0.05, 0.5],
      maxIterations: 3000,
    });
    if (!best || result.value < best.value) best = result;
  }
  const parameters = toParameters(best!.point);
  return {
    ok: true,
    parameters,
    logLikelihood: -best!.value,
    iterations: best!.iterations,
    converged: best!.converged,
    shapeAtBound: Math.abs(parameters.shape) > 0.99 * MAX_FIT_SHAPE,
  };
}
