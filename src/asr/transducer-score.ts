/**
 * Teacher-forced transducer log-likelihoods: ln P(targets | audio), summed over every
 * alignment of the targets to the encoder frames. Pure functions on the joint's raw
 * outputs for the whole T x (U + 1) lattice, `logits[(t * (U + 1) + u) * width + k]` =
 * the joint of encoder frame t with the prediction after the first u targets
 * (u = 0: after the blank start symbol). Token logits (the first numClasses) are
 * log-softmax normalized here, in float64; TDT duration logits (the rest) separately.
 */

/** Row-wise log-softmax of `count` values starting at `from`, in float64. */
function logSoftmaxInto(out: Float64Array, logits: Float32Array, from: number, count: number): void {
  let max = -Infinity;
  for (let k = 0; k < count; k++) max = Math.max(max, logits[from + k]!);
  let sum = 0;
  for (let k = 0; k < count; k++) sum += Math.exp(logits[from + k]! - max);
  const log = max + Math.log(sum);
  for (let k = 0; k < count; k++) out[k] = logits[from + k]! - log;
}

function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

function checkLattice(
  logits: Float32Array,
  frames: number,
  targets: number[],
  blankId: number,
  numClasses: number,
  width: number,
): void {
  if (!Number.isInteger(frames) || frames < 1) throw new RangeError(`frames must be a positive integer, got ${frames}`);
  if (!Number.isInteger(blankId) || blankId < 0 || blankId >= numClasses)
    throw new RangeError(`blankId ${blankId} outside 0..${numClasses - 1}`);
  if (width < numClasses) throw new RangeError(`width ${width} is smaller than numClasses ${numClasses}`);
  if (logits.length < frames * (targets.length + 1) * width)
    throw new RangeError(
      `logits hold ${logits.length} values, fewer than ${frames} x ${targets.length + 1} x ${width}`,
    );
  for (const id of targets)
    if (!Number.isInteger(id) || id < 0 || id >= numClasses || id === blankId)
      throw new RangeError(`target ${id} is not a token id (0..${numClasses - 1}, not the blank)`);
}

/** Per lattice node: log P(blank) and log P(next target), from the raw logits. */
function emissionTables(
  logits: Float32Array,
  frames: number,
  targets: number[],
  blankId: number,
  numClasses: number,
  width: number,
): { blank: Float64Array; token: Float64Array } {
  const columns = targets.length + 1;
  const blank = new Float64Array(frames * columns);
  const token = new Float64Array(frames * columns).fill(-Infinity);
  const row = new Float64Array(numClasses);
  for (let t = 0; t < frames; t++) {
    for (let u = 0; u < columns; u++) {
      logSoftmaxInto(row, logits, (t * columns + u) * width, numClasses);
      blank[t * columns + u] = row[blankId]!;
      if (u < targets.length) token[t * columns + u] = row[targets[u]!]!;
    }
  }
  return { blank, token };
}

/**
 * RNNT (Graves 2012): alpha(0, 0) = 0; alpha(t, u) = logaddexp(alpha(t - 1, u) + blank(t - 1, u),
 * alpha(t, u - 1) + token(t, u - 1)); ln P = alpha(T - 1, U) + blank(T - 1, U).
 * What torchaudio.functional.rnnt_loss returns negated.
 */
export function rnntForcedLogLikelihood(
  logits: Float32Array,
  frames: number,
  targets: number[],
  blankId: number,
  numClasses: number,
  width = numClasses,
): number {
  checkLattice(logits, frames, targets, blankId, numClasses, width);
  const columns = targets.length + 1;
  const { blank, token } = emissionTables(logits, frames, targets, blankId, numClasses, width);
  let alpha = new Float64Array(columns).fill(-Infinity);
  let next = new Float64Array(columns);
  alpha[0] = 0;
  for (let u = 1; u < columns; u++) alpha[u] = alpha[u - 1]! + token[u - 1]!;
  for (let t = 1; t < frames; t++) {
    next[0] = alpha[0]! + blank[(t - 1) * columns]!;
    for (let u = 1; u < columns; u++)
      next[u] = logAddExp(alpha[u]! + blank[(t - 1) * columns + u]!, next[u - 1]! + token[t * columns + u - 1]!);
    [alpha, next] = [next, alpha];
  }
  return alpha[columns - 1]! + blank[(frames - 1) * columns + columns - 1]!;
}

/**
 * TDT (Xu et al. 2023, NeMo's TDT loss without its training-only sigma): every step
 * emits a token or a blank together with a duration d; a token may have d = 0, a
 * blank needs d >= 1. alpha(t, u), t < T: be at frame t with u targets emitted;
 * ln P = logsumexp over d >= 1 of alpha(T - d, U) + blank(T - d, U) + dur_d(T - d, U)
 * (the last step is a blank landing exactly on T).
 */
export function tdtForcedLogLikelihood(
  logits: Float32Array,
  frames: number,
  targets: number[],
  blankId: number,
  numClasses: number,
  durations: number[],
  width = numClasses + durations.length,
): number {
  checkLattice(logits, frames, targets, blankId, numClasses, width);
  if (width < numClasses + durations.length)
    throw new RangeError(
      `width ${width} leaves no room for ${durations.length} duration logits after ${numClasses} token logits`,
    );
  if (durations.length === 0 || durations.some((d) => !Number.isInteger(d) || d < 0))
    throw new RangeError(`durations must be non-negative integers, got ${durations.join(', ')}`);
  const columns = targets.length + 1;
  const { blank, token } = emissionTables(logits, frames, targets, blankId, numClasses, width);
  const duration = new Float64Array(frames * columns * durations.length);
  const row = new Float64Array(durations.length);
  for (let node = 0; node < frames * columns; node++) {
    logSoftmaxInto(row, logits, node * width + numClasses, durations.length);
    duration.set(row, node * durations.length);
  }
  const alpha = new Float64Array(frames * columns).fill(-Infinity);
  alpha[0] = 0;
  for (let t = 0; t < frames; t++) {
    for (let u = 0; u < columns; u++) {
      if (t === 0 && u === 0) continue;
      let sum = -Infinity;
      durations.forEach((d, i) => {
        const s = t - d;
        if (s < 0) return;
        if (u > 0) {
          const from = s * columns + u - 1;
          sum = logAddExp(sum, alpha[from]! + token[from]! + duration[from * durations.length + i]!);
        }
        if (d > 0) {
          const from = s * columns + u;
          sum = logAddExp(sum, alpha[from]! + blank[from]! + duration[from * durations.length + i]!);
        }
      });
      alpha[t * columns + u] = sum;
    }
  }
  let total = -Infinity;
  durations.forEach((d, i) => {
    if (d < 1 || d > frames) return;
    const from = (frames - d) * columns + columns - 1;
    total = logAddExp(total, alpha[from]! + blank[from]! + duration[from * durations.length + i]!);
  });
  return total;
}
