/**
 * Whisper as sherpa-onnx exports it (scripts/whisper/export-onnx.py --model <name>):
 *   <name>-encoder.onnx: mel [n_audio, n_mels, T] -> n_layer_cross_k, n_layer_cross_v
 *     [n_text_layer, n_audio, T/2, n_text_state] (the decoder's cross-attention keys and values);
 *     its metadata holds the dimensions (n_mels, n_vocab, n_text_layer, n_text_ctx, n_text_state)
 *     and the special ids (sot, eot, transcribe, translate, no_timestamps, no_speech, sot_prev,
 *     sot_lm, blank_id = the id of " ", non_speech_tokens, is_multilingual, all_language_tokens
 *     with all_language_codes);
 *   <name>-decoder.onnx: tokens [n_audio, n_tokens], in_n_layer_self_k_cache and
 *     in_n_layer_self_v_cache [n_text_layer, n_audio, n_text_ctx, n_text_state], n_layer_cross_k,
 *     n_layer_cross_v, offset [1] (positions already in the cache) -> logits [n_audio, n_tokens,
 *     n_vocab], out_n_layer_self_k_cache, out_n_layer_self_v_cache;
 *   <name>-tokens.txt (or tokens.txt): openai/whisper's tiktoken ranks, "<base64 of the token's
 *     bytes> <rank>" per line, the rank being the token id; no special tokens.
 *   The int8 variants (<name>-encoder.int8.onnx, <name>-decoder.int8.onnx) are used when the
 *   float files are absent.
 * rote runs it as openai/whisper runs the model, as for whisper-optimum: Whisper's 30 s log-mel
 * (n_mels bins: the encoder reads T <= 3000 frames), the prompt <|startoftranscript|>, the
 * language and <|transcribe|> (multilingual models), <|notimestamps|>; openai/whisper's
 * suppression (non_speech_tokens, the task and start tokens, no_speech at every step; " " and
 * end-of-text at the first) and at most n_text_ctx / 2 generated tokens (its sample_len).
 * sherpa-onnx itself differs (offline-recognizer-whisper-impl.h, offline-whisper-greedy-search-
 * decoder.cc): it normalizes the features over the audio alone, appends 1000 zero frames instead
 * of padding to 30 s, suppresses nothing, and stops after 6 tokens per second of audio.
 * Text: the tokens' bytes concatenated (as sherpa-onnx decodes them); the reference is tokenized
 * by a byte-level BPE built from the ranks (merges derived as transformers' tiktoken converter
 * derives them) with the @huggingface/tokenizers library.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { RoteError } from '../../util/errors.ts';
import { featureTensor, floatOutput, integerTensor, ort, type EngineSessions } from '../engine.ts';
import type { OnnxFileFacts } from '../onnx-file.ts';
import { hasInputs, hasOutputs, onnxWhere, preferFullPrecision } from './common.ts';
import { createEncoderDecoderEngine, type EncoderDecoderAdapter } from './encoder-decoder-engine.ts';
import type { DirectoryFacts, Detection, FamilyDefinition, FeatureBatch } from './types.ts';
import {
  transcriptionPrompt,
  whisperDescription,
  whisperVocabulary,
  WHISPER_MAX_SECONDS,
  WHISPER_SUBSAMPLING,
} from './whisper-common.ts';

const ENCODER_OUTPUTS = ['n_layer_cross_k', 'n_layer_cross_v'];
const DECODER_INPUTS = ['tokens', 'in_n_layer_self_k_cache', 'in_n_layer_self_v_cache', ...ENCODER_OUTPUTS, 'offset'];
const DECODER_OUTPUTS = ['logits', 'out_n_layer_self_k_cache', 'out_n_layer_self_v_cache'];
const ENCODER_NAME = /^(.*)-encoder(\.int8)?\.onnx$/;
const EXPORT = "re-export the model with sherpa-onnx's scripts/whisper/export-onnx.py";
/** sherpa-onnx appends this many zero feature frames (its default whisper tail_paddings). */
const SHERPA_TAIL_FRAMES = 1000;
const WHISPER_FRAMES = 3000;
/** sherpa-onnx keeps at most 2950 frames (floor((samples + 80) / 160) < 2950): longer audio it cuts, rote refuses. */
const SHERPA_MAX_SECONDS = (2950 * 160 - 80 - 1) / 16000;

interface SherpaFiles {
  encoder: string;
  decoder: string;
  tokens: string;
}

