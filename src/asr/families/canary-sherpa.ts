/**
 * NeMo Canary as sherpa-onnx exports it (scripts/nemo/canary/export_onnx_180m_flash.py) and runs
 * it (offline-canary-model.cc, offline-recognizer-canary-impl.h):
 *   encoder (encoder.onnx, or an .int8/.fp16 variant): x [N, T, bins], x_len [N] -> enc_states
 *     [N, T', d], enc_len, enc_mask [N, T'] (bool); metadata model_type "EncDecMultiTaskModel",
 *     vocab_size, subsampling_factor, feat_dim, normalize_type (num_decoder_layers and
 *     decoder_hidden_size are read from the decoder's inputs);
 *   decoder (decoder.onnx or a variant): decoder_input_ids [1, n + 1] (int32: n tokens, then the
 *     position of the first), decoder_mems_list_0..M-1 [1, t, d] (NeMo's decoder_mems_list),
 *     enc_states [1, T', d], enc_mask [1, T'] -> logits [1, 1, V] of the LAST position only,
 *     next_decoder_mem_list_0..M-1 [1, t + n, d]; batch 1;
 *   tokens.txt ("<piece> <id>" per line, vocab_size lines).
 * The encoder runs batched; the decoder runs row by row (the export's batch is 1). Its first pass
 * feeds the whole prompt at position 0 (the logits of the prompt's last position, as sherpa-onnx's
 * token-by-token prompt gives), then one token per call; logits of positions before the prompt's
 * last are never needed by the base (it reads from there on), so a teacher-forced pass over
 * prompt + reference runs one call per reference token.
 * Positions (the decoder takes them): greedy decoding embeds the token of step i at position i,
 * as NeMo's GreedySequenceGenerator does (start_pos=i) and sherpa-onnx copies; the teacher-forced
 * score embeds every token at its index, as NeMo's training forward does.
 * Features: NeMo's log-mel (nemo-mel) by default; `sherpaCompatible`: sherpa-onnx's own frontend
 * (sherpa-nemo-mel with the options offline-recognizer-canary-impl.h sets, mel up to 7600 Hz), to
 * compare with it.
 * Prompt and score: canary-common.ts (no leading "▁", as sherpa-onnx feeds it).
 */
import { join } from 'node:path';
import { RoteError } from '../../util/errors.ts';
import { featureTensor, fixedDim, floatOutput, integerTensor, ort, type EngineSessions } from '../engine.ts';
import type { OnnxFileFacts } from '../onnx-file.ts';
import {
  hasInputs,
  hasOutputs,
  modelMelBins,
  onnxWhere,
  positiveIntegerMetadata,
  preferFullPrecision,
} from './common.ts';
import {
  canaryDescription,
  canaryPrompt,
  canaryScoring,
  canarySettings,
  readCanaryVocabulary,
} from './canary-common.ts';
import { createEncoderDecoderEngine, type EncoderDecoderAdapter } from './encoder-decoder-engine.ts';
import type { DirectoryFacts, Detection, FamilyDefinition } from './types.ts';

const MEMS = /^decoder_mems_list_(\d+)$/;
/**
 * sherpa-onnx's Canary frontend over its NeMo CTC one: offline-recognizer-canary-impl.h sets dither 0,
 * no DC removal, low_freq 0, a hann window and librosa mel banks, but not high_freq, which keeps the
 * feature extractor's default -400 (7600 Hz).
 */
const SHERPA_CANARY_FRONTEND = { highFreq: -400 } as const;

function encoders(facts: DirectoryFacts): string[] {
  return onnxWhere(
    facts,
    (f) =>
      f.metadata.model_type === 'EncDecMultiTaskModel' &&
      hasInputs(f, ['x', 'x_len']) &&
      hasOutputs(f, ['enc_states', 'enc_mask']),
  );
}

function decoders(facts: DirectoryFacts): string[] {
  return onnxWhere(
    facts,
    (f) =>
      hasInputs(f, ['decoder_input_ids', 'decoder_mems_list_0', 'enc_states', 'enc_mask']) && hasOutputs(f, ['logits']),
  );
}

