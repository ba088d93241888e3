/**
 * An icefall Zipformer CTC model (zipformer/export-onnx-ctc.py, also what sherpa-onnx
 * distributes; a causal "streaming" Zipformer exported by the same script has the same
 * interface): one model.onnx (x [N, T, 80] + x_lens int64 -> log_probs [N, T', V],
 * log_probs_len) with metadata model_type=zipformer2_ctc, and tokens.txt (<blk> 0, ...).
 * Features: kaldi fbank as icefall and sherpa-onnx compute it (samples in [-1, 1], 25/10 ms,
 * povey, snip_edges false, high_freq -400); output frames from log_probs_len.
 */
import { detectOneFileCtc, loadOneFileCtc } from './one-file-ctc.ts';
import type { FamilyDefinition } from './types.ts';

/** Zipformer's encoder_embed and output downsampling: ((T - 7) // 2 + 1) // 2, about T / 4. */
const SUBSAMPLING = 4;

export const zipformerCtc: FamilyDefinition = {
  name: 'zipformer-ctc',
  summary: 'icefall Zipformer CTC (export-onnx-ctc.py: model.onnx with metadata model_type=zipformer2_ctc, tokens.txt)',
  detect: (facts) =>
    detectOneFileCtc(
      facts,
      'zipformer2_ctc',
      (model) => `${model}: metadata model_type=zipformer2_ctc; inputs x, x_lens`,
    ),
  load: (facts, detectedBecause, options) =>
    loadOneFileCtc(facts, detectedBecause, options, {
      name: 'zipformer-ctc',
      modelType: 'zipformer2_ctc',
      subsampling: () => SUBSAMPLING,
      fbank: {},
      featuresNote: 'kaldi fbank as icefall / sherpa-onnx (samples in [-1, 1])',
    }),
};