/** The encoder, its decoder (same name, same precision preferred) and the tokens file; what is missing otherwise. */
function findFiles(facts: DirectoryFacts): SherpaFiles | { missing: string[] } {
  const encoders = onnxWhere(
    facts,
    (f, name) => ENCODER_NAME.test(name) && hasInputs(f, ['mel']) && hasOutputs(f, ENCODER_OUTPUTS),
  );
  const encoder = preferFullPrecision(encoders);
  const missing: string[] = [];
  if (!encoder) missing.push('<name>-encoder.onnx (mel -> n_layer_cross_k, n_layer_cross_v)');
  const name = encoder ? ENCODER_NAME.exec(encoder)![1]! : '<name>';
  const decoders = onnxWhere(
    facts,
    (f, file) =>
      (file === `${name}-decoder.onnx` || file === `${name}-decoder.int8.onnx`) &&
      hasInputs(f, DECODER_INPUTS) &&
      hasOutputs(f, DECODER_OUTPUTS),
  );
  const sameKind = decoders.find((d) => d.endsWith('.int8.onnx') === !!encoder?.endsWith('.int8.onnx'));
  const decoder = sameKind ?? preferFullPrecision(decoders);
  if (!decoder) missing.push(`${name}-decoder.onnx (${DECODER_INPUTS.join(', ')} -> ${DECODER_OUTPUTS.join(', ')})`);
  const tokens = [`${name}-tokens.txt`, 'tokens.txt'].find((t) => facts.files.includes(t));
  if (!tokens) missing.push(`${name}-tokens.txt (the tiktoken ranks export-onnx.py writes)`);
  return encoder && decoder && tokens ? { encoder, decoder, tokens } : { missing };
}

/** Integer metadata of the encoder, or a RoteError naming the key. */
function metadataInteger(f: OnnxFileFacts, key: string): number {
  const raw = f.metadata[key];
  if (raw === undefined || !/^-?\d+$/.test(raw.trim()))
    throw new RoteError(
      `${f.path}: metadata "${key}" is ${raw === undefined ? 'missing' : JSON.stringify(raw)}, expected an integer; ${EXPORT}`,
    );
  return Number(raw);
}

function metadataList(f: OnnxFileFacts, key: string): string[] {
  const raw = f.metadata[key];
  if (raw === undefined) throw new RoteError(`${f.path}: metadata "${key}" is missing; ${EXPORT}`);
  return raw.trim() === '' ? [] : raw.split(',').map((s) => s.trim());
}

function metadataIntegers(f: OnnxFileFacts, key: string): number[] {
  const list = metadataList(f, key);
  if (list.some((s) => !/^\d+$/.test(s)))
    throw new RoteError(`${f.path}: metadata "${key}" must be comma-separated token ids; ${EXPORT}`);
  return list.map(Number);
}

/** openai/whisper's tiktoken ranks: token bytes by id. Pure. */
function parseRanks(text: string, source: string): Map<number, Uint8Array> {
  const ranks = new Map<number, Uint8Array>();
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const match = /^([A-Za-z0-9+/]*={0,2})\s+(\d+)$/.exec(line.trim());
    if (!match)
      throw new RoteError(
        `${source}:${index + 1}: expected "<base64 token> <rank>" (sherpa-onnx's Whisper tokens file), got ${JSON.stringify(line.slice(0, 80))}`,
      );
    const id = Number(match[2]);
    if (ranks.has(id)) throw new RoteError(`${source}:${index + 1}: rank ${id} appears twice`);
    ranks.set(id, new Uint8Array(Buffer.from(match[1]!, 'base64')));
  });
  if (ranks.size === 0) throw new RoteError(`${source}: no tokens`);
  return ranks;
}

/** GPT-2's reversible byte -> printable character map of byte-level BPE. */
function byteCharacters(): string[] {
  const printable = (b: number): boolean =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 256;
  return Array.from({ length: 256 }, (_, b) => String.fromCharCode(printable(b) ? b : next++));
}

/**
 * A byte-level BPE tokenizer from tiktoken ranks. The merges are derived as transformers' tiktoken
 * converter derives them: every split of a token into two ranked tokens is a merge, ordered by the
 * rank of the token it makes (ties: by the ranks of its halves); merging the lowest-ranked pair
 * first is then tiktoken's own algorithm, and ignore_merges its lookup of a whole pre-token first.
 * The GPT-2 pre-tokenizer (ByteLevel) is Whisper's.
 */
