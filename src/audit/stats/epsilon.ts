/**
 * One-run lower bound on ε (Steinke, Nasr, Jagielski, "Privacy auditing with
 * one (1) training run", NeurIPS 2023, Theorem 3.1 / Appendix D).
 *
 * m candidate canaries are each trained on independently with probability 1/2.
 * The auditor guesses "in" for r of them (here: the highest membership scores)
 * and v of those guesses are right. If training were (ε, δ)-DP, then
 *   P[v or more correct] <= p(ε) = min(1, β + 2mδ·α'), where q = e^ε / (1 + e^ε),
 *   β = P[Bin(r, q) >= v],  α' = max over i = 1..v of (1/i)·P[v - i <= Bin(r, q) < v].
 * ε̂ = sup{ε : p(ε) < 1 - confidence}: with that confidence, training was not
 * (ε̂, δ)-DP. p grows with ε, so ε̂ is found by bisection.
 *
 * Checked against scipy (scripts/parity/make_epsilon_fixture.py) and the
 * formula as google-deepmind/jax_privacy (auditing.py, _one_run_p_value) and
 * the paper's Appendix D compute it. Numbers in, numbers out.
 */
import { createRequire } from 'node:module';

const { jStat } = createRequire(import.meta.url)('jstat') as { jStat: { gammaln(x: number): number } };

/** log q and log(1 - q) for q = logistic(ε), without cancellation for large ε. */
function logAccuracy(epsilon: number): { logQ: number; logNotQ: number } {
  // log(1 + e^x) computed stably.
  const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
  return { logQ: -softplus(-epsilon), logNotQ: -softplus(epsilon) };
}

function checkCounts(m: number, r: number, v: number): void {
  if (![m, r, v].every(Number.isInteger) || !(0 <= v && v <= r && r <= m))
    throw new RangeError(`one-run audit: need integers 0 <= correct (${v}) <= guesses (${r}) <= candidates (${m})`);
}

/**
 * p(ε): the probability of at least v correct guesses out of r under an
 * (ε, δ)-DP training run with m candidates, as bounded by the paper.
 */
export function oneRunPValue(m: number, r: number, v: number, epsilon: number, delta: number): number {
  checkCounts(m, r, v);
  if (!(epsilon >= 0)) throw new RangeError(`one-run audit: epsilon must be >= 0, got ${epsilon}`);
  if (!(delta >= 0 && delta <= 1)) throw new RangeError(`one-run audit: delta must be in [0, 1], got ${delta}`);
  if (v === 0) return 1;
  const { logQ, logNotQ } = logAccuracy(epsilon);
  const logOdds = logQ - logNotQ;
  // log P[Bin(r, q) = v] from log-gamma, then neighbours by the ratio pmf(j+1)/pmf(j) = (r-j)/(j+1) · q/(1-q).
  const logPmfAtV =
    jStat.gammaln(r + 1) - jStat.gammaln(v + 1) - jStat.gammaln(r - v + 1) + v * logQ + (r - v) * logNotQ;
  let beta = 0;
  for (let j = v, logPmf = logPmfAtV; j <= r; logPmf += Math.log((r - j) / (j + 1)) + logOdds, j++)
    beta += Math.exp(logPmf);
  let alpha = 0;
  if (delta > 0) {
    let below = 0; // P[v - i <= Bin(r, q) < v]
    let logPmf = logPmfAtV;
    for (let i = 1; i <= v; i++) {
      const j = v - i; // pmf(j) = pmf(j+1) · (j+1)/(r-j) · (1-q)/q
      logPmf += Math.log((j + 1) / (r - j)) - logOdds;
      below += Math.exp(logPmf);
      alpha = Math.max(alpha, below / i);
    }
  }
  return Math.min(1, beta + 2 * m * delta * alpha);
}

/**
 * ε̂ = sup{ε : p(ε) < significance} for r guesses with v correct among m
 * candidates; 0 when even ε = 0 cannot be rejected. Bisection to 1e-10.
 */
export function oneRunEpsilon(m: number, r: number, v: number, delta: number, significance: number): number {
  checkCounts(m, r, v);
  if (!(significance > 0 && significance < 1))
    throw new RangeError(`one-run audit: significance must be in (0, 1), got ${significance}`);
  const rejects = (epsilon: number) => oneRunPValue(m, r, v, epsilon, delta) < significance;
  if (!rejects(0)) return 0;
  let low = 0;
  let high = 1;
  while (rejects(high)) {
    low = high;
    high *= 2;
    if (high > 1e3) return low; // p stays below significance up to here: the bound is this large.
  }
  while (high - low > 1e-10) {
    const middle = (low + high) / 2;
    if (rejects(middle)) low = middle;
    else high = middle;
  }
  return low;
}

