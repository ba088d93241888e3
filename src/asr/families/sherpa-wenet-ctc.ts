/**
 * A WeNet CTC model as sherpa-onnx exports it (scripts/wenet/export-onnx.py): one model.onnx
 * (x [N, T, 80] + x_lens int64 -> log_probs [N, T', V], log_probs_lens) with metadata
 * model_type=wenet_ctc, subsampling_factor and vocab_size, and tokens.txt (<blank> 0, ...,
 * <sos/eos> last). Features: sherpa-onnx's kaldi fbank with normalize_samples false (samples
 * x 32768, as WeNet trains); output frames from log_probs_lens.
 */
import { join } from 'node:path';
import { SHERPA_WENET_FBANK } from '../../audio/index.ts';
import { RoteError } from '../../util/errors.ts';
import { loadVocabulary } from '../vocabulary.ts';
import { createCtcEngine } from './ctc-engine.ts';
import { metadataModels, modelMelBins, positiveIntegerMetadata, preferFullPrecision, SIDECAR_NAME } from './common.ts';
import type { DirectoryFacts, Detection, FamilyDefinition } from './types.ts';

const candidates = (facts: DirectoryFacts): string[] => metadataModels(facts, 'wenet_ctc', ['x', 'x_lens']);

export const sherpaWenetCtc: FamilyDefinition = {
  name: 'sherpa-wenet-ctc',
  summary: 'WeNet CTC exported for sherpa-onnx (model.onnx with metadata model_type=wenet_ctc, tokens.txt)',
  detect(facts: DirectoryFacts): Detection {
    const missing: string[] = [];
    if (facts.sidecar) missing.push(`${SIDECAR_NAME} present (the sidecar family takes precedence)`);
    const models = candidates(facts);
    if (models.length === 0) missing.push('an .onnx file with inputs x, x_lens and metadata model_type=wenet_ctc');
    if (!facts.files.includes('tokens.txt')) missing.push('tokens.txt');
    if (missing.length > 0) return { ok: false, missing };
    const model = preferFullPrecision(models)!;
    const f = facts.onnx.get(model)!;
    return {
      ok: true,
      because: [
        `${model}: metadata model_type=wenet_ctc, subsampling_factor=${f.metadata.subsampling_factor ?? '?'}, vocab_size=${f.metadata.vocab_size ?? '?'}; inputs x, x_lens`,
        'tokens.txt present',
      ],
    };
  },
  async load(facts, detectedBecause, options) {
    const modelFile = preferFullPrecision(candidates(facts))!;
    const f = facts.onnx.get(modelFile)!;
    const subsampling = positiveIntegerMetadata(f, 'subsampling_factor');
    if (subsampling === null)
      throw new RoteError(
        `${f.path}: metadata subsampling_factor="${f.metadata.subsampling_factor}" is not a positive integer`,
      );
    const vocabulary = await loadVocabulary(join(facts.dir, 'tokens.txt'), 'from-file');
    const vocabSize = positiveIntegerMetadata(f, 'vocab_size');
    if (vocabSize !== null && vocabSize !== vocabulary.pieces.length)
      throw new RoteError(
        `${vocabulary.source}: ${vocabulary.pieces.length} tokens but ${f.path} metadata says vocab_size=${vocabSize}; use the tokens.txt that came with the model`,
      );
    const bins = modelMelBins(f, 'x', 2);
    const output = f.outputs.some((o) => o.name === 'log_probs') ? 'log_probs' : f.outputs[0]?.name;
    if (!output) throw new RoteError(`${f.path}: the model declares no outputs`);
    return createCtcEngine(
      {
        family: 'sherpa-wenet-ctc',
        dir: facts.dir,
        modelFile,
        facts: f,
        otherFiles: ['tokens.txt'],
        featuresInput: 'x',
        layout: 'BTF',
        lengthsInput: 'x_lens',
        output,
        outputIsLogProbs: true,
        frontend: { type: 'kaldi-fbank', numBins: bins.numBins, ...SHERPA_WENET_FBANK },
        vocabulary,
        subsampling,
        outputLengthRule: 'floor',
        detectedBecause: [
          ...detectedBecause,
          `features: ${bins.because}; kaldi fbank as sherpa-onnx sets it for WeNet (samples x 32768)`,
          `blank ${JSON.stringify(vocabulary.pieces[vocabulary.blankId])} (id ${vocabulary.blankId})`,
        ],
      },
      options,
    );
  },
};