function ranksTokenizer(ranks: Map<number, Uint8Array>): Tokenizer {
  const chars = byteCharacters();
  const text = (bytes: Uint8Array): string => Array.from(bytes, (b) => chars[b]).join('');
  const idOf = new Map<string, number>();
  for (const [id, bytes] of ranks) idOf.set(text(bytes), id);
  const merges: [number, number, number, string][] = [];
  for (const [id, bytes] of ranks) {
    for (let cut = 1; cut < bytes.length; cut++) {
      const left = text(bytes.subarray(0, cut));
      const right = text(bytes.subarray(cut));
      const l = idOf.get(left);
      const r = idOf.get(right);
      if (l !== undefined && r !== undefined) merges.push([id, l, r, `${left} ${right}`]);
    }
  }
  merges.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return new Tokenizer(
    {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [],
      normalizer: null,
      pre_tokenizer: byteLevel,
      post_processor: null,
      decoder: byteLevel,
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: '',
        end_of_word_suffix: '',
        fuse_unk: false,
        byte_fallback: false,
        // tiktoken takes a pre-token that is itself a token whole, before any merging.
        ignore_merges: true,
        vocab: Object.fromEntries(idOf),
        merges: merges.map((m) => m[3]),
      },
    },
    {},
  );
}

/** Display names of the special ids the metadata names (others: "<|id|>"). */
function specialNames(f: OnnxFileFacts, codes: string[], languageIds: number[]): Map<number, string> {
  const names = new Map<number, string>();
  const named: [string, string][] = [
    ['eot', '<|endoftext|>'],
    ['sot', '<|startoftranscript|>'],
    ['translate', '<|translate|>'],
    ['transcribe', '<|transcribe|>'],
    ['sot_lm', '<|startoflm|>'],
    ['sot_prev', '<|startofprev|>'],
    ['no_speech', '<|nospeech|>'],
    ['no_timestamps', '<|notimestamps|>'],
  ];
  for (const [key, name] of named) names.set(metadataInteger(f, key), name);
  languageIds.forEach((id, i) => names.set(id, `<|${codes[i]}|>`));
  return names;
}

interface Dimensions {
  layers: number;
  textContext: number;
  textState: number;
}

interface State {
  crossK: ort.Tensor;
  crossV: ort.Tensor;
  selfK: ort.Tensor;
  selfV: ort.Tensor;
  offset: number;
}

/**
 * sherpa-onnx's encoder input (offline-recognizer-whisper-impl.h): the features of the audio alone, then zero frames
 * up to min(frames + 1000, 3000) ("tail paddings"), [B, bins, T]. Pure.
 */
function sherpaMel(batch: FeatureBatch): ort.Tensor {
  const width = Math.max(...batch.frames.map((n) => Math.min(n + SHERPA_TAIL_FRAMES, WHISPER_FRAMES)));
  const bins = batch.numBins;
  const data = new Float32Array(batch.frames.length * bins * width);
  batch.frames.forEach((frames, r) => {
    for (let t = 0; t < frames; t++)
      for (let b = 0; b < bins; b++)
        data[(r * bins + b) * width + t] = batch.features[(r * batch.maxFrames + t) * bins + b]!;
  });
  return new ort.Tensor('float32', data, [batch.frames.length, bins, width]);
}

