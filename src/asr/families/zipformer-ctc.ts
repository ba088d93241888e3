/**
 * An icefall Zipformer CTC model (zipformer/export-onnx-ctc.py, also what sherpa-onnx
 * distributes; a causal "streaming" Zipformer exported by the same script has the same
 * interface): one model.onnx (x [N, T, 80] + x_lens int64 -> log_probs [N, T', V],
 * log_probs_len) with metadata model_type=zipformer2_ctc, and tokens.txt (<blk> 0, ...).
 * Features: kaldi fbank as icefall and sherpa-onnx compute it (samples in [-1, 1], 25/10 ms,
 * povey, snip_edges false, high_freq -400); output frames from log_probs_len.
 */
import { join } from 'node:path';
import { RoteError } from '../../util/errors.ts';
import { loadVocabulary } from '../vocabulary.ts';
import { createCtcEngine } from './ctc-engine.ts';
import { metadataModels, modelMelBins, preferFullPrecision, SIDECAR_NAME } from './common.ts';
import type { DirectoryFacts, Detection, FamilyDefinition } from './types.ts';

/** Zipformer's encoder_embed and output downsampling: ((T - 7) // 2 + 1) // 2, about T / 4. */
const SUBSAMPLING = 4;

const candidates = (facts: DirectoryFacts): string[] => metadataModels(facts, 'zipformer2_ctc', ['x', 'x_lens']);

export const zipformerCtc: FamilyDefinition = {
  name: 'zipformer-ctc',
  summary: 'icefall Zipformer CTC (export-onnx-ctc.py: model.onnx with metadata model_type=zipformer2_ctc, tokens.txt)',
  detect(facts: DirectoryFacts): Detection {
    const missing: string[] = [];
    if (facts.sidecar) missing.push(`${SIDECAR_NAME} present (the sidecar family takes precedence)`);
    const models = candidates(facts);
    if (models.length === 0) missing.push('an .onnx file with inputs x, x_lens and metadata model_type=zipformer2_ctc');
    if (!facts.files.includes('tokens.txt')) missing.push('tokens.txt');
    if (missing.length > 0) return { ok: false, missing };
    const model = preferFullPrecision(models)!;
    return {
      ok: true,
      because: [`${model}: metadata model_type=zipformer2_ctc; inputs x, x_lens`, 'tokens.txt present'],
    };
  },
  async load(facts, detectedBecause, options) {
    const modelFile = preferFullPrecision(candidates(facts))!;
    const f = facts.onnx.get(modelFile)!;
    const vocabulary = await loadVocabulary(join(facts.dir, 'tokens.txt'), 'from-file');
    const bins = modelMelBins(f, 'x', 2);
    const output = f.outputs.some((o) => o.name === 'log_probs') ? 'log_probs' : f.outputs[0]?.name;
    if (!output) throw new RoteError(`${f.path}: the model declares no outputs`);
    return createCtcEngine(
      {
        family: 'zipformer-ctc',
        dir: facts.dir,
        modelFile,
        facts: f,
        otherFiles: ['tokens.txt'],
        featuresInput: 'x',
        layout: 'BTF',
        lengthsInput: 'x_lens',
        output,
        outputIsLogProbs: true,
        frontend: { type: 'kaldi-fbank', numBins: bins.numBins },
        vocabulary,
        subsampling: SUBSAMPLING,
        outputLengthRule: 'floor',
        detectedBecause: [
          ...detectedBecause,
          `features: ${bins.because}; kaldi fbank as icefall / sherpa-onnx (samples in [-1, 1])`,
          `blank ${JSON.stringify(vocabulary.pieces[vocabulary.blankId])} (id ${vocabulary.blankId})`,
        ],
      },
      options,
    );
  },
};
