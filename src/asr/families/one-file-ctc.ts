/**
 * What the one-file CTC exports that sherpa-onnx runs share (sherpa-wenet-ctc.ts, zipformer-ctc.ts):
 * a model.onnx with inputs x [N, T, F] + x_lens and a log_probs output, found by its metadata
 * model_type, next to tokens.txt. Each family adds its frontend, subsampling and checks.
 */
import { join } from 'node:path';
import type { KaldiFbankOptions } from '../../audio/index.ts';
import { RoteError } from '../../util/errors.ts';
import type { RuntimeOptions } from '../runtime.ts';
import { loadVocabulary, type Vocabulary } from '../vocabulary.ts';
import { createCtcEngine } from './ctc-engine.ts';
import { metadataModels, modelMelBins, preferFullPrecision, SIDECAR_NAME } from './common.ts';
import type { DirectoryFacts, Detection, FamilyName } from './types.ts';
import type { OnnxFileFacts } from '../onnx-file.ts';

const oneFileCandidates = (facts: DirectoryFacts, modelType: string): string[] =>
  metadataModels(facts, modelType, ['x', 'x_lens']);

/** Detection of a one-file export by its metadata model_type and tokens.txt; `because` adds the model's own facts. */
export function detectOneFileCtc(
  facts: DirectoryFacts,
  modelType: string,
  because: (model: string, f: OnnxFileFacts) => string,
): Detection {
  const missing: string[] = [];
  if (facts.sidecar) missing.push(`${SIDECAR_NAME} present (the sidecar family takes precedence)`);
  const models = oneFileCandidates(facts, modelType);
  if (models.length === 0) missing.push(`an .onnx file with inputs x, x_lens and metadata model_type=${modelType}`);
  if (!facts.files.includes('tokens.txt')) missing.push('tokens.txt');
  if (missing.length > 0) return { ok: false, missing };
  const model = preferFullPrecision(models)!;
  return { ok: true, because: [because(model, facts.onnx.get(model)!), 'tokens.txt present'] };
}

/** The one-file export's engine: x/x_lens in, log-probs out, kaldi fbank with the family's settings. */
export async function loadOneFileCtc(
  facts: DirectoryFacts,
  detectedBecause: string[],
  options: RuntimeOptions,
  family: {
    name: FamilyName;
    modelType: string;
    subsampling: (f: OnnxFileFacts) => number;
    checkVocabulary?: (f: OnnxFileFacts, vocabulary: Vocabulary) => void;
    fbank: Readonly<Partial<KaldiFbankOptions>>;
    featuresNote: string;
  },
) {
  const modelFile = preferFullPrecision(oneFileCandidates(facts, family.modelType))!;
  const f = facts.onnx.get(modelFile)!;
  const subsampling = family.subsampling(f);
  const vocabulary = await loadVocabulary(join(facts.dir, 'tokens.txt'), 'from-file');
  family.checkVocabulary?.(f, vocabulary);
  const bins = modelMelBins(f, 'x', 2);
  const output = f.outputs.some((o) => o.name === 'log_probs') ? 'log_probs' : f.outputs[0]?.name;
  if (!output) throw new RoteError(`${f.path}: the model declares no outputs`);
  return createCtcEngine(
    {
      family: family.name,
      dir: facts.dir,
      modelFile,
      facts: f,
      otherFiles: ['tokens.txt'],
      featuresInput: 'x',
      layout: 'BTF',
      lengthsInput: 'x_lens',
      output,
      outputIsLogProbs: true,
      frontend: { type: 'kaldi-fbank', numBins: bins.numBins, ...family.fbank },
      vocabulary,
      subsampling,
      outputLengthRule: 'floor',
      detectedBecause: [
        ...detectedBecause,
        `features: ${bins.because}; ${family.featuresNote}`,
        `blank ${JSON.stringify(vocabulary.pieces[vocabulary.blankId])} (id ${vocabulary.blankId})`,
      ],
    },
    options,
  );
}