/**
 * The fixed grid of k+ (numbers of "in" guesses), as shares of the m
 * candidates; fixed before looking at the scores, so a Bonferroni correction
 * over its size keeps the confidence.
 */
export const GUESS_SHARES: readonly number[] = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5];

/** k+ values for m candidates: GUESS_SHARES of m, rounded, at least 1, distinct. */
export function guessGrid(m: number): number[] {
  if (!Number.isInteger(m) || m < 1)
    throw new RangeError(`guessGrid: need a positive integer count of candidates, got ${m}`);
  return [...new Set(GUESS_SHARES.map((share) => Math.max(1, Math.round(share * m))))].sort((a, b) => a - b);
}

/**
 * The largest ε̂ a one-run audit of `candidates` with `included` trained-on ones could show: every "in" guess
 * right. Ties extend a guess of k+ to every canary scoring the same (r >= k+), so a perfect attack whose
 * members tie reaches r = included at any k+ <= included, and r is never below the grid's smallest k+; with
 * r - v wrong guesses at most, ε̂ grows with the right guesses and is largest at r = v = max(included, smallest k+)
 * (v = included), checked beside each grid value's r = v = k+.
 */
export function maximumOneRunEpsilon(
  candidates: number,
  included: number,
  delta: number,
  significancePerGuess: number,
  grid: readonly number[] = guessGrid(candidates),
): number {
  checkCounts(candidates, included, included);
  if (included === 0) return 0;
  const guessCounts = new Set(grid.filter((k) => k <= included));
  const tied = Math.max(included, Math.min(...grid));
  const correct = [...guessCounts].map((k) => oneRunEpsilon(candidates, k, k, delta, significancePerGuess));
  correct.push(oneRunEpsilon(candidates, Math.min(tied, candidates), included, delta, significancePerGuess));
  return Math.max(0, ...correct);
}

export interface OneRunGuess {
  /** k+: the grid value. */
  guesses: number;
  /** r: canaries guessed "in" (every canary scoring at least the k+-th highest score, so ties are never split: r >= k+). */
  guessed: number;
  /** v: of those, how many were in fact trained on. */
  correct: number;
  /** ε̂ at this k+ with the Bonferroni-corrected significance. */
  epsilon: number;
}

export interface OneRunAuditResult {
  candidates: number;
  included: number;
  delta: number;
  confidence: number;
  /** (1 - confidence) / number of grid values: the significance each k+ is tested at. */
  significancePerGuess: number;
  grid: OneRunGuess[];
  /** The largest ε̂ over the grid (0 when none rejects ε = 0). */
  epsilon: number;
  /** The grid entry that gave it; null when ε̂ = 0. */
  best: OneRunGuess | null;
}

/**
 * The audit: `scores` higher = more likely trained on, `included` the secret
 * membership of each candidate. For each k+ in the grid, guess "in" for the
 * canaries scoring at least the k+-th highest score; ε̂ is the largest bound
 * over the grid with Bonferroni over its size.
 */
export function oneRunAudit(
  scores: ArrayLike<number>,
  included: ArrayLike<boolean>,
  options: { delta: number; confidence: number; grid?: readonly number[] },
): OneRunAuditResult {
  const m = scores.length;
  if (included.length !== m) throw new RangeError(`oneRunAudit: ${m} scores but ${included.length} membership flags`);
  if (m === 0) throw new RangeError('oneRunAudit: no candidates');
  for (let i = 0; i < m; i++) if (Number.isNaN(scores[i]!)) throw new RangeError(`oneRunAudit: score ${i} is NaN`);
  const { delta, confidence } = options;
  if (!(confidence > 0 && confidence < 1))
    throw new RangeError(`oneRunAudit: confidence must be in (0, 1), got ${confidence}`);
  const grid = options.grid ?? guessGrid(m);
  const significancePerGuess = (1 - confidence) / grid.length;
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const rows: OneRunGuess[] = grid.map((k) => {
    if (!Number.isInteger(k) || k < 1 || k > m) throw new RangeError(`oneRunAudit: k+ ${k} outside 1..${m}`);
    const threshold = scores[order[k - 1]!]!;
    let guessed = k;
    while (guessed < m && scores[order[guessed]!]! >= threshold) guessed++;
    let correct = 0;
    for (let j = 0; j < guessed; j++) if (included[order[j]!]) correct++;
    return { guesses: k, guessed, correct, epsilon: oneRunEpsilon(m, guessed, correct, delta, significancePerGuess) };
  });
  let best: OneRunGuess | null = null;
  for (const row of rows) if (row.epsilon > 0 && (best === null || row.epsilon > best.epsilon)) best = row;
  let includedCount = 0;
  for (let i = 0; i < m; i++) if (included[i]) includedCount++;
  return {
    candidates: m,
    included: includedCount,
    delta,
    confidence,
    significancePerGuess,
    grid: rows,
    epsilon: best?.epsilon ?? 0,
    best,
  };
}