function sherpaAdapter(
  sessions: EngineSessions,
  decoder: OnnxFileFacts,
  dims: Dimensions,
  sherpaCompatible: boolean,
): EncoderDecoderAdapter {
  const tokensInfo = decoder.inputs.find((i) => i.name === 'tokens');
  const offsetInfo = decoder.inputs.find((i) => i.name === 'offset');
  const [encoderPath, decoderPath] = sessions.paths as [string, string];
  const run = async (ids: number[][], state: State): Promise<{ logits: Float32Array; state: State }> => {
    const rows = ids.length;
    const width = ids[0]!.length;
    const out = await sessions.run(
      1,
      {
        tokens: integerTensor(tokensInfo, ids.flat(), [rows, width]),
        in_n_layer_self_k_cache: state.selfK,
        in_n_layer_self_v_cache: state.selfV,
        n_layer_cross_k: state.crossK,
        n_layer_cross_v: state.crossV,
        offset: integerTensor(offsetInfo, [state.offset], [1]),
      },
      () => `${basename(decoderPath)} given tokens [${rows}, ${width}] at offset ${state.offset}`,
    );
    return {
      logits: floatOutput(out, 'logits', decoderPath).data as Float32Array,
      state: {
        ...state,
        selfK: floatOutput(out, 'out_n_layer_self_k_cache', decoderPath),
        selfV: floatOutput(out, 'out_n_layer_self_v_cache', decoderPath),
        offset: state.offset + width,
      },
    };
  };
  return {
    async encode(batch) {
      const mel = sherpaCompatible ? sherpaMel(batch) : featureTensor(batch, 'BFT');
      const out = await sessions.run(0, { mel }, () => `${basename(encoderPath)} given mel [${mel.dims.join(', ')}]`);
      return {
        crossK: floatOutput(out, 'n_layer_cross_k', encoderPath),
        crossV: floatOutput(out, 'n_layer_cross_v', encoderPath),
        frames: batch.frames,
      };
    },
    async decode(encoded, ids) {
      const { crossK, crossV } = encoded as { crossK: ort.Tensor; crossV: ort.Tensor };
      const dims4 = [dims.layers, ids.length, dims.textContext, dims.textState];
      const zeros = (): ort.Tensor => new ort.Tensor('float32', new Float32Array(dims4.reduce((a, b) => a * b)), dims4);
      return run(ids, { crossK, crossV, selfK: zeros(), selfV: zeros(), offset: 0 });
    },
    async step(state, tokens) {
      return run(
        tokens.map((t) => [t]),
        state as State,
      );
    },
    // sherpa-onnx (offline-whisper-greedy-search-decoder.cc): "assume at most 6 tokens per second", and n_text_ctx / 2.
    ...(sherpaCompatible
      ? {
          maxNewTokens: (encoded: unknown) =>
            (encoded as { frames: number[] }).frames.map((n) =>
              Math.min(Math.trunc((n / 100) * 6), Math.floor(dims.textContext / 2)),
            ),
        }
      : {}),
  };
}

