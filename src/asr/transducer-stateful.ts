/**
 * Greedy search for a transducer whose prediction network carries a state (NeMo's
 * LSTM RNNT and TDT decoders), as NeMo decodes them (ONNXGreedyBatchedRNNTInfer,
 * GreedyBatchedRNNTInfer, GreedyTDTInfer):
 * - each utterance starts from the blank as last label (NeMo embeds it as zeros:
 *   blank_as_pad) and all-zero states;
 * - one step = prediction network on (last label, state) + joint with the current
 *   encoder frame; a token is emitted when the arg-max of the token logits is not the
 *   blank, and only then do the last label and the state advance (kept on blank);
 * - RNNT: a blank moves to the next frame; after `maxSymbolsPerFrame` emissions on one
 *   frame the search moves on as well (NeMo's default is 10);
 * - TDT: the joint's duration logits follow the V + 1 token logits; the frame index
 *   advances by durations[arg-max], at least 1 after a blank or after
 *   `maxSymbolsPerFrame` emissions without advancing.
 * Arg-max is unchanged by log-softmax, so raw logits (NeMo's export turns log_softmax
 * off) decode the same as log-probabilities. Utterances are independent rows of every
 * call, each at its own frame, so results do not depend on the batch or its padding.
 */

export interface StatefulStepResult {
  /** [n, width] joint outputs (width = numClasses, plus the durations for TDT). */
  logits: Float32Array;
  /** States after consuming the given labels, one array per state tensor, [n, stateSizes[i]] row-major. */
  states: Float32Array[];
}

export interface StatefulTransducerNetwork {
  /** Floats per row of each state tensor (layers x hidden for an LSTM's h and c). */
  stateSizes: number[];
  /**
   * frames: [n, encoderDim]; labels: [n] last labels; states: [n, stateSizes[i]] each.
   * keys (from the search): per row, a string that changes exactly when the row's
   * (label, state) pair changes, so a network may reuse its prediction-network output.
   */
  step(
    frames: Float32Array,
    labels: Int32Array,
    states: Float32Array[],
    n: number,
    keys?: string[],
  ): Promise<StatefulStepResult>;
}

export interface StatefulGreedyOptions {
  blankId: number;
  /** Token classes including the blank (V + 1); logits beyond them are TDT durations. */
  numClasses: number;
  encoderDim: number;
  maxSymbolsPerFrame?: number;
  /** TDT: the duration of each duration logit (e.g. [0, 1, 2, 3, 4]). Absent: RNNT. */
  durations?: number[];
  /** A token read as blank (sherpa-onnx does so with <unk> for icefall transducers). */
  unkId?: number;
}

/**
 * The prediction network's result per search row, recomputed only for rows whose key
 * (from the search: it changes exactly when the row's label and state change) is new,
 * as sherpa-onnx reruns its decoder only after an emission.
 */
export class PredictionCache<T> {
  private entries = new Map<string, T>();

  async rows(n: number, keys: string[] | undefined, compute: (stale: number[]) => Promise<T[]>): Promise<T[]> {
    const all = [...Array(n).keys()];
    const stale = keys ? all.filter((r) => !this.entries.has(keys[r]!)) : all;
    const fresh = new Map<number, T>();
    if (stale.length > 0) (await compute(stale)).forEach((entry, j) => fresh.set(stale[j]!, entry));
    const entries = all.map((r) => fresh.get(r) ?? this.entries.get(keys![r]!)!);
    if (keys) this.entries = new Map(entries.map((entry, r) => [keys[r]!, entry]));
    return entries;
  }
}

let searches = 0;

function argmax(values: Float32Array, from: number, count: number): number {
  let best = 0;
  for (let k = 1; k < count; k++) if (values[from + k]! > values[from + best]!) best = k;
  return best;
}

