/**
 * NeMo Canary as onnx-asr loads it (model_type "nemo-conformer-aed"; its NemoConformerAED class):
 *   encoder-model.onnx: audio_signal [B, bins, T], length [B] -> encoder_embeddings [B, T', d],
 *     encoder_mask [B, T'];
 *   decoder-model.onnx: input_ids [B, n], encoder_embeddings, encoder_mask, decoder_mems [M, B, t, d]
 *     -> logits [B, n, V] (of every new position), decoder_hidden_states [M, B, t + n, d] (NeMo's
 *     decoder_mems_list: the memories of the next step); the first pass feeds the whole prompt with
 *     empty memories (t = 0), each step one token;
 *   vocab.txt ("<piece> <id>" per line), config.json (features_size, subsampling_factor,
 *     max_sequence_length).
 * Features: NeMo's log-mel (nemo-mel, features_size bins, per-feature normalization). Prompt and
 * score: canary-common.ts (with onnx-asr's leading "▁").
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RoteError } from '../../util/errors.ts';
import { featureTensor, fixedDim, floatOutput, integerTensor, ort, type EngineSessions } from '../engine.ts';
import { hasInputs, hasOutputs } from './common.ts';
import {
  canaryDescription,
  canaryPrompt,
  canaryScoring,
  canarySettings,
  CANARY_MAX_SEQUENCE_LENGTH,
  readCanaryVocabulary,
} from './canary-common.ts';
import { createEncoderDecoderEngine, type EncoderDecoderAdapter } from './encoder-decoder-engine.ts';
import type { DirectoryFacts, Detection, FamilyDefinition } from './types.ts';

const ENCODER = 'encoder-model.onnx';
const DECODER = 'decoder-model.onnx';
const ENCODER_OUTPUTS = ['encoder_embeddings', 'encoder_mask'];
const DECODER_INPUTS = ['input_ids', 'encoder_embeddings', 'encoder_mask', 'decoder_mems'];
const DECODER_OUTPUTS = ['logits', 'decoder_hidden_states'];

function missingFiles(facts: DirectoryFacts): string[] {
  const missing: string[] = [];
  const encoder = facts.onnx.get(ENCODER);
  if (!encoder || !hasInputs(encoder, ['audio_signal', 'length']) || !hasOutputs(encoder, ENCODER_OUTPUTS))
    missing.push(`${ENCODER} (audio_signal, length -> ${ENCODER_OUTPUTS.join(', ')})`);
  const decoder = facts.onnx.get(DECODER);
  if (!decoder || !hasInputs(decoder, DECODER_INPUTS) || !hasOutputs(decoder, DECODER_OUTPUTS))
    missing.push(`${DECODER} (${DECODER_INPUTS.join(', ')} -> ${DECODER_OUTPUTS.join(', ')})`);
  for (const name of ['vocab.txt', 'config.json']) if (!facts.files.includes(name)) missing.push(name);
  return missing;
}

async function readConfig(dir: string): Promise<Record<string, unknown>> {
  const path = join(dir, 'config.json');
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    throw new Error('not a JSON object');
  } catch (error) {
    throw new RoteError(`${path}: ${(error as Error).message}`, { cause: error });
  }
}

function configInteger(config: Record<string, unknown>, field: string, fallback: number | null, dir: string): number {
  const value = config[field];
  if (value === undefined && fallback !== null) return fallback;
  if (Number.isInteger(value) && (value as number) > 0) return value as number;
  throw new RoteError(
    `${join(dir, 'config.json')}: field "${field}" must be a positive integer (onnx-asr's config for Canary: features_size 128, subsampling_factor 8)`,
  );
}

interface Encoded {
  states: ort.Tensor;
  mask: ort.Tensor;
}

interface Memories extends Encoded {
  mems: ort.Tensor;
}

function onnxAsrAdapter(
  sessions: EngineSessions,
  facts: DirectoryFacts,
  shape: { mems: number; dim: number },
): EncoderDecoderAdapter {
  const encoderFacts = facts.onnx.get(ENCODER)!;
  const decoderFacts = facts.onnx.get(DECODER)!;
  const lengthInfo = encoderFacts.inputs.find((i) => i.name === 'length');
  const idsInfo = decoderFacts.inputs.find((i) => i.name === 'input_ids');
  const run = async (encoded: Encoded, ids: number[][], mems: ort.Tensor) => {
    const input = integerTensor(idsInfo, ids.flat(), [ids.length, ids[0]!.length]);
    const out = await sessions.run(
      1,
      { input_ids: input, encoder_embeddings: encoded.states, encoder_mask: encoded.mask, decoder_mems: mems },
      () => `${DECODER} given input_ids [${input.dims.join(', ')}], decoder_mems [${mems.dims.join(', ')}]`,
    );
    const logits = floatOutput(out, 'logits', sessions.paths[1]!);
    if (logits.dims[1] !== input.dims[1])
      throw new RoteError(
        `${sessions.paths[1]}: logits [${logits.dims.join(', ')}] for input_ids [${input.dims.join(', ')}]; rote needs the logits of every input position`,
      );
    const state: Memories = { ...encoded, mems: floatOutput(out, 'decoder_hidden_states', sessions.paths[1]!) };
    return { logits: logits.data as Float32Array, state };
  };
  return {
    async encode(batch) {
      const features = featureTensor(batch, 'BFT');
      const length = integerTensor(lengthInfo, batch.frames, [batch.frames.length]);
      const out = await sessions.run(
        0,
        { audio_signal: features, length },
        () => `${ENCODER} given audio_signal [${features.dims.join(', ')}]`,
      );
      const mask = out.encoder_mask as ort.Tensor | undefined;
      if (!mask) throw new RoteError(`${sessions.paths[0]}: no encoder_mask output`);
      return { states: floatOutput(out, 'encoder_embeddings', sessions.paths[0]!), mask } satisfies Encoded;
    },
    decode(encoded, ids) {
      const empty = new ort.Tensor('float32', new Float32Array(0), [shape.mems, ids.length, 0, shape.dim]);
      return run(encoded as Encoded, ids, empty);
    },
    step(state, tokens) {
      const memories = state as Memories;
      return run(
        memories,
        tokens.map((t) => [t]),
        memories.mems,
      );
    },
  };
}

export const canaryOnnxAsr: FamilyDefinition = {
  name: 'canary-onnx-asr',
  summary:
    'NeMo Canary as onnx-asr loads it (encoder-model.onnx, decoder-model.onnx with decoder_mems, vocab.txt, config.json)',
  detect(facts: DirectoryFacts): Detection {
    const missing = missingFiles(facts);
    if (missing.length > 0) return { ok: false, missing };
    return {
      ok: true,
      because: [
        `${ENCODER} (audio_signal, length -> ${ENCODER_OUTPUTS.join(', ')}), ${DECODER} (${DECODER_INPUTS.join(', ')} -> ${DECODER_OUTPUTS.join(', ')}): onnx-asr's NeMo Canary (AED) export`,
        'vocab.txt, config.json present',
      ],
    };
  },
  async load(facts, because, options) {
    const dir = facts.dir;
    const language = options.language ?? 'en';
    const config = await readConfig(dir);
    if (config.model_type !== undefined && config.model_type !== 'nemo-conformer-aed')
      throw new RoteError(
        `${join(dir, 'config.json')}: model_type "${String(config.model_type)}"; a Canary export says "nemo-conformer-aed"`,
      );
    const encoderFacts = facts.onnx.get(ENCODER)!;
    const numBins = configInteger(config, 'features_size', null, dir);
    const declared = fixedDim(
      encoderFacts.inputs.find((i) => i.name === 'audio_signal'),
      1,
    );
    if (declared !== null && declared !== numBins)
      throw new RoteError(
        `${join(dir, 'config.json')}: features_size ${numBins} but ${encoderFacts.path} declares audio_signal with ${declared} bins`,
      );
    const subsampling = configInteger(config, 'subsampling_factor', 8, dir);
    const maxSequenceLength = configInteger(config, 'max_sequence_length', CANARY_MAX_SEQUENCE_LENGTH, dir);
    const mems = facts.onnx.get(DECODER)!.inputs.find((i) => i.name === 'decoder_mems');
    const shape = { mems: fixedDim(mems, 0), dim: fixedDim(mems, 3) };
    if (shape.mems === null || shape.dim === null)
      throw new RoteError(
        `${join(dir, DECODER)}: decoder_mems must declare its memories (axis 0) and width (axis 3); got ${JSON.stringify(mems?.shape ?? null)}`,
      );
    const vocab = await readCanaryVocabulary(join(dir, 'vocab.txt'));
    const settings = canarySettings(vocab, canaryPrompt(vocab, language, true), maxSequenceLength);
    const scoring = await canaryScoring(vocab, language);
    return createEncoderDecoderEngine(
      {
        family: 'canary-onnx-asr',
        dir,
        modelFiles: [ENCODER, DECODER],
        otherFiles: ['vocab.txt', 'config.json'],
        frontend: { type: 'nemo-mel', numBins, normalize: 'per_feature' },
        vocabulary: scoring.vocabulary,
        detectedBecause: [
          ...because,
          `features: NeMo log-mel, ${numBins} bins (config.json features_size), per-feature normalization`,
        ],
        subsampling,
        settings,
        open: (sessions) => onnxAsrAdapter(sessions, facts, { mems: shape.mems!, dim: shape.dim! }),
        describe: canaryDescription(scoring, settings, language),
      },
      options,
    );
  },
};
