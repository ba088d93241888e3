/**
 * A Hugging Face CTC model (Wav2Vec2ForCTC, HubertForCTC, WavLMForCTC,
 * Wav2Vec2ConformerForCTC, Data2VecAudioForCTC, ...) as `optimum-cli export onnx` writes it:
 * model.onnx (input_values [batch, samples] -> logits [batch, frames, classes]; an
 * attention_mask input only in custom exports) next to config.json, preprocessor_config.json
 * and the tokenizer files (vocab.json, tokenizer_config.json, optional added_tokens.json and
 * special_tokens_map.json).
 *
 * Frontend: the raw waveform at preprocessor_config.json sampling_rate, normalized per
 * utterance when do_normalize (Wav2Vec2FeatureExtractor). Blank: the tokenizer's pad token.
 * Output frames: config.json's convolution stack (conv_kernel, conv_stride, and the adapter
 * layers when add_adapter), as `_get_feat_extract_output_lengths`. Text: the ASR pipeline's
 * CTC decoding (hf-tokenizer.ts).
 *
 * Batching: without an attention_mask input (every Optimum export), zero padding changes the
 * output (feat_extract_norm "group" normalizes over time; attention sees padded frames), and
 * so does a mask on a "group" model; such models run one file at a time, which is what the
 * transformers pipeline computes for each file on its own.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RoteError } from '../../util/errors.ts';
import { buildHfTokenizer, hfCtcText } from '../hf-tokenizer.ts';
import { createCtcEngine } from './ctc-engine.ts';
import { hasInputs, hasOutputs, onnxWhere, preferFullPrecision, SIDECAR_NAME } from './common.ts';
import type { DirectoryFacts, Detection, FamilyDefinition } from './types.ts';

const REQUIRED = ['config.json', 'preprocessor_config.json', 'vocab.json', 'tokenizer_config.json'];
const OPTIONAL = ['added_tokens.json', 'special_tokens_map.json'];

async function readJson(dir: string, name: string): Promise<{ path: string; value: unknown }> {
  const path = join(dir, name);
  try {
    return { path, value: JSON.parse(await readFile(path, 'utf8')) };
  } catch (error) {
    throw new RoteError(`${path}: not readable JSON (${(error as Error).message})`, { cause: error });
  }
}

function record(file: { path: string; value: unknown }): Record<string, unknown> {
  if (typeof file.value !== 'object' || file.value === null || Array.isArray(file.value))
    throw new RoteError(`${file.path}: must be a JSON object`);
  return file.value as Record<string, unknown>;
}

function integers(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((v) => Number.isInteger(v) && v > 0);
}

/** `_get_feat_extract_output_lengths`: output frames of the convolution stack (and adapter) for `samples`. */
export function hfOutputFrames(samples: number, stack: HfConvStack): number {
  let length = samples;
  for (let i = 0; i < stack.kernels.length; i++)
    length = Math.floor((length - stack.kernels[i]!) / stack.strides[i]!) + 1;
  for (let i = 0; i < stack.adapterLayers; i++) length = Math.floor((length - 1) / stack.adapterStride) + 1;
  return Math.max(0, length);
}

interface HfConvStack {
  kernels: number[];
  strides: number[];
  adapterLayers: number;
  adapterStride: number;
}

function convStack(config: Record<string, unknown>, path: string): HfConvStack {
  const { conv_kernel: kernels, conv_stride: strides } = config;
  if (!integers(kernels) || !integers(strides) || kernels.length !== strides.length)
    throw new RoteError(
      `${path}: "conv_kernel" and "conv_stride" must be lists of positive integers of the same length (got ${JSON.stringify(kernels)} and ${JSON.stringify(strides)})`,
    );
  const adapter = config.add_adapter === true;
  const adapterLayers = adapter ? Number(config.num_adapter_layers ?? 3) : 0;
  const adapterStride = Number(config.adapter_stride ?? 2);
  if (adapter && (!Number.isInteger(adapterLayers) || !Number.isInteger(adapterStride) || adapterStride < 1))
    throw new RoteError(`${path}: "num_adapter_layers" / "adapter_stride" must be positive integers`);
  return { kernels, strides, adapterLayers, adapterStride };
}

function candidates(facts: DirectoryFacts): string[] {
  return onnxWhere(facts, (f) => hasInputs(f, ['input_values']) && hasOutputs(f, ['logits']));
}

