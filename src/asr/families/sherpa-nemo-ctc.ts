/**
 * A NeMo CTC model as sherpa-onnx distributes it: one model.onnx (NeMo export:
 * audio_signal [B, 80, T] + length -> logprobs) whose metadata carries
 * `vocab_size` and `subsampling_factor` (both required), `normalize_type`
 * ("per_feature" or ""/"NA") and usually `model_type` EncDecCTCModel[BPE], plus
 * tokens.txt whose <blk> line gives the blank id.
 *
 * Features: NeMo's own (nemo-mel, normalization from normalize_type), because that
 * is what the network was trained on; `sherpaCompatible` switches to sherpa-onnx's
 * variant (sherpa-nemo-mel) and its floor(T / subsampling) output frames.
 */
import { join } from 'node:path';
import { RoteError } from '../../util/errors.ts';
import type { OnnxFileFacts } from '../onnx-file.ts';
import { loadVocabulary } from '../vocabulary.ts';
import { createCtcEngine } from './ctc-engine.ts';
import {
  hasInputs,
  hasOutputs,
  modelMelBins,
  onnxWhere,
  positiveIntegerMetadata,
  preferFullPrecision,
  SIDECAR_NAME,
} from './common.ts';
import type { DirectoryFacts, Detection, FamilyDefinition } from './types.ts';

/** A NeMo transducer's encoder (sherpa-onnx writes the same metadata on it): prediction-network metadata, or NeMo's bare encoder outputs. */
function isTransducerEncoder(f: OnnxFileFacts): boolean {
  return (
    f.metadata.pred_rnn_layers !== undefined ||
    f.metadata.pred_hidden !== undefined ||
    (hasOutputs(f, ['outputs', 'encoded_lengths']) && !hasOutputs(f, ['logprobs']))
  );
}

function candidates(facts: DirectoryFacts): string[] {
  return onnxWhere(
    facts,
    (f) =>
      f.metadata.vocab_size !== undefined &&
      f.metadata.subsampling_factor !== undefined &&
      hasInputs(f, ['audio_signal', 'length']) &&
      !isTransducerEncoder(f),
  );
}

export const sherpaNemoCtc: FamilyDefinition = {
  name: 'sherpa-nemo-ctc',
  summary: 'NeMo CTC export with sherpa-onnx metadata (vocab_size, subsampling_factor, normalize_type) and tokens.txt',
  detect(facts: DirectoryFacts): Detection {
    const missing: string[] = [];
    if (facts.sidecar) missing.push(`${SIDECAR_NAME} present (the sidecar family takes precedence)`);
    const models = candidates(facts);
    if (models.length === 0)
      missing.push(
        'an .onnx file with inputs audio_signal + length and metadata vocab_size + subsampling_factor (not a transducer encoder)',
      );
    if (!facts.files.includes('tokens.txt')) missing.push('tokens.txt');
    if (missing.length > 0) return { ok: false, missing };
    const model = preferFullPrecision(models)!;
    const f = facts.onnx.get(model)!;
    const because = [
      `${model}: inputs audio_signal, length; metadata vocab_size=${f.metadata.vocab_size}, subsampling_factor=${f.metadata.subsampling_factor}, normalize_type="${f.metadata.normalize_type ?? ''}"${f.metadata.model_type ? `, model_type=${f.metadata.model_type}` : ''}`,
      'tokens.txt present',
    ];
    if (models.length > 1) because.push(`chose ${model} among ${models.join(', ')} (full precision first)`);
    return { ok: true, because };
  },
  async load(facts, detectedBecause, options) {
    let because = detectedBecause;
    const modelFile = preferFullPrecision(candidates(facts))!;
    const f = facts.onnx.get(modelFile)!;
    const vocabSize = positiveIntegerMetadata(f, 'vocab_size');
    const subsampling = positiveIntegerMetadata(f, 'subsampling_factor');
    if (vocabSize === null)
      throw new RoteError(`${f.path}: metadata vocab_size="${f.metadata.vocab_size}" is not a positive integer`);
    if (subsampling === null)
      throw new RoteError(
        `${f.path}: metadata subsampling_factor="${f.metadata.subsampling_factor}" is not a positive integer`,
      );
    const vocabulary = await loadVocabulary(join(facts.dir, 'tokens.txt'), 'from-file');
    // CTC heads exported from hybrid RNNT-CTC models write vocab_size without the blank while
    // tokens.txt ends with it; sherpa-onnx accepts that, so does rote.
    const blankAppended =
      vocabulary.pieces.length === vocabSize + 1 &&
      vocabulary.pieces[vocabSize] === '<blk>' &&
      vocabulary.blankId === vocabSize;
    if (vocabulary.pieces.length !== vocabSize && !blankAppended) {
      throw new RoteError(
        `${vocabulary.source}: ${vocabulary.pieces.length} tokens but ${f.path} metadata says vocab_size=${vocabSize}; use the tokens.txt that came with the model`,
      );
    }
    if (blankAppended)
      because = [
        ...because,
        `vocab_size=${vocabSize} counts no blank (a hybrid model's CTC head): tokens.txt adds <blk> as id ${vocabSize}`,
      ];
    const normalizeType = (f.metadata.normalize_type ?? '').trim();
    if (!['', 'NA', 'per_feature'].includes(normalizeType)) {
      throw new RoteError(
        `${f.path}: metadata normalize_type="${normalizeType}" is not supported (rote knows "per_feature" and "" / "NA")`,
      );
    }
    const normalize = normalizeType === 'per_feature' ? 'per_feature' : 'none';
    const bins = modelMelBins(f, 'audio_signal', 1);
    because = [...because, `features: ${bins.because}`];
    const output = hasOutputs(f, ['logprobs']) ? 'logprobs' : f.outputs[0]?.name;
    if (!output) throw new RoteError(`${f.path}: the model declares no outputs`);
    return createCtcEngine(
      {
        family: 'sherpa-nemo-ctc',
        dir: facts.dir,
        modelFile,
        facts: f,
        otherFiles: ['tokens.txt'],
        featuresInput: 'audio_signal',
        layout: 'BFT',
        lengthsInput: 'length',
        output,
        outputIsLogProbs: true,
        frontend: options.sherpaCompatible
          ? { type: 'sherpa-nemo-mel', numBins: bins.numBins, normalize }
          : { type: 'nemo-mel', numBins: bins.numBins, normalize },
        vocabulary,
        subsampling,
        outputLengthRule: options.sherpaCompatible ? 'floor' : 'ceil',
        detectedBecause: options.sherpaCompatible
          ? [...because, 'sherpa-compatible: sherpa-nemo-mel features, floor(T / subsampling) output frames']
          : because,
      },
      options,
    );
  },
};
