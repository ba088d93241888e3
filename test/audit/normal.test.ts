import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { logNormalCdf, normalCdf, normalQuantile, owensT } from '../../src/audit/stats/normal.ts';
import {
  fitSkewNormal,
  sampleSkewNormal,
  skewNormalCdf,
  skewNormalLogCdf,
  skewNormalMoments,
} from '../../src/audit/stats/skew-normal.ts';
import { nelderMead } from '../../src/audit/stats/optimize.ts';
import { SeededRandom } from '../../src/util/random.ts';

interface References {
  publishedOwensT: { h: number; a: number; value: number }[];
  owensT: { h: number; a: number; value: number }[];
  logNormalCdf: { x: number; value: number }[];
  skewNormal: { x: number; location: number; scale: number; shape: number; cdf: number; logCdf: number | null }[];
}
const references = JSON.parse(
  readFileSync(new URL('./fixtures/reference-values.json', import.meta.url), 'utf8'),
) as References;

function assertRelative(actual: number, expected: number, tolerance: number, label: string): void {
  const error = Math.abs(actual - expected) / Math.max(Math.abs(expected), Number.MIN_VALUE);
  assert.ok(error <= tolerance, `${label}: ${actual} vs ${expected} (relative error ${error})`);
}

test("Owen's T matches Patefield & Tandy's published values", () => {
  for (const { h, a, value } of references.publishedOwensT) assertRelative(owensT(h, a), value, 1e-12, `T(${h}, ${a})`);
});

test("Owen's T matches 50-digit quadrature over a grid, including a > 1 and negative a", () => {
  for (const { h, a, value } of references.owensT) {
    if (value < 1e-300) continue;
    assertRelative(owensT(h, a), value, 1e-10, `T(${h}, ${a})`);
    assertRelative(owensT(-h, a), value, 1e-10, `T(${-h}, ${a}) (even in h)`);
  }
});

test('log Phi keeps full precision deep in the lower tail, where 1 + erf cancels', () => {
  for (const { x, value } of references.logNormalCdf) assertRelative(logNormalCdf(x), value, 1e-12, `log Phi(${x})`);
  assertRelative(normalCdf(-10), Math.exp(references.logNormalCdf.find((r) => r.x === -10)!.value), 1e-12, 'Phi(-10)');
  assertRelative(normalQuantile(0.975), 1.959963984540054, 1e-9, 'z 0.975');
});

test('skew-normal CDF and log CDF match 50-digit values, tails included', () => {
  for (const row of references.skewNormal) {
    const parameters = { location: row.location, scale: row.scale, shape: row.shape };
    const label = `SN(${row.location}, ${row.scale}, ${row.shape}) at ${row.x}`;
    assert.ok(
      Math.abs(skewNormalCdf(row.x, parameters) - row.cdf) < 1e-13,
      `${label}: cdf ${skewNormalCdf(row.x, parameters)} vs ${row.cdf}`,
    );
    if (row.logCdf === null || row.cdf < 1e-300) continue;
    const logCdf = skewNormalLogCdf(row.x, parameters);
    assert.ok(
      Math.abs(logCdf - row.logCdf) <= 1e-8 * Math.abs(row.logCdf) + 1e-15,
      `${label}: log cdf ${logCdf} vs ${row.logCdf}`,
    );
  }
});

test('log CDF: the tail integral and Owen-T branches agree where they meet', () => {
  const parameters = { location: 0.5, scale: 0.2, shape: 4 };
  for (let x = 0.3; x > 0.2; x -= 0.002) {
    const direct = Math.log(skewNormalCdf(x, parameters));
    if (Math.exp(direct) > 1e-4 || Math.exp(direct) < 1e-9) continue;
    const viaTail = skewNormalLogCdf(x - 1e-12, parameters);
    assertRelative(viaTail, direct, 1e-6, `x = ${x}`);
  }
});

test('Nelder-Mead finds the Rosenbrock minimum', () => {
  const rosenbrock = ([x, y]: number[]) => 100 * (y! - x! * x!) ** 2 + (1 - x!) ** 2;
  const result = nelderMead(rosenbrock, [-1.2, 1], {
    step: [0.5, 0.5],
    maxIterations: 5000,
    functionTolerance: 1e-14,
    parameterTolerance: 1e-10,
  });
  assert.ok(result.converged);
  assert.ok(Math.abs(result.point[0]! - 1) < 1e-5 && Math.abs(result.point[1]! - 1) < 1e-5, String(result.point));
});

test('the skew-normal fit recovers known parameters from seeded samples', () => {
  for (const truth of [
    { location: 0.9, scale: 0.2, shape: -4 },
    { location: 2, scale: 0.5, shape: 3 },
  ]) {
    const random = new SeededRandom(`skew-normal-fit/${truth.shape}`);
    const samples = Array.from({ length: 4000 }, () => sampleSkewNormal(random, truth));
    const moments = skewNormalMoments(truth);
    const sampleMean = samples.reduce((s, v) => s + v, 0) / samples.length;
    assert.ok(Math.abs(sampleMean - moments.mean) < 4 * Math.sqrt(moments.variance / samples.length), 'sampler mean');
    const fit = fitSkewNormal(samples);
    assert.ok(fit.ok, 'fit');
    if (!fit.ok) return;
    assert.ok(
      Math.abs(fit.parameters.location - truth.location) < 0.05 * truth.scale * 4,
      `location ${fit.parameters.location}`,
    );
    assert.ok(Math.abs(fit.parameters.scale / truth.scale - 1) < 0.1, `scale ${fit.parameters.scale}`);
    assert.ok(
      Math.abs(fit.parameters.shape - truth.shape) < 0.35 * Math.abs(truth.shape),
      `shape ${fit.parameters.shape}`,
    );
    assert.not.ok(fit.shapeAtBound);
  }
});

test('the fit refuses references without spread', () => {
  const fit = fitSkewNormal([1, 1, 1, 1, 0.5]);
  assert.not.ok(fit.ok);
  if (!fit.ok) assert.match(fit.reason, /2 distinct/);
});

test.run();
