/**
 * CTC decoding and scoring on a frame-major log-probability matrix
 * (`logProbs[t * vocabSize + k]` = log P(k | frame t)). Pure functions.
 */

function checkMatrix(logProbs: Float32Array, numFrames: number, vocabSize: number, blankId: number): void {
  if (!Number.isInteger(numFrames) || numFrames < 0)
    throw new RangeError(`numFrames must be a non-negative integer, got ${numFrames}`);
  if (!Number.isInteger(vocabSize) || vocabSize <= 0)
    throw new RangeError(`vocabSize must be a positive integer, got ${vocabSize}`);
  if (logProbs.length < numFrames * vocabSize)
    throw new RangeError(`logProbs holds ${logProbs.length} values, fewer than ${numFrames} x ${vocabSize}`);
  if (!Number.isInteger(blankId) || blankId < 0 || blankId >= vocabSize)
    throw new RangeError(`blankId ${blankId} is outside [0, ${vocabSize})`);
}

/**
 * Greedy (best path) CTC: the argmax of each frame, repeats merged, blanks removed.
 * A token repeated across a blank is emitted twice. Ties go to the lowest id.
 */
export function ctcGreedy(logProbs: Float32Array, numFrames: number, vocabSize: number, blankId: number): number[] {
  checkMatrix(logProbs, numFrames, vocabSize, blankId);
  const tokens: number[] = [];
  let previous = -1;
  for (let t = 0; t < numFrames; t++) {
    const row = t * vocabSize;
    let best = 0;
    let bestValue = logProbs[row]!;
    for (let k = 1; k < vocabSize; k++) {
      const value = logProbs[row + k]!;
      if (value > bestValue) {
        bestValue = value;
        best = k;
      }
    }
    if (best !== blankId && best !== previous) tokens.push(best);
    previous = best;
  }
  return tokens;
}

function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/**
 * log P(targets | logProbs) under CTC: the log of the sum, over every alignment
 * that collapses to `targets`, of the product of its frame probabilities. Forward
 * algorithm in log space over the blank-interleaved sequence (Graves et al. 2006),
 * in float64. Returns -Infinity when no alignment fits in `numFrames` frames
 * (a target needs one frame per token plus one per adjacent repeat).
 */
export function ctcForcedLogLikelihood(
  logProbs: Float32Array,
  numFrames: number,
  vocabSize: number,
  targets: Int32Array | number[],
  blankId: number,
): number {
  checkMatrix(logProbs, numFrames, vocabSize, blankId);
  for (const target of targets) {
    if (!Number.isInteger(target) || target < 0 || target >= vocabSize)
      throw new RangeError(`target id ${target} is outside [0, ${vocabSize})`);
    if (target === blankId) throw new RangeError(`target sequence contains the blank id ${blankId}`);
  }
  const labels = targets.length;
  const states = 2 * labels + 1;
  if (numFrames === 0) return labels === 0 ? 0 : -Infinity;
  // state s: even = blank, odd = targets[(s - 1) / 2]
  const symbol = (s: number): number => (s % 2 === 0 ? blankId : targets[(s - 1) >> 1]!);
  let alpha = new Float64Array(states).fill(-Infinity);
  let next = new Float64Array(states);
  alpha[0] = logProbs[symbol(0)]!;
  if (states > 1) alpha[1] = logProbs[symbol(1)]!;
  for (let t = 1; t < numFrames; t++) {
    const row = t * vocabSize;
    for (let s = 0; s < states; s++) {
      let sum = alpha[s]!;
      if (s >= 1) sum = logAddExp(sum, alpha[s - 1]!);
      if (s >= 2 && s % 2 === 1 && symbol(s) !== symbol(s - 2)) sum = logAddExp(sum, alpha[s - 2]!);
      next[s] = sum === -Infinity ? -Infinity : sum + logProbs[row + symbol(s)]!;
    }
    [alpha, next] = [next, alpha];
  }
  return states > 1 ? logAddExp(alpha[states - 1]!, alpha[states - 2]!) : alpha[0]!;
}

/** Frames a target sequence needs at least: one per token plus one blank between equal neighbours. */
export function ctcMinimumFrames(targets: ArrayLike<number>): number {
  let frames = targets.length;
  for (let i = 1; i < targets.length; i++) if (targets[i] === targets[i - 1]) frames++;
  return frames;
}

/** Log-softmax of each row in place (for models whose CTC output is raw logits). */
export function logSoftmaxRows(values: Float32Array, rows: number, width: number): Float32Array {
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    let max = -Infinity;
    for (let k = 0; k < width; k++) max = Math.max(max, values[base + k]!);
    let sum = 0;
    for (let k = 0; k < width; k++) sum += Math.exp(values[base + k]! - max);
    const logSum = max + Math.log(sum);
    for (let k = 0; k < width; k++) values[base + k] = values[base + k]! - logSum;
  }
  return values;
}
