import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ctcForcedLogLikelihood, ctcGreedy, ctcMinimumFrames, logSoftmaxRows } from '../../src/asr/index.ts';
import { SeededRandom } from '../../src/util/random.ts';

/** Row-normalized log-probs from probabilities given row by row. */
function logMatrix(rows: number[][]): Float32Array {
  return Float32Array.from(rows.flatMap((row) => row.map((p) => Math.log(p))));
}

function randomLogProbs(random: SeededRandom, frames: number, vocab: number): Float32Array {
  const values = new Float32Array(frames * vocab);
  for (let i = 0; i < values.length; i++) values[i] = 3 * (random.nextFloat() - 0.5);
  return logSoftmaxRows(values, frames, vocab);
}

/** Sum over every frame-level path whose CTC collapse equals `targets` (exhaustive). */
function bruteForce(logProbs: Float32Array, frames: number, vocab: number, targets: number[], blank: number): number {
  let total = 0;
  const path = new Array<number>(frames).fill(0);
  const visit = (t: number, logP: number): void => {
    if (t === frames) {
      const collapsed: number[] = [];
      let previous = -1;
      for (const k of path) {
        if (k !== blank && k !== previous) collapsed.push(k);
        previous = k;
      }
      if (collapsed.length === targets.length && collapsed.every((k, i) => k === targets[i])) total += Math.exp(logP);
      return;
    }
    for (let k = 0; k < vocab; k++) {
      path[t] = k;
      visit(t + 1, logP + logProbs[t * vocab + k]!);
    }
  };
  visit(0, 0);
  return Math.log(total);
}

test('ctcGreedy merges repeats, drops blanks, keeps a repeat split by blank', () => {
  // vocab: 0 = blank, 1 = a, 2 = b; argmax per frame: a a blank a b b blank
  const lp = logMatrix([
    [0.1, 0.8, 0.1],
    [0.2, 0.7, 0.1],
    [0.9, 0.05, 0.05],
    [0.1, 0.6, 0.3],
    [0.1, 0.2, 0.7],
    [0.1, 0.1, 0.8],
    [0.6, 0.2, 0.2],
  ]);
  assert.equal(ctcGreedy(lp, 7, 3, 0), [1, 1, 2]);
  // with id 1 as the blank, 0 is a token: 1 1 0 1 2 2 0 -> 0 2 0
  assert.equal(ctcGreedy(lp, 7, 3, 1), [0, 2, 0]);
  assert.equal(ctcGreedy(lp, 0, 3, 0), []);
});

test('forced log-likelihood equals the brute-force sum over alignments', () => {
  const random = new SeededRandom('ctc-forced');
  const cases: { frames: number; vocab: number; targets: number[]; blank: number }[] = [
    { frames: 4, vocab: 3, targets: [1, 2], blank: 0 },
    { frames: 5, vocab: 3, targets: [1, 1], blank: 0 },
    { frames: 5, vocab: 4, targets: [2, 0, 2], blank: 3 },
    { frames: 3, vocab: 3, targets: [1], blank: 2 },
    { frames: 6, vocab: 3, targets: [], blank: 0 },
    { frames: 6, vocab: 3, targets: [2, 2, 1], blank: 0 },
  ];
  for (const c of cases) {
    const lp = randomLogProbs(random, c.frames, c.vocab);
    const expected = bruteForce(lp, c.frames, c.vocab, c.targets, c.blank);
    const actual = ctcForcedLogLikelihood(lp, c.frames, c.vocab, c.targets, c.blank);
    assert.ok(Math.abs(actual - expected) < 1e-5, `${JSON.stringify(c)}: ${actual} vs brute force ${expected}`);
  }
});

test('forced score: impossible alignments are -Infinity; the minimum frame count is exact', () => {
  const random = new SeededRandom('ctc-impossible');
  const lp = randomLogProbs(random, 2, 3);
  assert.is(ctcMinimumFrames([1, 1]), 3);
  assert.is(ctcMinimumFrames([1, 2, 2, 2]), 6);
  assert.is(ctcForcedLogLikelihood(lp, 2, 3, [1, 1], 0), -Infinity);
  assert.ok(Number.isFinite(ctcForcedLogLikelihood(lp, 2, 3, [1, 2], 0)));
  const three = randomLogProbs(random, 3, 3);
  assert.ok(Number.isFinite(ctcForcedLogLikelihood(three, 3, 3, [1, 1], 0)));
});

test('forced score of a one-path matrix is that path; the argument checks throw', () => {
  // every frame certain: a blank b -> only alignment of [a, b]
  const lp = logMatrix([
    [1e-9, 1 - 2e-9, 1e-9],
    [1 - 2e-9, 1e-9, 1e-9],
    [1e-9, 1e-9, 1 - 2e-9],
  ]);
  assert.ok(Math.abs(ctcForcedLogLikelihood(lp, 3, 3, [1, 2], 0)) < 1e-6);
  assert.ok(ctcForcedLogLikelihood(lp, 3, 3, [2, 1], 0) < -30);
  assert.throws(() => ctcForcedLogLikelihood(lp, 3, 3, [0], 0), /blank/);
  assert.throws(() => ctcForcedLogLikelihood(lp, 3, 3, [5], 0), /outside/);
  assert.throws(() => ctcGreedy(lp, 4, 3, 0), /fewer/);
});

test.run();
