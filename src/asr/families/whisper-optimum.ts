/**
 * Whisper as Optimum exports it (`optimum-cli export onnx --model openai/whisper-tiny`):
 *   encoder_model.onnx: input_features [B, n_mels, 3000] -> last_hidden_state;
 *   decoder_model.onnx: input_ids, encoder_hidden_states -> logits,
 *     present.N.decoder.key/value, present.N.encoder.key/value;
 *   decoder_with_past_model.onnx: input_ids [B, 1], past_key_values.N.{decoder,encoder}.{key,value}
 *     (and encoder_hidden_states where the export kept it) -> logits, present.N.decoder.key/value;
 *   or, instead of the two decoders, decoder_model_merged.onnx (Optimum's default post-processing:
 *     both behind an If on use_cache_branch [1] bool; the inputs of both, the outputs of the
 *     no-past one; with the cache its encoder presents are dummies, so the first pass's are kept;
 *     without it the past inputs are fed empty, [B, heads, 0, head_dim]);
 *   config.json, generation_config.json, preprocessor_config.json, tokenizer.json.
 * Features: Whisper's log-mel (whisper-mel, feature_size bins). Prompt: decoder_start_token_id,
 * then for multilingual models the language token (the canary set's language, default <|en|>) and transcribe (lang_to_id, task_to_id), then
 * no_timestamps_token_id. With both layouts present, the split decoders are used.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { RoteError } from '../../util/errors.ts';
import { featureTensor, floatOutput, integerTensor, ort, type EngineSessions } from '../engine.ts';
import type { OnnxFileFacts } from '../onnx-file.ts';
import type { Vocabulary } from '../vocabulary.ts';
import { hasInputs, hasOutputs } from './common.ts';
import {
  createEncoderDecoderEngine,
  type DecodingSettings,
  type EncoderDecoderAdapter,
} from './encoder-decoder-engine.ts';
import type { DirectoryFacts, Detection, FamilyDefinition } from './types.ts';
import {
  transcriptionPrompt,
  whisperDescription,
  whisperVocabulary,
  WHISPER_MAX_SECONDS,
  WHISPER_SUBSAMPLING,
  type PromptTokens,
} from './whisper-common.ts';

const ENCODER = 'encoder_model.onnx';
const DECODER = 'decoder_model.onnx';
const DECODER_WITH_PAST = 'decoder_with_past_model.onnx';
const MERGED = 'decoder_model_merged.onnx';
const CONFIGS = ['config.json', 'generation_config.json', 'preprocessor_config.json', 'tokenizer.json'];
const PAST = /^past_key_values\.(\d+)\.decoder\.key$/;

type DecoderFiles = { kind: 'split'; files: [string, string] } | { kind: 'merged'; files: [string] };

function hasPast(f: OnnxFileFacts): boolean {
  return f.inputs.some((i) => PAST.test(i.name));
}

/** The split decoders when both are there and well-formed, else the merged one, else null. */
function decoderFiles(facts: DirectoryFacts): DecoderFiles | null {
  const decoder = facts.onnx.get(DECODER);
  const withPast = facts.onnx.get(DECODER_WITH_PAST);
  const merged = facts.onnx.get(MERGED);
  const firstPass = (f: OnnxFileFacts | undefined): f is OnnxFileFacts =>
    !!f && hasInputs(f, ['input_ids', 'encoder_hidden_states']) && hasOutputs(f, ['logits']);
  if (firstPass(decoder) && withPast && hasInputs(withPast, ['input_ids']) && hasPast(withPast))
    return { kind: 'split', files: [DECODER, DECODER_WITH_PAST] };
  if (firstPass(merged) && hasInputs(merged, ['use_cache_branch']) && hasPast(merged))
    return { kind: 'merged', files: [MERGED] };
  return null;
}

function missingFiles(facts: DirectoryFacts): string[] {
  const missing: string[] = [];
  const encoder = facts.onnx.get(ENCODER);
  if (!encoder || !hasInputs(encoder, ['input_features']) || !hasOutputs(encoder, ['last_hidden_state']))
    missing.push(`${ENCODER} (input_features -> last_hidden_state)`);
  if (!decoderFiles(facts))
    missing.push(
      `${DECODER} (input_ids, encoder_hidden_states -> logits, present.*) with ${DECODER_WITH_PAST} (input_ids, past_key_values.* -> logits), or ${MERGED} (the same inputs and use_cache_branch)`,
    );
  for (const name of CONFIGS) if (!facts.files.includes(name)) missing.push(name);
  return missing;
}

