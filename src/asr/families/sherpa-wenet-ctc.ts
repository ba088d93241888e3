/**
 * A WeNet CTC model as sherpa-onnx exports it (scripts/wenet/export-onnx.py): one model.onnx
 * (x [N, T, 80] + x_lens int64 -> log_probs [N, T', V], log_probs_lens) with metadata
 * model_type=wenet_ctc, subsampling_factor and vocab_size, and tokens.txt (<blank> 0, ...,
 * <sos/eos> last). Features: sherpa-onnx's kaldi fbank with normalize_samples false (samples
 * x 32768, as WeNet trains); output frames from log_probs_lens.
 */
import { SHERPA_WENET_FBANK } from '../../audio/index.ts';
import { RoteError } from '../../util/errors.ts';
import { positiveIntegerMetadata } from './common.ts';
import { detectOneFileCtc, loadOneFileCtc } from './one-file-ctc.ts';
import type { FamilyDefinition } from './types.ts';

export const sherpaWenetCtc: FamilyDefinition = {
  name: 'sherpa-wenet-ctc',
  summary: 'WeNet CTC exported for sherpa-onnx (model.onnx with metadata model_type=wenet_ctc, tokens.txt)',
  detect: (facts) =>
    detectOneFileCtc(
      facts,
      'wenet_ctc',
      (model, f) =>
        `${model}: metadata model_type=wenet_ctc, subsampling_factor=${f.metadata.subsampling_factor ?? '?'}, vocab_size=${f.metadata.vocab_size ?? '?'}; inputs x, x_lens`,
    ),
  load: (facts, detectedBecause, options) =>
    loadOneFileCtc(facts, detectedBecause, options, {
      name: 'sherpa-wenet-ctc',
      modelType: 'wenet_ctc',
      subsampling(f) {
        const subsampling = positiveIntegerMetadata(f, 'subsampling_factor');
        if (subsampling === null)
          throw new RoteError(
            `${f.path}: metadata subsampling_factor="${f.metadata.subsampling_factor}" is not a positive integer`,
          );
        return subsampling;
      },
      checkVocabulary(f, vocabulary) {
        const vocabSize = positiveIntegerMetadata(f, 'vocab_size');
        if (vocabSize !== null && vocabSize !== vocabulary.pieces.length)
          throw new RoteError(
            `${vocabulary.source}: ${vocabulary.pieces.length} tokens but ${f.path} metadata says vocab_size=${vocabSize}; use the tokens.txt that came with the model`,
          );
      },
      fbank: SHERPA_WENET_FBANK,
      featuresNote: 'kaldi fbank as sherpa-onnx sets it for WeNet (samples x 32768)',
    }),
};
