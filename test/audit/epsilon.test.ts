/**
 * The one-run ε lower bound (src/audit/stats/epsilon.ts) against an independent
 * scipy implementation (test/audit/fixtures/epsilon-scipy.json, made by
 * scripts/parity/make_epsilon_fixture.py), the anchors, and cases
 * whose answers follow from the definition.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import {
  guessGrid,
  maximumOneRunEpsilon,
  oneRunAudit,
  oneRunEpsilon,
  oneRunPValue,
} from '../../src/audit/stats/epsilon.ts';
import { epsilonAudit } from '../../src/audit/pipeline/privacy.ts';
import type { CanaryRow } from '../../src/audit/report/types.ts';

interface Counts {
  m: number;
  r: number;
  v: number;
  delta: number;
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/epsilon-scipy.json', import.meta.url), 'utf8')) as {
  anchors: (Counts & { significance: number; epsilon: number })[];
  pValues: (Counts & { epsilon: number; p: number })[];
  epsilons: (Counts & { significance: number; epsilon: number })[];
  audits: {
    scores: number[];
    included: boolean[];
    delta: number;
    confidence: number;
    grid: { guesses: number; guessed: number; correct: number; epsilon: number }[];
    epsilon: number;
  }[];
};

test('p(ε) equals scipy', () => {
  assert.ok(fixture.pValues.length >= 30);
  for (const c of fixture.pValues) {
    const ours = oneRunPValue(c.m, c.r, c.v, c.epsilon, c.delta);
    assert.ok(
      Math.abs(ours - c.p) <= 1e-12 + 1e-9 * c.p,
      `m=${c.m} r=${c.r} v=${c.v} ε=${c.epsilon} δ=${c.delta}: ours ${ours}, scipy ${c.p}`,
    );
  }
});

test('ε̂ equals scipy (brentq), including ε̂ = 0 cases', () => {
  let zeros = 0;
  for (const c of fixture.epsilons) {
    const ours = oneRunEpsilon(c.m, c.r, c.v, c.delta, c.significance);
    if (c.epsilon === 0) zeros++;
    assert.ok(
      Math.abs(ours - c.epsilon) <= 1e-7,
      `m=${c.m} r=${c.r} v=${c.v} δ=${c.delta} sig=${c.significance}: ours ${ours}, scipy ${c.epsilon}`,
    );
  }
  assert.ok(zeros > 0 && zeros < fixture.epsilons.length, 'the fixture holds both zero and positive bounds');
});

test('anchors at 95%, δ = 1e-5, every guess correct: 10 -> 1.05, 50 -> 2.78, 100 -> 3.49', () => {
  for (const [r, expected] of [
    [10, 1.05],
    [50, 2.78],
    [100, 3.49],
  ] as const) {
    const ours = oneRunEpsilon(r, r, r, 1e-5, 0.05);
    assert.ok(Math.abs(ours - expected) < 0.005, `${r} correct: ${ours}`);
    // Without δ the bound solves q^r = 0.05 in closed form.
    const q = Math.pow(0.05, 1 / r);
    assert.ok(Math.abs(oneRunEpsilon(r, r, r, 0, 0.05) - Math.log(q / (1 - q))) < 1e-8);
  }
  for (const c of fixture.anchors)
    assert.ok(
      Math.abs(oneRunEpsilon(c.m, c.r, c.v, c.delta, c.significance) - c.epsilon) <= 1e-7,
      `anchor m=${c.m} r=${c.r}`,
    );
  // More candidates at the same guesses: the δ term grows, the bound shrinks.
  assert.ok(oneRunEpsilon(1000, 50, 50, 1e-5, 0.05) < oneRunEpsilon(50, 50, 50, 1e-5, 0.05));
  // Half the guesses right is chance: nothing is shown.
  assert.is(oneRunEpsilon(100, 50, 25, 1e-5, 0.05), 0);
});

test('audits of score tables (grid, ties never split, Bonferroni) equal scipy', () => {
  for (const [n, c] of fixture.audits.entries()) {
    const result = oneRunAudit(c.scores, c.included, { delta: c.delta, confidence: c.confidence });
    assert.equal(
      result.grid.map(({ guesses, guessed, correct }) => ({ guesses, guessed, correct })),
      c.grid.map(({ guesses, guessed, correct }) => ({ guesses, guessed, correct })),
      `audit ${n}: guesses`,
    );
    result.grid.forEach((row, i) =>
      assert.ok(
        Math.abs(row.epsilon - c.grid[i]!.epsilon) <= 1e-7,
        `audit ${n} k+=${row.guesses}: ours ${row.epsilon}, scipy ${c.grid[i]!.epsilon}`,
      ),
    );
    assert.ok(Math.abs(result.epsilon - c.epsilon) <= 1e-7);
    assert.is(result.significancePerGuess, (1 - c.confidence) / guessGrid(c.scores.length).length);
  }
  assert.is(fixture.audits[0]!.epsilon, 0, 'no shift: nothing shown');
  assert.ok(fixture.audits[3]!.epsilon > 1, 'a large shift shows leakage');
});

test('known answers: perfect separation, no information, reversed scores', () => {
  const m = 200;
  const included = Array.from({ length: m }, (_, i) => i % 2 === 0);
  const perfect = oneRunAudit(
    included.map((x, i) => (x ? 10 : 0) + i / m),
    included,
    { delta: 1e-5, confidence: 0.95 },
  );
  // Best k+ = 100 (all 100 members guessed, all right); 7 grid values for Bonferroni.
  assert.equal(guessGrid(m), [2, 4, 10, 20, 40, 60, 100]);
  assert.equal(perfect.best && { guessed: perfect.best.guessed, correct: perfect.best.correct }, {
    guessed: 100,
    correct: 100,
  });
  assert.ok(Math.abs(perfect.epsilon - oneRunEpsilon(m, 100, 100, 1e-5, (1 - 0.95) / 7)) < 1e-12);
  // Constant scores: every k+ guesses everything; v = half; nothing shown.
  const flat = oneRunAudit(new Float64Array(m), included, { delta: 1e-5, confidence: 0.95 });
  assert.ok(flat.grid.every((row) => row.guessed === m && row.correct === 100));
  assert.is(flat.epsilon, 0);
  assert.is(flat.best, null);
  // Reversed: guesses are all wrong; the one-sided audit shows nothing.
  assert.is(
    oneRunAudit(
      included.map((x) => (x ? 0 : 1)),
      included,
      { delta: 1e-5, confidence: 0.95 },
    ).epsilon,
    0,
  );
  assert.throws(() => oneRunPValue(10, 5, 6, 1, 0), /correct/);
});

test('the largest ε̂ a design could show counts ties: tied members extend a guess, and ε̂ never exceeds it', () => {
  // 100 candidates, 40 trained on, every member tied at CER 0: the guess of k+ = 1 takes all 40 (r = v = 40),
  // more than the grid's largest k+ below 40 (30) could show with r = k+.
  const rows = Array.from(
    { length: 100 },
    (_, i) => ({ id: `c${i}`, repetitions: i < 40 ? 1 : null, cer: i < 40 ? 0 : 0.5, modelScore: null }) as CanaryRow,
  );
  const audit = epsilonAudit(rows, 'cer', { delta: 1e-5, confidence: 0.95, scoreLabel: 'CTC score' });
  assert.is(audit.best!.guessed, 40);
  assert.is(audit.best!.correct, 40);
  assert.ok(audit.epsilon > 2, `ε̂ ${audit.epsilon}`);
  assert.ok(
    audit.epsilon <= audit.maximumEpsilon,
    `ε̂ ${audit.epsilon} above the largest possible ${audit.maximumEpsilon}`,
  );
  const shown = Number(/largest ε̂ these candidates could show is (\d+\.\d\d)/.exec(audit.sentence)![1]);
  assert.ok(shown >= Number(audit.epsilon.toFixed(2)), audit.sentence);
  // Every outcome a perfect or imperfect attack could reach (r >= the smallest k+, v <= min(r, included)) stays under it.
  for (const included of [3, 17, 40, 50, 73]) {
    const grid = guessGrid(100);
    const significance = 0.05 / grid.length;
    const maximum = maximumOneRunEpsilon(100, included, 1e-5, significance, grid);
    for (let r = grid[0]!; r <= 100; r++) {
      const reachable = oneRunEpsilon(100, r, Math.min(r, included), 1e-5, significance);
      assert.ok(reachable <= maximum + 1e-9, `included ${included}, r ${r}: ${reachable} > ${maximum}`);
    }
  }
});

test.run();