/** encoderOut: [N, maxFrames, encoderDim] frame-major (padded); lengths: valid frames. Returns token ids per utterance. */
export async function statefulTransducerGreedy(
  encoderOut: Float32Array,
  lengths: number[],
  maxFrames: number,
  network: StatefulTransducerNetwork,
  options: StatefulGreedyOptions,
): Promise<number[][]> {
  const { blankId, numClasses, encoderDim } = options;
  const maxSymbols = options.maxSymbolsPerFrame ?? 10;
  if (!Number.isInteger(maxSymbols) || maxSymbols < 1)
    throw new RangeError(`maxSymbolsPerFrame must be a positive integer, got ${maxSymbols}`);
  const durations = options.durations ?? null;
  if (durations && (durations.length === 0 || durations.some((d) => !Number.isInteger(d) || d < 0)))
    throw new RangeError(`TDT durations must be non-negative integers, got ${durations.join(', ')}`);
  const n = lengths.length;
  if (encoderOut.length < n * maxFrames * encoderDim)
    throw new RangeError(
      `encoderOut holds ${encoderOut.length} values, fewer than ${n} x ${maxFrames} x ${encoderDim}`,
    );
  const sizes = network.stateSizes;
  const tokens: number[][] = lengths.map(() => []);
  const labels = new Int32Array(n).fill(blankId);
  const states = sizes.map((size) => new Float32Array(n * size));
  const frame = new Array<number>(n).fill(0);
  const symbols = new Array<number>(n).fill(0);
  const search = ++searches;

  for (;;) {
    const active: number[] = [];
    for (let i = 0; i < n; i++) if (frame[i]! < Math.min(lengths[i]!, maxFrames)) active.push(i);
    if (active.length === 0) break;
    const rows = active.length;
    const frames = new Float32Array(rows * encoderDim);
    const rowLabels = new Int32Array(rows);
    const rowStates = sizes.map((size) => new Float32Array(rows * size));
    active.forEach((i, row) => {
      const at = (i * maxFrames + frame[i]!) * encoderDim;
      frames.set(encoderOut.subarray(at, at + encoderDim), row * encoderDim);
      rowLabels[row] = labels[i]!;
      sizes.forEach((size, s) => rowStates[s]!.set(states[s]!.subarray(i * size, (i + 1) * size), row * size));
    });
    const keys = active.map((i) => `${search}:${i}:${tokens[i]!.length}`);
    const result = await network.step(frames, rowLabels, rowStates, rows, keys);
    const width = result.logits.length / rows;
    if (!Number.isInteger(width) || width < numClasses + (durations ? durations.length : 0)) {
      throw new RangeError(
        `the joint returned ${result.logits.length} values for ${rows} rows; expected ${numClasses}${durations ? ` + ${durations.length} durations` : ''} per row`,
      );
    }
    active.forEach((i, row) => {
      const base = row * width;
      const k = argmax(result.logits, base, numClasses);
      const blank = k === blankId || k === options.unkId;
      if (!blank) {
        tokens[i]!.push(k);
        labels[i] = k;
        sizes.forEach((size, s) => states[s]!.set(result.states[s]!.subarray(row * size, (row + 1) * size), i * size));
        symbols[i]!++;
      }
      let advance: number;
      if (durations) {
        advance = durations[argmax(result.logits, base + numClasses, durations.length)]!;
        if (advance === 0 && (blank || symbols[i]! >= maxSymbols)) advance = 1;
      } else {
        advance = blank || symbols[i]! >= maxSymbols ? 1 : 0;
      }
      if (advance > 0) {
        frame[i]! += advance;
        symbols[i] = 0;
      }
    });
  }
  return tokens;
}

/** [L, n, H] (ONNX state layout) -> [n, L * H] rows. */
export function stateRowsFromLayerMajor(values: Float32Array, layers: number, n: number, hidden: number): Float32Array {
  const rows = new Float32Array(layers * n * hidden);
  for (let l = 0; l < layers; l++) {
    for (let b = 0; b < n; b++)
      rows.set(values.subarray((l * n + b) * hidden, (l * n + b + 1) * hidden), (b * layers + l) * hidden);
  }
  return rows;
}

/** [n, L * H] rows -> [L, n, H] (ONNX state layout). */
export function stateRowsToLayerMajor(rows: Float32Array, layers: number, n: number, hidden: number): Float32Array {
  const values = new Float32Array(layers * n * hidden);
  for (let b = 0; b < n; b++) {
    for (let l = 0; l < layers; l++)
      values.set(rows.subarray((b * layers + l) * hidden, (b * layers + l + 1) * hidden), (l * n + b) * hidden);
  }
  return values;
}
