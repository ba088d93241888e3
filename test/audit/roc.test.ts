/**
 * Membership-inference figures (src/audit/stats/roc.ts) on score tables with known
 * answers; the AUC against the Mann-Whitney U of statistics.ts (checked
 * against scipy elsewhere) and against the trapezoid area of the curve.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allowedFalsePositives, membershipInference, rocAuc, rocCurve, tprAtFpr } from '../../src/audit/stats/roc.ts';
import { mannWhitneyLess } from '../../src/audit/stats/statistics.ts';
import { SeededRandom } from '../../src/util/random.ts';

const options = { fprs: [0.001, 0.01, 0.1], resamples: 1000, confidence: 0.95 };

function trapezoid(curve: { fpr: number[]; tpr: number[] }): number {
  let area = 0;
  for (let i = 1; i < curve.fpr.length; i++)
    area += ((curve.fpr[i]! - curve.fpr[i - 1]!) * (curve.tpr[i]! + curve.tpr[i - 1]!)) / 2;
  return area;
}

test('perfect separation, reversed, all tied', () => {
  const negatives = Array.from({ length: 100 }, (_, i) => i);
  const positives = Array.from({ length: 20 }, (_, i) => 1000 + i);
  assert.equal(rocCurve(positives, negatives).fpr.slice(0, 3), [0, 0, 0]);
  assert.is(rocAuc(positives, negatives), 1);
  assert.is(rocAuc(negatives, positives), 0);
  assert.is(tprAtFpr(positives, negatives, 0.01), 1);
  assert.is(tprAtFpr(negatives, positives, 0.1), 0);
  const tied = rocCurve([1, 1], [1, 1, 1]);
  assert.equal(tied, { fpr: [0, 1], tpr: [0, 1] });
  assert.is(rocAuc([1, 1], [1, 1, 1]), 0.5);
  const perfect = membershipInference(positives, negatives, new SeededRandom('roc'), options);
  assert.equal(perfect.auc, { estimate: 1, low: 1, high: 1 });
  assert.is(perfect.tprAtFpr[0]!.tpr, null, '0.1% of 100 held-out is not resolvable');
  assert.match(
    perfect.tprAtFpr[0]!.note!,
    /not resolvable: 100 held-out canaries cannot measure a false-positive rate of 0.1% \(it needs at least 1000/,
  );
  assert.equal(perfect.tprAtFpr[1]!.tpr, { estimate: 1, low: 1, high: 1 });
  assert.is(perfect.tprAtFpr[1]!.allowedFalsePositives, 1);
});

test('TPR at FPR: the threshold lets floor(f n) held-out canaries through, no more', () => {
  const negatives = Array.from({ length: 100 }, (_, i) => i); // 0..99
  const positives = [95, 91, 90, 89.5, 89, 50, 10];
  // f = 10%: 10 negatives (90..99) may pass; the threshold sits just above 89: 95, 91, 90, 89.5 pass.
  assert.is(tprAtFpr(positives, negatives, 0.1), 4 / 7);
  // f = 1%: one negative (99) may pass; threshold above 98: none.
  assert.is(tprAtFpr(positives, negatives, 0.01), 0);
  assert.is(tprAtFpr(positives, negatives, 0.001), null);
  assert.is(allowedFalsePositives(0.001, 128), 0);
  assert.is(allowedFalsePositives(0.01, 128), 1);
  assert.is(allowedFalsePositives(0.1, 1000), 100);
  // The rule never exceeds its false-positive budget: check on the curve.
  const curve = rocCurve(positives, negatives);
  const best = Math.max(...curve.tpr.filter((_, i) => curve.fpr[i]! <= 0.1));
  assert.is(best, 4 / 7);
});

test('AUC = Mann-Whitney common-language effect = trapezoid area, ties included', () => {
  const random = new SeededRandom('roc-auc');
  for (let trial = 0; trial < 20; trial++) {
    const n1 = 5 + random.nextInt(30);
    const n2 = 5 + random.nextInt(60);
    const round = trial % 2 === 0 ? 1 : 10; // half the trials with many ties
    const positives = Array.from({ length: n1 }, () => Math.round((random.nextFloat() + 0.2) * round) / round);
    const negatives = Array.from({ length: n2 }, () => Math.round(random.nextFloat() * round) / round);
    const auc = rocAuc(positives, negatives);
    // Lower-is-better for Mann-Whitney: negate.
    const u = mannWhitneyLess(
      positives.map((x) => -x),
      negatives.map((x) => -x),
    );
    assert.ok(Math.abs(auc - u.commonLanguage) < 1e-12, `trial ${trial}: ${auc} vs ${u.commonLanguage}`);
    assert.ok(Math.abs(auc - trapezoid(rocCurve(positives, negatives))) < 1e-12);
  }
});

test('no information: the AUC interval covers 0.5; a clear effect: it excludes 0.5', () => {
  const random = new SeededRandom('roc-null');
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random.nextFloat())) * Math.cos(2 * Math.PI * random.nextFloat());
  const negatives = Array.from({ length: 100 }, gaussian);
  const same = Array.from({ length: 16 }, gaussian);
  const shifted = Array.from({ length: 16 }, () => gaussian() + 2);
  const none = membershipInference(same, negatives, new SeededRandom('a'), options);
  assert.ok(none.auc.low < 0.5 && none.auc.high > 0.5, JSON.stringify(none.auc));
  const clear = membershipInference(shifted, negatives, new SeededRandom('b'), options);
  assert.ok(clear.auc.low > 0.5, JSON.stringify(clear.auc));
  const ten = clear.tprAtFpr[2]!;
  assert.ok(ten.tpr!.low <= ten.tpr!.estimate && ten.tpr!.estimate <= ten.tpr!.high);
  assert.is(ten.allowedFalsePositives, 10);
  // Deterministic: the same seed gives the same intervals.
  assert.equal(membershipInference(shifted, negatives, new SeededRandom('b'), options), clear);
});

test.run();
