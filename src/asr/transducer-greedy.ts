/**
 * Greedy search for a stateless transducer (icefall / sherpa-onnx style): the
 * decoder sees the last `contextSize` tokens, the joiner scores one encoder frame
 * against one decoder output. The networks are passed in as functions, so the
 * search is independent of ONNX Runtime and testable with hand-made ones.
 *
 * It is the one transducer search (transducer-stateful.ts) with the decoder's context
 * as the "state": the contextSize - 1 labels before the last one, stored + 1 so that
 * the all-zero start state is icefall's [-1, ..., -1, blankId] (-1 = "no token", which
 * icefall decoders embed as zeros). Conventions (sherpa-onnx's offline greedy search,
 * icefall's greedy_search): up to `maxSymbolsPerFrame` symbols per frame (1 = sherpa-onnx's
 * offline behaviour); an emitted `<unk>` (when `unkId` is given) is read as blank; the
 * decoder reruns only for rows that emitted; every call takes the rows still active.
 */
import { PredictionCache, statefulTransducerGreedy, type StatefulTransducerNetwork } from './transducer-stateful.ts';

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
  /** Kept for callers; the search reads the width from the decoder's output. */
  decoderDim: number;
  maxSymbolsPerFrame?: number;
  unkId?: number;
}

interface Decoded {
  output: Float32Array;
  /** The context after this row's label, + 1. */
  state: Float32Array;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A stateless decoder and joiner as a network of the one search (the state: the context before the last label). */
export function statelessNetwork(networks: TransducerNetworks, contextSize: number): StatefulTransducerNetwork {
  const history = contextSize - 1;
  const cache = new PredictionCache<Decoded>();
  return {
    stateSizes: [history],
    async step(frames, labels, states, n, keys) {
      const entries = await cache.rows(n, keys, async (stale) => {
        const contexts = stale.map((r) => [
          ...Array.from(states[0]!.subarray(r * history, (r + 1) * history), (v) => v - 1),
          labels[r]!,
        ]);
        const decoded = await networks.decoder(contexts);
        const width = decoded.length / stale.length;
        return stale.map((_, j) => ({
          output: decoded.slice(j * width, (j + 1) * width),
          state: Float32Array.from(contexts[j]!.slice(1), (v) => v + 1),
        }));
      });
      const logits = await networks.joiner(frames, concat(entries.map((e) => e.output)), n);
      return { logits, states: [concat(entries.map((e) => e.state))] };
    },
  };
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
  return statefulTransducerGreedy(encoderOut, lengths, maxFrames, statelessNetwork(networks, options.contextSize), {
    blankId: options.blankId,
    numClasses: options.vocabSize,
    encoderDim: options.encoderDim,
    maxSymbolsPerFrame: options.maxSymbolsPerFrame ?? 1,
    ...(options.unkId !== undefined ? { unkId: options.unkId } : {}),
  });
}