export const hfCtc: FamilyDefinition = {
  name: 'hf-ctc',
  summary: `Hugging Face *ForCTC exported by Optimum (model.onnx with input_values -> logits, ${REQUIRED.join(', ')})`,
  detect(facts: DirectoryFacts): Detection {
    const missing: string[] = [];
    if (facts.sidecar) missing.push(`${SIDECAR_NAME} present (the sidecar family takes precedence)`);
    const models = candidates(facts);
    if (models.length === 0) missing.push('an .onnx file with input input_values and output logits');
    missing.push(...REQUIRED.filter((name) => !facts.files.includes(name)));
    if (missing.length > 0) return { ok: false, missing };
    const model = preferFullPrecision(models)!;
    const f = facts.onnx.get(model)!;
    const optional = OPTIONAL.filter((name) => facts.files.includes(name));
    const because = [
      `${model}: input ${f.inputs.map((i) => i.name).join(', ')}, output logits (Optimum's CTC export)`,
      `${REQUIRED.join(', ')} present${optional.length ? ` (and ${optional.join(', ')})` : ''}`,
    ];
    if (models.length > 1) because.push(`chose ${model} among ${models.join(', ')} (full precision first)`);
    return { ok: true, because };
  },
  async load(facts, detectedBecause, options) {
    const modelFile = preferFullPrecision(candidates(facts))!;
    const f = facts.onnx.get(modelFile)!;
    const configFile = await readJson(facts.dir, 'config.json');
    const config = record(configFile);
    const preprocessorFile = await readJson(facts.dir, 'preprocessor_config.json');
    const preprocessor = record(preprocessorFile);
    const present = OPTIONAL.filter((name) => facts.files.includes(name));
    const optional = Object.fromEntries(
      await Promise.all(present.map(async (name) => [name, await readJson(facts.dir, name)] as const)),
    );
    const extractor = preprocessor.feature_extractor_type;
    if (extractor !== undefined && extractor !== 'Wav2Vec2FeatureExtractor')
      throw new RoteError(
        `${preprocessorFile.path}: feature_extractor_type "${String(extractor)}" is not supported (rote runs Wav2Vec2FeatureExtractor models: raw waveform input)`,
      );
    const sampleRate = preprocessor.sampling_rate ?? 16000;
    if (!Number.isInteger(sampleRate) || (sampleRate as number) < 1)
      throw new RoteError(
        `${preprocessorFile.path}: "sampling_rate" must be a positive integer, got ${JSON.stringify(sampleRate)}`,
      );
    const classes = config.vocab_size;
    if (!Number.isInteger(classes) || (classes as number) < 2)
      throw new RoteError(
        `${configFile.path}: "vocab_size" must be the number of output classes, got ${JSON.stringify(classes)}`,
      );
    const stack = convStack(config, configFile.path);
    const tokenizer = buildHfTokenizer(
      {
        vocab: await readJson(facts.dir, 'vocab.json'),
        tokenizerConfig: await readJson(facts.dir, 'tokenizer_config.json'),
        addedTokens: optional['added_tokens.json'],
        specialTokensMap: optional['special_tokens_map.json'],
      },
      classes as number,
    );
    const { vocabulary } = tokenizer;
    if (config.pad_token_id !== undefined && config.pad_token_id !== null && config.pad_token_id !== vocabulary.blankId)
      throw new RoteError(
        `${configFile.path}: pad_token_id ${JSON.stringify(config.pad_token_id)} (the CTC loss blank) differs from the tokenizer's pad token "${tokenizer.padToken}" (id ${vocabulary.blankId}); use the tokenizer that came with the model`,
      );
    const mask = hasInputs(f, ['attention_mask']) ? 'attention_mask' : null;
    const norm = config.feat_extract_norm === 'layer' ? 'layer' : 'group';
    const padSensitive = !(mask && norm === 'layer');
    const normalize = preprocessor.do_normalize !== false;
    const subsampling = [...stack.strides, ...Array<number>(stack.adapterLayers).fill(stack.adapterStride)].reduce(
      (a, b) => a * b,
      1,
    );
    const because = [
      ...detectedBecause,
      `${String(config.model_type ?? 'model')} (${Array.isArray(config.architectures) ? config.architectures.join(', ') : 'architecture not named'}), feat_extract_norm "${norm}"`,
      `raw waveform at ${sampleRate} Hz${normalize ? ', normalized per utterance (do_normalize)' : ''}`,
      `blank = pad token ${JSON.stringify(tokenizer.padToken)} (id ${vocabulary.blankId}); word delimiter ${JSON.stringify(tokenizer.delimiterToken)} -> space`,
      `output frames from the convolution stack: kernels ${stack.kernels.join(',')}, strides ${stack.strides.join(',')}${stack.adapterLayers ? `, ${stack.adapterLayers} adapter layers of stride ${stack.adapterStride}` : ''}`,
      padSensitive
        ? `${mask ? 'attention_mask on a "group" model' : 'no attention_mask input'}: padding would change the output, so each file runs on its own (as Hugging Face computes it)`
        : 'attention_mask input on a "layer" model: batches padded and masked',
    ];
    return createCtcEngine(
      {
        family: 'hf-ctc',
        dir: facts.dir,
        modelFile,
        facts: f,
        otherFiles: [...REQUIRED, ...present],
        featuresInput: 'input_values',
        layout: 'BT',
        lengthsInput: null,
        maskInput: mask,
        output: 'logits',
        outputIsLogProbs: false,
        frontend: {
          type: 'waveform',
          sampleRate: sampleRate as number,
          normalize: normalize ? 'per_utterance' : 'none',
        },
        vocabulary,
        subsampling,
        outputLengthRule: (samples) => hfOutputFrames(samples, stack),
        padSensitive,
        transcript: (ids) => hfCtcText(tokenizer, ids),
        detectedBecause: because,
      },
      options,
    );
  },
};
