import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  bootstrapMeanInterval,
  holmAdjust,
  mannWhitneyLess,
  midRanks,
  pairedDifference,
  wilcoxonSignedRank,
  wilsonInterval,
} from '../../src/audit/stats/statistics.ts';
import { SeededRandom } from '../../src/util/random.ts';

const close = (actual: number, expected: number, tolerance: number, label = '') =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${label} ${actual} vs ${expected}`);

/** Every way to pick which n1 of the pooled values are "x": the permutation distribution by brute force. */
function bruteForceMannWhitney(x: number[], y: number[]): number {
  const pooled = [...x, ...y];
  const uOf = (xs: number[], ys: number[]) => {
    let u = 0;
    for (const a of xs) for (const b of ys) u += a < b ? 1 : a === b ? 0.5 : 0;
    return u;
  };
  const observed = uOf(x, y);
  let atLeast = 0;
  let total = 0;
  const n = pooled.length;
  for (let mask = 0; mask < 1 << n; mask++) {
    let bits = 0;
    for (let i = 0; i < n; i++) if (mask & (1 << i)) bits++;
    if (bits !== x.length) continue;
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < n; i++) (mask & (1 << i) ? xs : ys).push(pooled[i]!);
    total++;
    if (uOf(xs, ys) >= observed - 1e-9) atLeast++;
  }
  return atLeast / total;
}

function bruteForceWilcoxon(d: number[]): { pGreater: number; pLess: number } {
  const nonZero = d.filter((v) => v !== 0);
  const { ranks } = midRanks(nonZero.map(Math.abs));
  const observed = nonZero.reduce((s, v, i) => s + (v > 0 ? ranks[i]! : 0), 0);
  let greater = 0;
  let less = 0;
  const n = nonZero.length;
  for (let mask = 0; mask < 1 << n; mask++) {
    let w = 0;
    for (let i = 0; i < n; i++) if (mask & (1 << i)) w += ranks[i]!;
    if (w >= observed - 1e-9) greater++;
    if (w <= observed + 1e-9) less++;
  }
  return { pGreater: greater / (1 << n), pLess: less / (1 << n) };
}

test('mid-ranks average tied positions', () => {
  const { ranks, tieSizes } = midRanks([3, 1, 3, 2, 3]);
  assert.equal(Array.from(ranks), [4, 1, 4, 2, 4]);
  assert.equal(tieSizes, [1, 1, 3]);
});

test('Mann-Whitney exact p-values match the published table (Mann & Whitney 1947)', () => {
  // n1 = n2 = 4, all x below all y: P = 1/70.
  close(mannWhitneyLess([1, 2, 3, 4], [5, 6, 7, 8]).pValue, 1 / 70, 1e-12, 'n=4 U=0');
  // n1 = n2 = 5, U' (pairs x > y) = 4 -> .048, U' = 3 -> .028 (table values, 3 decimals).
  close(mannWhitneyLess([1, 2, 3, 4, 9], [5, 6, 7, 8, 10]).pValue, 0.048, 0.0005, 'n=5 U=4');
  close(mannWhitneyLess([1, 2, 3, 9, 4.5], [5, 6, 7, 8, 10]).pValue, 0.0476, 0.0005, 'same U, other order');
  close(mannWhitneyLess([1, 2, 3, 4, 7.5], [5, 6, 7, 8, 9]).pValue, 0.028, 0.0005, 'n=5 U=3');
  // n1=3, n2=3 complete separation: 1/20.
  const separated = mannWhitneyLess([0, 0.1, 0.2], [0.5, 0.7, 0.9]);
  close(separated.pValue, 0.05, 1e-12);
  close(separated.minimumPValue, 0.05, 1e-12);
  assert.is(separated.rankBiserial, 1);
  assert.is(separated.commonLanguage, 1);
});

test('Mann-Whitney exact p-values equal brute-force enumeration, with and without ties, both size orders', () => {
  const random = new SeededRandom('mann-whitney-enumeration');
  for (let trial = 0; trial < 40; trial++) {
    const n1 = 1 + random.nextInt(6);
    const n2 = 1 + random.nextInt(6);
    const levels = trial % 2 === 0 ? 4 : 1000; // few levels: many ties
    const draw = (shift: number) => (random.nextInt(levels) + shift) / levels;
    const x = Array.from({ length: n1 }, () => draw(0));
    const y = Array.from({ length: n2 }, () => draw(trial % 3 === 0 ? 1 : 0));
    const result = mannWhitneyLess(x, y);
    assert.is(result.method, 'exact');
    close(result.pValue, bruteForceMannWhitney(x, y), 1e-12, `trial ${trial} ${x} | ${y}`);
  }
});

test('Mann-Whitney normal approximation tracks the exact distribution for larger samples', () => {
  const random = new SeededRandom('mann-whitney-normal');
  const x = Array.from({ length: 25 }, () => random.nextFloat());
  const y = Array.from({ length: 30 }, () => random.nextFloat() + 0.1);
  const exact = mannWhitneyLess(x, y);
  const normal = mannWhitneyLess(x, y, { exactWorkLimit: 0 });
  assert.is(exact.method, 'exact');
  assert.is(normal.method, 'normal');
  assert.ok(exact.pValue < 0.05 && exact.pValue > 0.001, `exact ${exact.pValue}`);
  // By hand: U = 25, mean 12.5, variance 25 * 11 / 12, z = 12 / 4.787 = 2.5067, P = 0.006093.
  close(mannWhitneyLess([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], { exactWorkLimit: 0 }).pValue, 0.006093, 1e-6, 'hand');
  assert.ok(Math.abs(Math.log(normal.pValue / exact.pValue)) < 0.15, `normal ${normal.pValue} exact ${exact.pValue}`);
  // Everything tied: no evidence at all.
  assert.is(mannWhitneyLess([1, 1, 1], [1, 1, 1, 1], { exactWorkLimit: 0 }).pValue, 1);
  assert.is(mannWhitneyLess([1, 1, 1], [1, 1, 1, 1]).pValue, 1);
});

test('Wilcoxon signed-rank exact p-values match the published table and enumeration', () => {
  // n = 10: P(T+ <= 8) = 25/1024 = .0244 and P(T+ <= 10) = 43/1024 = .0420 (one-sided table values).
  const ten = (negativeRanks: number[]) =>
    Array.from({ length: 10 }, (_, i) => (negativeRanks.includes(i + 1) ? -(i + 1) : i + 1));
  close(wilcoxonSignedRank(ten([1, 2, 5])).pGreater, 25 / 1024, 1e-12, 'T- = 8');
  close(wilcoxonSignedRank(ten([1, 2, 3, 4])).pGreater, 43 / 1024, 1e-12, 'T- = 10');
  close(wilcoxonSignedRank(ten([1, 2, 5])).pTwoSided, 50 / 1024, 1e-12, 'two-sided');
  close(wilcoxonSignedRank([1, 2, 3, 4, 5]).pGreater, 1 / 32, 1e-12, 'n=5 all positive');
  const random = new SeededRandom('wilcoxon-enumeration');
  for (let trial = 0; trial < 30; trial++) {
    const n = 1 + random.nextInt(12);
    const levels = trial % 2 === 0 ? 3 : 1000;
    const d = Array.from({ length: n }, () => random.nextInt(2 * levels + 1) - levels);
    const result = wilcoxonSignedRank(d);
    const brute = bruteForceWilcoxon(d);
    close(result.pGreater, brute.pGreater, 1e-12, `greater ${d}`);
    close(result.pLess, brute.pLess, 1e-12, `less ${d}`);
    assert.is(result.zeros, d.filter((v) => v === 0).length);
  }
});

test('Wilcoxon normal approximation agrees with the exact distribution for n = 60', () => {
  const random = new SeededRandom('wilcoxon-normal');
  const d = Array.from({ length: 60 }, () => Math.round((random.nextFloat() - 0.4) * 20) / 10);
  const exact = wilcoxonSignedRank(d);
  const normal = wilcoxonSignedRank(d, { exactLimit: 0 });
  assert.is(normal.method, 'normal');
  assert.ok(exact.ties);
  assert.ok(exact.pGreater < 0.05 && exact.pGreater > 0.001, `exact ${exact.pGreater}`);
  // By hand: n = 20, ranks 1..5 negative: W+ = 195, mean 105, variance 717.5, P = Q(89.5 / 26.786) = 0.000417.
  const twenty = Array.from({ length: 20 }, (_, i) => (i < 5 ? -(i + 1) : i + 1));
  close(wilcoxonSignedRank(twenty, { exactLimit: 0 }).pGreater, 0.000417, 1e-6, 'hand');
  assert.ok(Math.abs(Math.log(normal.pGreater / exact.pGreater)) < 0.2, `${normal.pGreater} vs ${exact.pGreater}`);
});

test("Holm's adjustment, by hand", () => {
  assert.equal(
    holmAdjust([0.01, 0.04, 0.03, 0.005]).map((p) => +p.toFixed(12)),
    [0.03, 0.06, 0.06, 0.02],
  );
  assert.equal(holmAdjust([0.5, 0.9]), [1, 1]);
  assert.equal(holmAdjust([]), []);
});

test('Wilson interval: worked examples (0 of 10, 8 of 10 at 95%)', () => {
  const none = wilsonInterval(0, 10);
  close(none.low, 0, 1e-12);
  close(none.high, 0.2775, 5e-5);
  const eight = wilsonInterval(8, 10);
  close(eight.low, 0.4902, 5e-5);
  close(eight.high, 0.9433, 5e-5);
  close(wilsonInterval(10, 10).high, 1, 1e-12);
  assert.throws(() => wilsonInterval(3, 2), /successes <= trials/);
});

test('bootstrap mean interval: seeded, covers the mean, reproducible', () => {
  const values = Array.from({ length: 40 }, (_, i) => (i % 7) / 7);
  const a = bootstrapMeanInterval(values, new SeededRandom('b'));
  const b = bootstrapMeanInterval(values, new SeededRandom('b'));
  assert.equal(a, b);
  assert.ok(a.low < a.estimate && a.estimate < a.high);
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - a.estimate) ** 2, 0) / (values.length - 1));
  const halfWidth = (a.high - a.low) / 2;
  close(halfWidth, (1.96 * sd) / Math.sqrt(values.length), 0.2 * halfWidth, 'width near the t-interval');
  assert.equal(bootstrapMeanInterval([0.3], new SeededRandom('c')), { estimate: 0.3, low: 0.3, high: 0.3 });
});

test('paired difference: b - a, pairs checked', () => {
  const result = pairedDifference(
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
    [0.3, 0.5, 0.4, 0.9, 0.6, 1.0],
    new SeededRandom('p'),
  );
  close(result.mean.estimate, (0.2 + 0.3 + 0.1 + 0.5 + 0.1 + 0.4) / 6, 1e-12);
  close(result.wilcoxon.pGreater, 1 / 64, 1e-12);
  assert.throws(() => pairedDifference([1], [1, 2], new SeededRandom('p')), /line up/);
});

test.run();