async function readJson(dir: string, name: string): Promise<Record<string, unknown>> {
  const path = join(dir, name);
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    throw new Error('not a JSON object');
  } catch (error) {
    throw new RoteError(`${path}: ${(error as Error).message}`, { cause: error });
  }
}

function integer(sources: [string, Record<string, unknown>][], field: string, dir: string): number {
  for (const [, json] of sources) {
    const value = json[field];
    if (Number.isInteger(value) && (value as number) >= 0) return value as number;
  }
  throw new RoteError(
    `${dir}: ${sources.map(([name]) => name).join(' / ')} field "${field}" must be a non-negative integer; re-export the model with Optimum`,
  );
}

function integers(sources: [string, Record<string, unknown>][], field: string): number[] {
  for (const [, json] of sources) {
    const value = json[field];
    if (Array.isArray(value) && value.every((v) => Number.isInteger(v))) return value as number[];
  }
  return [];
}

/** The transcription prompt's tokens from generation_config.json (lang_to_id, task_to_id, no_timestamps_token_id). */
function promptTokens(generation: Record<string, unknown>, start: number, dir: string): PromptTokens {
  const file = join(dir, 'generation_config.json');
  const noTimestamps = integer([['generation_config.json', generation]], 'no_timestamps_token_id', dir);
  const languages = generation.lang_to_id as Record<string, unknown> | undefined;
  const tasks = generation.task_to_id as Record<string, unknown> | undefined;
  const multilingual = !!languages && generation.is_multilingual !== false;
  if (multilingual && !Number.isInteger(tasks?.transcribe))
    throw new RoteError(`${file}: task_to_id.transcribe must be a token id`);
  return {
    start,
    noTimestamps,
    multilingual: multilingual
      ? {
          languageId: (code) => languages[`<|${code}|>`] as number | undefined,
          transcribe: tasks!.transcribe as number,
        }
      : null,
    languagesSource: `${file}: lang_to_id`,
    englishOnlyBecause: languages ? 'generation_config.json is_multilingual false' : 'no lang_to_id',
  };
}

function vocabularyOf(tokenizer: Tokenizer, size: number, endOfText: number, source: string): Vocabulary {
  return whisperVocabulary({
    pieces: Array.from({ length: size }, (_, id) => tokenizer.decode([id], { skip_special_tokens: false })),
    specialIds: new Set<number>([...tokenizer.get_added_tokens_decoder().keys()].map(Number)),
    endOfText,
    source,
    encodeReference: (reference) => tokenizer.encode(' ' + reference, { add_special_tokens: false }).ids,
    decode: (ids) => tokenizer.decode(ids, { skip_special_tokens: true }),
  });
}

interface Cache {
  encoded: ort.Tensor;
  encoderKv: Record<string, ort.Tensor>;
  decoderKv: Record<string, ort.Tensor>;
}

interface DecoderShape {
  layers: number;
  heads: number;
  headDim: number;
}