export const whisperSherpa: FamilyDefinition = {
  name: 'whisper-sherpa',
  summary: 'Whisper as sherpa-onnx exports it (<name>-encoder.onnx, <name>-decoder.onnx, <name>-tokens.txt)',
  detect(facts: DirectoryFacts): Detection {
    const files = findFiles(facts);
    if ('missing' in files) return { ok: false, missing: files.missing };
    return {
      ok: true,
      because: [
        `${files.encoder} (mel -> n_layer_cross_k, n_layer_cross_v) and ${files.decoder} (tokens, self-attention caches, cross K/V, offset): sherpa-onnx's Whisper export`,
        `${files.tokens}: tiktoken ranks`,
      ],
    };
  },
  async load(facts, because, options) {
    const dir = facts.dir;
    const files = findFiles(facts) as SherpaFiles;
    const encoder = facts.onnx.get(files.encoder)!;
    const decoder = facts.onnx.get(files.decoder)!;
    const language = options.language ?? 'en';
    const sherpaCompatible = options.sherpaCompatible === true;
    const numBins = metadataInteger(encoder, 'n_mels');
    const declared = encoder.inputs.find((i) => i.name === 'mel')?.shape?.[1]?.value;
    if (declared && declared !== numBins)
      throw new RoteError(`${encoder.path}: metadata n_mels=${numBins} but the input mel declares ${declared} bins`);
    const vocabSize = metadataInteger(encoder, 'n_vocab');
    const endOfText = metadataInteger(encoder, 'eot');
    const start = metadataInteger(encoder, 'sot');
    const multilingual = metadataInteger(encoder, 'is_multilingual') === 1;
    const codes = multilingual ? metadataList(encoder, 'all_language_codes') : [];
    const languageIds = multilingual ? metadataIntegers(encoder, 'all_language_tokens') : [];
    if (codes.length !== languageIds.length)
      throw new RoteError(
        `${encoder.path}: metadata all_language_codes has ${codes.length} codes but all_language_tokens ${languageIds.length} ids; ${EXPORT}`,
      );
    const prompt = transcriptionPrompt(
      {
        start,
        noTimestamps: metadataInteger(encoder, 'no_timestamps'),
        multilingual: multilingual
          ? {
              languageId: (code) => languageIds[codes.indexOf(code)],
              transcribe: metadataInteger(encoder, 'transcribe'),
            }
          : null,
        languagesSource: `${encoder.path}: metadata all_language_codes`,
        englishOnlyBecause: `${files.encoder} metadata is_multilingual=0`,
      },
      language,
      dir,
    );
    // openai/whisper (decoding.py): suppress_tokens "-1" is non_speech_tokens, to which it adds the task and start
    // tokens and no_speech; SuppressBlank blocks " " and end-of-text at the first generated position.
    const suppress = [
      ...new Set([
        ...metadataIntegers(encoder, 'non_speech_tokens'),
        ...['transcribe', 'translate', 'sot', 'sot_prev', 'sot_lm', 'no_speech'].map((k) =>
          metadataInteger(encoder, k),
        ),
      ]),
    ].sort((a, b) => a - b);
    const textContext = metadataInteger(encoder, 'n_text_ctx');
    const dims: Dimensions = {
      layers: metadataInteger(encoder, 'n_text_layer'),
      textContext,
      textState: metadataInteger(encoder, 'n_text_state'),
    };
    const settings = {
      prompt,
      endOfText,
      vocabSize,
      // sherpa-onnx suppresses nothing.
      suppress: sherpaCompatible ? [] : suppress,
      beginSuppress: sherpaCompatible ? [] : [metadataInteger(encoder, 'blank_id'), endOfText],
      maxLength: prompt.length + Math.floor(textContext / 2),
      maxPositions: textContext,
    };
    const tokensPath = join(dir, files.tokens);
    const ranks = parseRanks(await readFile(tokensPath, 'utf8'), tokensPath);
    for (const id of ranks.keys())
      if (id >= vocabSize)
        throw new RoteError(`${tokensPath}: rank ${id} is not below the model's n_vocab ${vocabSize}`);
    // Built for the first reference: transcribing needs none, and its ~137k merges (openai/whisper's ranks) hold
    // ~30 MB of heap that every major garbage collection walks (full GC 14 -> 41 ms; scripts/bench/RESULTS.md, whisper).
    let tokenizer: Tokenizer | undefined;
    const referenceTokenizer = (): Tokenizer => {
      try {
        tokenizer ??= ranksTokenizer(ranks);
      } catch (error) {
        throw new RoteError(
          `${tokensPath}: cannot build a BPE tokenizer from these ranks (${(error as Error).message})`,
          {
            cause: error,
          },
        );
      }
      return tokenizer;
    };
    const names = specialNames(encoder, codes, languageIds);
    const utf8 = new TextDecoder();
    const pieces = Array.from({ length: vocabSize }, (_, id) => {
      const bytes = ranks.get(id);
      return bytes ? utf8.decode(bytes) : (names.get(id) ?? `<|${id}|>`);
    });
    const engine = await createEncoderDecoderEngine(
      {
        family: 'whisper-sherpa',
        dir,
        modelFiles: [files.encoder, files.decoder],
        otherFiles: [files.tokens],
        frontend: { type: 'whisper-mel', numBins, ...(sherpaCompatible ? { sherpaOnnx: true } : {}) },
        vocabulary: whisperVocabulary({
          pieces,
          specialIds: new Set(pieces.map((_, id) => id).filter((id) => !ranks.has(id))),
          endOfText,
          source: tokensPath,
          encodeReference: (reference) =>
            referenceTokenizer().encode(' ' + reference, { add_special_tokens: false }).ids,
          // As sherpa-onnx: the bytes of the text tokens, concatenated, read as UTF-8.
          decode: (ids) => utf8.decode(Buffer.concat(ids.flatMap((id) => ranks.get(id) ?? []))),
        }),
        detectedBecause: [
          ...because,
          sherpaCompatible
            ? `features: sherpa-onnx's Whisper log-mel, ${numBins} bins (metadata n_mels), of the audio alone, then ${SHERPA_TAIL_FRAMES} zero frames (--sherpa-compatible)`
            : `features: Whisper log-mel, ${numBins} bins (metadata n_mels), padded to 30 s`,
        ],
        subsampling: WHISPER_SUBSAMPLING,
        maxDurationSec: WHISPER_MAX_SECONDS,
        settings,
        open: (sessions) => sherpaAdapter(sessions, decoder, dims, sherpaCompatible),
        describe: [
          ...whisperDescription(settings, dims.layers, language, 'openai/whisper: n_text_ctx / 2 generated'),
          ...(sherpaCompatible
            ? [
                '--sherpa-compatible: decoded as sherpa-onnx decodes it: nothing suppressed, at most 6 tokens per second of audio, one file at a time, audio over 29.49 s refused (sherpa-onnx cuts it)',
              ]
            : []),
        ],
      },
      options,
    );
    return sherpaCompatible ? { ...engine, padSensitive: true, maxDurationSec: SHERPA_MAX_SECONDS } : engine;
  },
};
