/**
 * A NeMo CTC model as `model.export("model.onnx")` leaves it: no metadata, inputs
 * audio_signal [B, 80, T] + length, output logprobs [B, T', V + 1] with the blank
 * LAST. The vocabulary comes from tokens.txt ("<piece> <id>", blank line optional)
 * or NeMo's tokenizer vocab.txt ("##" continuation pieces); the blank is id V.
 * Subsampling is measured at load time by one probe run (PROBE_FRAMES in, T' out),
 * since the export does not record it; features are NeMo's (nemo-mel, per-feature
 * normalization, the Conformer/FastConformer configs' default).
 */
import { join } from 'node:path';
import { loadVocabulary } from '../vocabulary.ts';
import { createCtcEngine } from './ctc-engine.ts';
import { hasInputs, hasOutputs, modelMelBins, onnxWhere, preferFullPrecision, SIDECAR_NAME } from './common.ts';
import type { DirectoryFacts, Detection, FamilyDefinition } from './types.ts';

function candidates(facts: DirectoryFacts): string[] {
  return onnxWhere(
    facts,
    (f) =>
      hasInputs(f, ['audio_signal', 'length']) &&
      hasOutputs(f, ['logprobs']) &&
      (f.metadata.vocab_size === undefined || f.metadata.subsampling_factor === undefined),
  );
}

function vocabularyFile(facts: DirectoryFacts): string | undefined {
  return ['tokens.txt', 'vocab.txt'].find((name) => facts.files.includes(name));
}

export const nemoCtc: FamilyDefinition = {
  name: 'nemo-ctc',
  summary: 'plain NeMo CTC export (audio_signal, length -> logprobs; blank last) with tokens.txt or NeMo vocab.txt',
  detect(facts: DirectoryFacts): Detection {
    const missing: string[] = [];
    if (facts.sidecar) missing.push(`${SIDECAR_NAME} present (the sidecar family takes precedence)`);
    const models = candidates(facts);
    if (models.length === 0)
      missing.push(
        'an .onnx file with inputs audio_signal + length and output logprobs (without sherpa-onnx metadata)',
      );
    const vocab = vocabularyFile(facts);
    if (!vocab) missing.push("tokens.txt or vocab.txt (the model's tokenizer vocabulary)");
    if (missing.length > 0) return { ok: false, missing };
    const model = preferFullPrecision(models)!;
    return {
      ok: true,
      because: [
        `${model}: inputs audio_signal, length and output logprobs (NeMo export), no vocab_size/subsampling_factor metadata`,
        `${vocab} present; blank = last id`,
      ],
    };
  },
  async load(facts, because, options) {
    const modelFile = preferFullPrecision(candidates(facts))!;
    const f = facts.onnx.get(modelFile)!;
    const vocabName = vocabularyFile(facts)!;
    const vocabulary = await loadVocabulary(join(facts.dir, vocabName), 'last');
    const bins = modelMelBins(f, 'audio_signal', 1);
    return createCtcEngine(
      {
        family: 'nemo-ctc',
        dir: facts.dir,
        modelFile,
        facts: f,
        otherFiles: [vocabName],
        featuresInput: 'audio_signal',
        layout: 'BFT',
        lengthsInput: 'length',
        output: 'logprobs',
        outputIsLogProbs: true,
        frontend: options.sherpaCompatible
          ? { type: 'sherpa-nemo-mel', numBins: bins.numBins }
          : { type: 'nemo-mel', numBins: bins.numBins },
        vocabulary,
        subsampling: 'probe',
        outputLengthRule: options.sherpaCompatible ? 'floor' : 'ceil',
        detectedBecause: [...because, `features: ${bins.because}`],
      },
      options,
    );
  },
};