function whisperAdapter(
  sessions: EngineSessions,
  facts: DirectoryFacts,
  decoders: DecoderFiles,
  shape: DecoderShape,
): EncoderDecoderAdapter {
  const merged = decoders.kind === 'merged';
  const firstFile = decoders.files[0];
  const stepFile = decoders.kind === 'merged' ? decoders.files[0] : decoders.files[1];
  const firstFacts = facts.onnx.get(firstFile)!;
  const stepFacts = facts.onnx.get(stepFile)!;
  const stepIndex = merged ? 1 : 2;
  const idsInfo = firstFacts.inputs.find((i) => i.name === 'input_ids');
  const stepIdsInfo = stepFacts.inputs.find((i) => i.name === 'input_ids');
  const stepTakesStates = stepFacts.inputs.some((i) => i.name === 'encoder_hidden_states');
  const kv = (prefix: string, part: 'decoder' | 'encoder'): string[] =>
    Array.from({ length: shape.layers }, (_, n) => [
      `${prefix}.${n}.${part}.key`,
      `${prefix}.${n}.${part}.value`,
    ]).flat();
  const pick = (
    out: ort.InferenceSession.OnnxValueMapType,
    names: string[],
    path: string,
  ): Record<string, ort.Tensor> =>
    Object.fromEntries(names.map((name) => [name.replace(/^present\./, ''), floatOutput(out, name, path)]));
  const useCache = (value: boolean): ort.Tensor => new ort.Tensor('bool', Uint8Array.from([value ? 1 : 0]), [1]);
  /** [B, heads, positions, headDim] cut to its first `length` positions. */
  const firstPositions = (tensor: ort.Tensor, length: number): ort.Tensor => {
    const [rows, heads, positions, headDim] = tensor.dims as number[];
    if (positions === length) return tensor;
    const data = tensor.data as Float32Array;
    const cut = new Float32Array(rows! * heads! * length * headDim!);
    for (let i = 0; i < rows! * heads!; i++)
      cut.set(data.subarray(i * positions! * headDim!, (i * positions! + length) * headDim!), i * length * headDim!);
    return new ort.Tensor('float32', cut, [rows!, heads!, length, headDim!]);
  };
  return {
    async encode(batch) {
      const features = featureTensor(batch, 'BFT');
      const out = await sessions.run(
        0,
        { input_features: features },
        () => `${ENCODER} given input_features [${features.dims.join(', ')}]`,
      );
      return floatOutput(out, 'last_hidden_state', sessions.paths[0]!);
    },
    async decode(encoded, ids) {
      const states = encoded as ort.Tensor;
      const input = integerTensor(idsInfo, ids.flat(), [ids.length, ids[0]!.length]);
      const feeds: Record<string, ort.Tensor> = { input_ids: input, encoder_hidden_states: states };
      if (merged) {
        // The no-cache branch ignores the past, but every graph input must be fed: empty ones.
        const empty = new ort.Tensor('float32', new Float32Array(0), [ids.length, shape.heads, 0, shape.headDim]);
        for (const name of [...kv('past_key_values', 'decoder'), ...kv('past_key_values', 'encoder')])
          feeds[name] = empty;
        feeds.use_cache_branch = useCache(false);
      }
      const out = await sessions.run(
        1,
        feeds,
        () =>
          `${decoders.files[0]} given input_ids [${input.dims.join(', ')}], encoder_hidden_states [${states.dims.join(', ')}]`,
      );
      const cache: Cache = {
        encoded: states,
        encoderKv: pick(out, kv('present', 'encoder'), sessions.paths[1]!),
        decoderKv: pick(out, kv('present', 'decoder'), sessions.paths[1]!),
      };
      return { logits: floatOutput(out, 'logits', sessions.paths[1]!).data as Float32Array, state: cache };
    },
    truncate(state, length) {
      const cache = state as Cache;
      const decoderKv = Object.fromEntries(
        Object.entries(cache.decoderKv).map(([name, tensor]) => [name, firstPositions(tensor, length)]),
      );
      return { ...cache, decoderKv };
    },
    async step(state, tokens) {
      const cache = state as Cache;
      const feeds: Record<string, ort.Tensor> = { input_ids: integerTensor(stepIdsInfo, tokens, [tokens.length, 1]) };
      for (const [name, tensor] of [...Object.entries(cache.decoderKv), ...Object.entries(cache.encoderKv)])
        feeds[`past_key_values.${name}`] = tensor;
      if (stepTakesStates) feeds.encoder_hidden_states = cache.encoded;
      if (merged) feeds.use_cache_branch = useCache(true);
      const past = cache.decoderKv['0.decoder.key']!.dims[2];
      const file = decoders.files[merged ? 0 : 1];
      const out = await sessions.run(
        stepIndex,
        feeds,
        () => `${file} given ${tokens.length} rows, ${past} past tokens`,
      );
      // Only the decoder's own keys and values grow; the encoder's stay those of the first pass.
      const next: Cache = { ...cache, decoderKv: pick(out, kv('present', 'decoder'), sessions.paths[stepIndex]!) };
      return { logits: floatOutput(out, 'logits', sessions.paths[stepIndex]!).data as Float32Array, state: next };
    },
  };
}