function memoryNames(f: OnnxFileFacts): string[] {
  return f.inputs
    .map((i) => MEMS.exec(i.name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b)
    .map((n) => `decoder_mems_list_${n}`);
}

interface RowState {
  encoded: { states: ort.Tensor; mask: ort.Tensor };
  mems: ort.Tensor[];
  /** Greedy steps taken (NeMo embeds the token of step i at position i). */
  steps: number;
}

function sherpaAdapter(
  sessions: EngineSessions,
  encoderFacts: OnnxFileFacts,
  decoderFacts: OnnxFileFacts,
  shape: { names: string[]; dim: number; vocabSize: number; promptLength: number },
): EncoderDecoderAdapter {
  const lengthInfo = encoderFacts.inputs.find((i) => i.name === 'x_len');
  const idsInfo = decoderFacts.inputs.find((i) => i.name === 'decoder_input_ids');
  const V = shape.vocabSize;
  /** Feeds `tokens` at positions `position`.. and returns the logits of the last one. */
  const feed = async (
    row: RowState,
    tokens: number[],
    position: number,
  ): Promise<{ logits: Float32Array; mems: ort.Tensor[] }> => {
    const input = integerTensor(idsInfo, [...tokens, position], [1, tokens.length + 1], 'int32');
    const feeds: Record<string, ort.Tensor> = {
      decoder_input_ids: input,
      enc_states: row.encoded.states,
      enc_mask: row.encoded.mask,
    };
    shape.names.forEach((name, i) => (feeds[name] = row.mems[i]!));
    const out = await sessions.run(
      1,
      feeds,
      () => `${sessions.paths[1]} given ${tokens.length} token(s) at position ${position}`,
    );
    const logits = floatOutput(out, 'logits', sessions.paths[1]!).data as Float32Array;
    if (logits.length !== V)
      throw new RoteError(`${sessions.paths[1]}: logits hold ${logits.length} values; expected one row of ${V}`);
    const mems = shape.names.map((name) =>
      floatOutput(out, name.replace('decoder_mems_list_', 'next_decoder_mem_list_'), sessions.paths[1]!),
    );
    return { logits, mems };
  };
  return {
    async encode(batch) {
      const x = featureTensor(batch, 'BTF');
      const xLen = integerTensor(lengthInfo, batch.frames, [batch.frames.length]);
      const out = await sessions.run(
        0,
        { x, x_len: xLen },
        () => `${sessions.paths[0]} given x [${x.dims.join(', ')}]`,
      );
      const states = floatOutput(out, 'enc_states', sessions.paths[0]!);
      const mask = out.enc_mask as ort.Tensor | undefined;
      if (!mask) throw new RoteError(`${sessions.paths[0]}: no enc_mask output`);
      const [n, frames, dim] = states.dims as [number, number, number];
      const data = states.data as Float32Array;
      const maskData = mask.data as Uint8Array | BigInt64Array;
      return Array.from({ length: n }, (_, r) => ({
        states: new ort.Tensor('float32', data.subarray(r * frames * dim, (r + 1) * frames * dim), [1, frames, dim]),
        mask: new ort.Tensor(mask.type as 'bool', maskData.subarray(r * frames, (r + 1) * frames) as Uint8Array, [
          1,
          frames,
        ]),
      }));
    },
    async decode(encoded, ids) {
      // The prompt in one call at position 0; further tokens (a teacher-forced reference) one
      // per call at their index in the sequence, as NeMo's training forward embeds a sequence.
      const rows = encoded as RowState['encoded'][];
      const width = ids[0]!.length;
      const logits = new Float32Array(ids.length * width * V);
      const states: RowState[] = [];
      for (let r = 0; r < ids.length; r++) {
        const first = Math.min(shape.promptLength, width);
        let row: RowState = { encoded: rows[r]!, mems: shape.names.map(() => emptyMemory(shape.dim)), steps: 0 };
        let out = await feed(row, ids[r]!.slice(0, first), 0);
        row = { ...row, mems: out.mems };
        logits.set(out.logits, (r * width + first - 1) * V);
        for (let i = first; i < width; i++) {
          out = await feed(row, [ids[r]![i]!], i);
          row = { ...row, mems: out.mems };
          logits.set(out.logits, (r * width + i) * V);
        }
        states.push(row);
      }
      return { logits, state: states };
    },
    async step(state, tokens) {
      // Greedy: the token of step i at position i, as NeMo's GreedySequenceGenerator and sherpa-onnx feed it.
      const rows = state as RowState[];
      const logits = new Float32Array(tokens.length * V);
      const next: RowState[] = [];
      for (let r = 0; r < tokens.length; r++) {
        const row = rows[r]!;
        const out = await feed(row, [tokens[r]!], row.steps + 1);
        logits.set(out.logits, r * V);
        next.push({ ...row, mems: out.mems, steps: row.steps + 1 });
      }
      return { logits, state: next };
    },
  };
}

function emptyMemory(dim: number): ort.Tensor {
  return new ort.Tensor('float32', new Float32Array(0), [1, 0, dim]);
}

export const canarySherpa: FamilyDefinition = {
  name: 'canary-sherpa',
  summary:
    'NeMo Canary as sherpa-onnx exports it (encoder with model_type EncDecMultiTaskModel, decoder with decoder_mems_list_*, tokens.txt)',
  detect(facts: DirectoryFacts): Detection {
    const missing: string[] = [];
    const encoder = preferFullPrecision(encoders(facts));
    const decoder = preferFullPrecision(decoders(facts));
    if (!encoder)
      missing.push('an encoder .onnx (x, x_len -> enc_states, enc_mask) with metadata model_type=EncDecMultiTaskModel');
    if (!decoder)
      missing.push('a decoder .onnx (decoder_input_ids, decoder_mems_list_0.., enc_states, enc_mask -> logits)');
    if (!facts.files.includes('tokens.txt')) missing.push('tokens.txt');
    if (missing.length > 0) return { ok: false, missing };
    const f = facts.onnx.get(encoder!)!;
    return {
      ok: true,
      because: [
        `${encoder}: inputs x, x_len; metadata model_type=EncDecMultiTaskModel, vocab_size=${f.metadata.vocab_size}, subsampling_factor=${f.metadata.subsampling_factor}: sherpa-onnx's Canary export`,
        `${decoder}: ${memoryNames(facts.onnx.get(decoder!)!).length} decoder memories (decoder_mems_list_*)`,
        'tokens.txt present',
      ],
    };
  },
  async load(facts, because, options) {
    const dir = facts.dir;
    const language = options.language ?? 'en';
    const encoderFile = preferFullPrecision(encoders(facts))!;
    const decoderFile = preferFullPrecision(decoders(facts))!;
    const encoderFacts = facts.onnx.get(encoderFile)!;
    const decoderFacts = facts.onnx.get(decoderFile)!;
    const vocabSize = positiveIntegerMetadata(encoderFacts, 'vocab_size');
    const subsampling = positiveIntegerMetadata(encoderFacts, 'subsampling_factor');
    if (vocabSize === null || subsampling === null)
      throw new RoteError(
        `${encoderFacts.path}: metadata vocab_size="${encoderFacts.metadata.vocab_size}" and subsampling_factor="${encoderFacts.metadata.subsampling_factor}" must be positive integers`,
      );
    const vocab = await readCanaryVocabulary(join(dir, 'tokens.txt'));
    if (vocab.vocabulary.pieces.length !== vocabSize)
      throw new RoteError(
        `${vocab.vocabulary.source}: ${vocab.vocabulary.pieces.length} tokens but ${encoderFacts.path} metadata says vocab_size=${vocabSize}; use the tokens.txt that came with the model`,
      );
    const normalizeType = (encoderFacts.metadata.normalize_type ?? 'per_feature').trim();
    if (!['', 'NA', 'per_feature'].includes(normalizeType))
      throw new RoteError(`${encoderFacts.path}: metadata normalize_type="${normalizeType}" is not supported`);
    const normalize = normalizeType === 'per_feature' ? 'per_feature' : 'none';
    const bins = modelMelBins(encoderFacts, 'x', 2);
    const names = memoryNames(decoderFacts);
    const dim =
      fixedDim(
        decoderFacts.inputs.find((i) => i.name === names[0]),
        2,
      ) ?? positiveIntegerMetadata(encoderFacts, 'decoder_hidden_size');
    if (dim === null)
      throw new RoteError(
        `${decoderFacts.path}: the decoder memories' width is unknown (decoder_mems_list_0 does not fix axis 2, no decoder_hidden_size metadata)`,
      );
    const settings = canarySettings(vocab, canaryPrompt(vocab, language, false));
    const scoring = await canaryScoring(vocab, language);
    return createEncoderDecoderEngine(
      {
        family: 'canary-sherpa',
        dir,
        modelFiles: [encoderFile, decoderFile],
        otherFiles: ['tokens.txt'],
        frontend: options.sherpaCompatible
          ? { type: 'sherpa-nemo-mel', numBins: bins.numBins, normalize, ...SHERPA_CANARY_FRONTEND }
          : { type: 'nemo-mel', numBins: bins.numBins, normalize },
        vocabulary: scoring.vocabulary,
        detectedBecause: [
          ...because,
          options.sherpaCompatible
            ? `features: sherpa-onnx's Canary frontend (sherpa-compatible: Kaldi framing, hann window, librosa mel 0-7600 Hz, population variance), ${bins.because}, normalization ${normalize}`
            : `features: NeMo log-mel, ${bins.because}, normalization ${normalize}`,
        ],
        subsampling,
        settings,
        open: (sessions) =>
          sherpaAdapter(sessions, encoderFacts, decoderFacts, {
            names,
            dim,
            vocabSize,
            promptLength: settings.prompt.length,
          }),
        describe: [
          ...canaryDescription(scoring, settings, language),
          `decoder: batch 1 (sherpa-onnx's export), ${names.length} memories of width ${dim}; the logits of the last position only, so the score feeds the reference token by token`,
        ],
      },
      options,
    );
  },
};
