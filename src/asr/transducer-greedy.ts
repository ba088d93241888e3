/**
 * Greedy search for a stateless transducer (icefall / sherpa-onnx style): the
 * decoder sees the last `contextSize` tokens, the joiner scores one encoder frame
 * against one decoder output. The networks are passed in as functions, so the
 * search itself is independent of ONNX Runtime and testable with hand-made ones.
 *
 * Conventions (as sherpa-onnx's offline greedy search and icefall's greedy_search):
 * - the initial context is [-1, ..., -1, blankId] (-1 = "no token", which icefall
 *   decoders embed as zeros);
 * - per frame, up to `maxSymbolsPerFrame` symbols are emitted; the joiner is rerun on
 *   the same frame after each emission (1 = sherpa-onnx's offline behaviour);
 * - an emitted `<unk>` (when `unkId` is given) is treated as blank, like sherpa-onnx;
 * - utterances are decoded together: each joiner/decoder call takes the utterances
 *   still active at that frame, so the calls are batched.
 */

export interface TransducerNetworks {
  /** contexts: n x contextSize token ids (row-major) -> n x decoderDim outputs. */
  decoder(contexts: number[][]): Promise<Float32Array>;
  /** encoderFrames, decoderOutputs: n x dim each -> n x vocabSize logits. */
  joiner(encoderFrames: Float32Array, decoderOutputs: Float32Array, n: number): Promise<Float32Array>;
}

export interface TransducerGreedyOptions {
  blankId: number;
  contextSize: number;
  vocabSize: number;
  /** Dimension of one encoder frame (and of one decoder output: the joiner adds them). */
  encoderDim: number;
  decoderDim: number;
  maxSymbolsPerFrame?: number;
  unkId?: number;
}

/**
 * encoderOut: [N, T, encoderDim] row-major (padded); lengths: valid frames per utterance.
 * Returns the emitted token ids per utterance.
 */
export async function transducerGreedy(
  encoderOut: Float32Array,
  lengths: number[],
  maxFrames: number,
  networks: TransducerNetworks,
  options: TransducerGreedyOptions,
): Promise<number[][]> {
  const { blankId, contextSize, vocabSize, encoderDim, decoderDim } = options;
  const maxSymbols = options.maxSymbolsPerFrame ?? 1;
  if (!Number.isInteger(maxSymbols) || maxSymbols < 1)
    throw new RangeError(`maxSymbolsPerFrame must be a positive integer, got ${maxSymbols}`);
  const n = lengths.length;
  if (encoderOut.length < n * maxFrames * encoderDim)
    throw new RangeError(
      `encoderOut holds ${encoderOut.length} values, fewer than ${n} x ${maxFrames} x ${encoderDim}`,
    );
  const hypotheses: number[][] = lengths.map(() => [...new Array<number>(contextSize - 1).fill(-1), blankId]);
  const decoderOut = new Float32Array(n * decoderDim);

  const refreshDecoder = async (which: number[]): Promise<void> => {
    if (which.length === 0) return;
    const out = await networks.decoder(which.map((i) => hypotheses[i]!.slice(-contextSize)));
    which.forEach((i, row) => decoderOut.set(out.subarray(row * decoderDim, (row + 1) * decoderDim), i * decoderDim));
  };
  await refreshDecoder(lengths.map((_, i) => i));

  for (let t = 0; t < maxFrames; t++) {
    let pending = lengths.map((length, i) => (t < length ? i : -1)).filter((i) => i >= 0);
    for (let symbol = 0; symbol < maxSymbols && pending.length > 0; symbol++) {
      const frames = new Float32Array(pending.length * encoderDim);
      const decoded = new Float32Array(pending.length * decoderDim);
      pending.forEach((i, row) => {
        const at = (i * maxFrames + t) * encoderDim;
        frames.set(encoderOut.subarray(at, at + encoderDim), row * encoderDim);
        decoded.set(decoderOut.subarray(i * decoderDim, (i + 1) * decoderDim), row * decoderDim);
      });
      const logits = await networks.joiner(frames, decoded, pending.length);
      const emitted: number[] = [];
      pending.forEach((i, row) => {
        const base = row * vocabSize;
        let best = 0;
        for (let k = 1; k < vocabSize; k++) if (logits[base + k]! > logits[base + best]!) best = k;
        if (best !== blankId && best !== options.unkId) {
          hypotheses[i]!.push(best);
          emitted.push(i);
        }
      });
      await refreshDecoder(emitted);
      pending = emitted;
    }
  }
  return hypotheses.map((h) => h.slice(contextSize));
}