export const whisperOptimum: FamilyDefinition = {
  name: 'whisper-optimum',
  summary:
    'Whisper as Optimum exports it (encoder_model.onnx, decoder_model.onnx, decoder_with_past_model.onnx, configs, tokenizer.json)',
  detect(facts: DirectoryFacts): Detection {
    const missing = missingFiles(facts);
    if (missing.length > 0) return { ok: false, missing };
    return {
      ok: true,
      because: [
        `${ENCODER} (input_features -> last_hidden_state), ${decoderFiles(facts)!.files.join(' and ')}: Optimum's Whisper export${decoderFiles(facts)!.kind === 'merged' ? ' (merged decoder, use_cache_branch)' : ''}`,
        `${CONFIGS.join(', ')} present`,
      ],
    };
  },
  async load(facts, because, options) {
    const dir = facts.dir;
    const language = options.language ?? 'en';
    const config = await readJson(dir, 'config.json');
    const generation = await readJson(dir, 'generation_config.json');
    const preprocessor = await readJson(dir, 'preprocessor_config.json');
    const tokenizerJson = await readJson(dir, 'tokenizer.json');
    const tokenizerConfig = facts.files.includes('tokenizer_config.json')
      ? await readJson(dir, 'tokenizer_config.json')
      : {};
    const both: [string, Record<string, unknown>][] = [
      ['generation_config.json', generation],
      ['config.json', config],
    ];
    const numBins = integer([['preprocessor_config.json', preprocessor]], 'feature_size', dir);
    const sampleRate = integer([['preprocessor_config.json', preprocessor]], 'sampling_rate', dir);
    if (sampleRate !== 16000)
      throw new RoteError(
        `${join(dir, 'preprocessor_config.json')}: sampling_rate ${sampleRate}; Whisper's frontend runs at 16000 Hz`,
      );
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    } catch (error) {
      throw new RoteError(
        `${join(dir, 'tokenizer.json')}: not a tokenizer the tokenizers library reads (${(error as Error).message})`,
        { cause: error },
      );
    }
    const vocabSize = integer([['config.json', config]], 'vocab_size', dir);
    const endOfText = integer(both, 'eos_token_id', dir);
    const start = integer(both, 'decoder_start_token_id', dir);
    const settings: DecodingSettings = {
      prompt: transcriptionPrompt(promptTokens(generation, start, dir), language, dir),
      endOfText,
      vocabSize,
      suppress: integers(both, 'suppress_tokens'),
      beginSuppress: integers(both, 'begin_suppress_tokens'),
      maxLength: integer([['generation_config.json', generation]], 'max_length', dir),
      maxPositions: integer([['config.json', config]], 'max_target_positions', dir),
    };
    const decoders = decoderFiles(facts)!;
    const layers = facts.onnx
      .get(decoders.files[decoders.files.length - 1])!
      .inputs.filter((i) => PAST.test(i.name)).length;
    const heads = integer([['config.json', config]], 'decoder_attention_heads', dir);
    const dModel = integer([['config.json', config]], 'd_model', dir);
    if (heads < 1 || dModel % heads !== 0)
      throw new RoteError(
        `${join(dir, 'config.json')}: d_model ${dModel} is not a multiple of decoder_attention_heads ${heads}`,
      );
    return createEncoderDecoderEngine(
      {
        family: 'whisper-optimum',
        dir,
        modelFiles: [ENCODER, ...decoders.files],
        otherFiles: [...CONFIGS, ...(facts.files.includes('tokenizer_config.json') ? ['tokenizer_config.json'] : [])],
        frontend: { type: 'whisper-mel', numBins },
        vocabulary: vocabularyOf(tokenizer, vocabSize, endOfText, join(dir, 'tokenizer.json')),
        detectedBecause: [
          ...because,
          `features: Whisper log-mel, ${numBins} bins (preprocessor_config.json feature_size)`,
        ],
        subsampling: WHISPER_SUBSAMPLING,
        maxDurationSec: WHISPER_MAX_SECONDS,
        settings,
        open: (sessions) => whisperAdapter(sessions, facts, decoders, { layers, heads, headDim: dModel / heads }),
        describe: whisperDescription(settings, layers, language, 'generation_config.json'),
      },
      options,
    );
  },
};
