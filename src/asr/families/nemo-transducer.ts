/**
 * NeMo transducers in the two layouts their exports come in (engine: nemo-transducer-engine.ts).
 *
 * nemo-transducer: what NeMo's `model.export("x.onnx")` writes for an RNNT / TDT model
 * (examples/asr/export/transducer/infer_transducer_onnx.py reads it back):
 *   encoder-x.onnx        audio_signal [B, F, T], length -> outputs [B, D, T'], encoded_lengths
 *   decoder_joint-x.onnx  encoder_outputs [B, D, 1], targets [B, 1] int32, target_length,
 *                         input_states_1/2 [L, B, H] -> outputs [B, 1, 1, V + 1 (+ durations)],
 *                         prednet_lengths, output_states_1/2
 * with no metadata and no vocabulary: NeMo keeps its tokenizer in the .nemo archive, so
 * tokens.txt ("<piece> <id>") or NeMo's vocab.txt must sit beside the ONNX files.
 *
 * sherpa-nemo-transducer: sherpa-onnx's export of a NeMo transducer
 * (scripts/nemo/fast-conformer-hybrid-transducer-ctc/export-onnx-transducer*.py,
 * parakeet-tdt export_onnx.py): encoder.onnx (the same encoder; metadata vocab_size
 * without the blank, normalize_type, pred_rnn_layers, pred_hidden, subsampling_factor,
 * model_type, sometimes feat_dim), decoder.onnx (targets, target_length, 2 states ->
 * outputs [B, H, U], prednet_lengths, 2 states), joiner.onnx (encoder_outputs,
 * decoder_outputs -> outputs [B, T, U, V + 1]), tokens.txt with "<blk>" last.
 *
 * Features: NeMo's (nemo-mel), the bins from the declared audio_signal [B, F, T] or
 * metadata feat_dim, per-feature normalization unless normalize_type says otherwise;
 * `sherpaCompatible` uses sherpa-onnx's frontend for NeMo transducers instead (and its
 * 5 symbols per frame for TDT), to compare transcripts with sherpa-onnx.
 */
import { join } from 'node:path';
import type { FrontendSpec } from '../../audio/index.ts';
import { RoteError } from '../../util/errors.ts';
import type { OnnxFileFacts } from '../onnx-file.ts';
import { loadVocabulary } from '../vocabulary.ts';
import {
  hasInputs,
  hasOutputs,
  modelMelBins,
  onnxWhere,
  positiveIntegerMetadata,
  preferFullPrecision,
  SIDECAR_NAME,
} from './common.ts';
import { createNemoTransducerEngine } from './nemo-transducer-engine.ts';
import type { DirectoryFacts, Detection, FamilyDefinition, LoadModelOptions } from './types.ts';

const NEMO_MAX_SYMBOLS = 10;

function isNemoEncoder(f: OnnxFileFacts): boolean {
  return hasInputs(f, ['audio_signal', 'length']) && hasOutputs(f, ['outputs', 'encoded_lengths']);
}

function isDecoderJoint(f: OnnxFileFacts): boolean {
  return (
    hasInputs(f, ['encoder_outputs', 'targets', 'target_length']) &&
    f.inputs.filter((i) => /state/i.test(i.name)).length === 2
  );
}

function vocabularyFile(facts: DirectoryFacts): string | undefined {
  return ['tokens.txt', 'vocab.txt'].find((name) => facts.files.includes(name));
}

/** NeMo export pairs: encoder-X.onnx with decoder_joint-X.onnx (same X) when there are several. */
function nemoPair(facts: DirectoryFacts): { encoder?: string; decoderJoint?: string } {
  const encoders = onnxWhere(facts, (f) => isNemoEncoder(f));
  const joints = onnxWhere(facts, (f) => isDecoderJoint(f));
  const decoderJoint = preferFullPrecision(joints);
  if (!decoderJoint) return { encoder: preferFullPrecision(encoders) };
  const suffix = decoderJoint.replace(/^decoder_joint-/, '');
  const encoder = encoders.find((name) => name === `encoder-${suffix}`) ?? preferFullPrecision(encoders);
  return { ...(encoder ? { encoder } : {}), decoderJoint };
}

function frontendFor(encoder: OnnxFileFacts, options: LoadModelOptions, because: string[]): FrontendSpec {
  const { numBins, because: binsBecause } = modelMelBins(encoder, 'audio_signal', 1);
  const normalizeType = (encoder.metadata.normalize_type ?? 'per_feature').trim();
  if (!['', 'NA', 'per_feature'].includes(normalizeType))
    throw new RoteError(
      `${encoder.path}: metadata normalize_type="${normalizeType}" is not supported (rote knows "per_feature" and "" / "NA")`,
    );
  const normalize = normalizeType === 'per_feature' ? 'per_feature' : 'none';
  const recorded =
    encoder.metadata.normalize_type === undefined ? ' (NeMo default; the export does not record it)' : '';
  if (options.sherpaCompatible) {
    because.push(
      `features: sherpa-onnx's NeMo transducer frontend (sherpa-compatible: Kaldi framing, povey window, mel 0-7600 Hz librosa-style, population variance), ${binsBecause}, normalization ${normalize}${recorded}`,
    );
    return { type: 'sherpa-nemo-mel', numBins, normalize, ...SHERPA_NEMO_TRANSDUCER_FRONTEND };
  }
  because.push(`features: NeMo log-mel, ${binsBecause}, normalization ${normalize}${recorded}`);
  return { type: 'nemo-mel', numBins, normalize };
}

/**
 * What sherpa-onnx changes, for NeMo transducers, from its NeMo CTC frontend
 * (offline-recognizer-transducer-nemo-impl.h PostInit sets low_freq 0, librosa mel banks,
 * no DC removal, but leaves the feature config's povey window and high_freq -400).
 */
/** Symbols per frame at most: the user's choice, else NeMo's 10 (sherpa-onnx's 5 for TDT in sherpa-compatible mode). */
function maxSymbolsPerFrame(options: LoadModelOptions): { rnnt: number; tdt: number } {
  return {
    rnnt: options.maxSymbolsPerFrame ?? NEMO_MAX_SYMBOLS,
    tdt: options.maxSymbolsPerFrame ?? (options.sherpaCompatible ? SHERPA_TDT_MAX_SYMBOLS : NEMO_MAX_SYMBOLS),
  };
}

export const SHERPA_NEMO_TRANSDUCER_FRONTEND = { window: 'povey', highFreq: -400 } as const;

/** sherpa-onnx's NeMo greedy search: 10 symbols per frame for RNNT, 5 for TDT. */
export const SHERPA_TDT_MAX_SYMBOLS = 5;

export const nemoTransducer: FamilyDefinition = {
  name: 'nemo-transducer',
  summary:
    'NeMo RNNT/TDT export (model.export): encoder-x.onnx + decoder_joint-x.onnx, with tokens.txt or NeMo vocab.txt',
  detect(facts: DirectoryFacts): Detection {
    const missing: string[] = [];
    if (facts.sidecar) missing.push(`${SIDECAR_NAME} present (the sidecar family takes precedence)`);
    const { encoder, decoderJoint } = nemoPair(facts);
    if (!encoder)
      missing.push(
        'an encoder .onnx (inputs audio_signal, length; outputs outputs, encoded_lengths), e.g. encoder-model.onnx',
      );
    if (!decoderJoint)
      missing.push(
        'a decoder_joint .onnx (inputs encoder_outputs, targets, target_length, input_states_1, input_states_2), e.g. decoder_joint-model.onnx',
      );
    const vocab = vocabularyFile(facts);
    if (!vocab)
      missing.push(
        'tokens.txt or vocab.txt (NeMo keeps the tokenizer in the .nemo archive: extract vocab.txt, or write tokens.txt)',
      );
    if (missing.length > 0) return { ok: false, missing };
    return {
      ok: true,
      because: [
        `${encoder}: NeMo encoder export (audio_signal, length -> outputs, encoded_lengths)`,
        `${decoderJoint}: NeMo decoder+joint export (targets, 2 LSTM states)`,
        `${vocab} present; blank = last id`,
      ],
    };
  },
  async load(facts, because, options) {
    const { encoder, decoderJoint } = nemoPair(facts);
    const encoderFacts = facts.onnx.get(encoder!)!;
    const vocabName = vocabularyFile(facts)!;
    const vocabulary = await loadVocabulary(join(facts.dir, vocabName), 'last');
    const detected = [...because];
    const frontend = frontendFor(encoderFacts, options, detected);
    return createNemoTransducerEngine(
      {
        family: 'nemo-transducer',
        dir: facts.dir,
        encoderFile: encoder!,
        encoder: encoderFacts,
        network: { kind: 'decoder-joint', file: decoderJoint!, facts: facts.onnx.get(decoderJoint!)! },
        vocabulary,
        vocabularyFile: vocabName,
        frontend,
        declared: declaredFromMetadata(encoderFacts),
        maxSymbolsPerFrame: maxSymbolsPerFrame(options),
        detectedBecause: detected,
      },
      options,
    );
  },
};

function declaredFromMetadata(encoder: OnnxFileFacts): {
  layers: number | null;
  hidden: number | null;
  subsampling: number | null;
  durations: number[] | null;
} {
  const raw = encoder.metadata.durations?.trim();
  let durations: number[] | null = null;
  if (raw) {
    durations = raw.split(/[\s,]+/).map(Number);
    if (durations.some((d) => !Number.isInteger(d) || d < 0))
      throw new RoteError(`${encoder.path}: metadata durations="${raw}" is not a list of non-negative integers`);
  }
  return {
    layers: positiveIntegerMetadata(encoder, 'pred_rnn_layers'),
    hidden: positiveIntegerMetadata(encoder, 'pred_hidden'),
    subsampling: positiveIntegerMetadata(encoder, 'subsampling_factor'),
    durations,
  };
}

function pickRole(facts: DirectoryFacts, role: string, test: (f: OnnxFileFacts) => boolean): string | undefined {
  return preferFullPrecision(onnxWhere(facts, (f, name) => name.toLowerCase().startsWith(role) && test(f)));
}

function sherpaFiles(facts: DirectoryFacts): { encoder?: string; decoder?: string; joiner?: string } {
  const encoder = pickRole(facts, 'encoder', (f) => isNemoEncoder(f) && f.metadata.vocab_size !== undefined);
  const decoder = pickRole(
    facts,
    'decoder',
    (f) => hasInputs(f, ['targets', 'target_length']) && !hasInputs(f, ['encoder_outputs']),
  );
  const joiner = pickRole(facts, 'joiner', (f) => hasInputs(f, ['encoder_outputs', 'decoder_outputs']));
  return { ...(encoder ? { encoder } : {}), ...(decoder ? { decoder } : {}), ...(joiner ? { joiner } : {}) };
}

export const sherpaNemoTransducer: FamilyDefinition = {
  name: 'sherpa-nemo-transducer',
  summary:
    'NeMo RNNT/TDT as sherpa-onnx exports it: encoder.onnx (metadata vocab_size, pred_rnn_layers, pred_hidden), decoder.onnx (targets, states), joiner.onnx, tokens.txt',
  detect(facts: DirectoryFacts): Detection {
    const missing: string[] = [];
    if (facts.sidecar) missing.push(`${SIDECAR_NAME} present (the sidecar family takes precedence)`);
    const { encoder, decoder, joiner } = sherpaFiles(facts);
    if (!encoder)
      missing.push(
        'encoder*.onnx with inputs audio_signal, length, outputs outputs, encoded_lengths and metadata vocab_size',
      );
    if (!decoder) missing.push('decoder*.onnx with inputs targets, target_length and 2 LSTM states');
    if (!joiner) missing.push('joiner*.onnx with inputs encoder_outputs, decoder_outputs');
    if (!facts.files.includes('tokens.txt')) missing.push('tokens.txt');
    if (missing.length > 0) return { ok: false, missing };
    const meta = facts.onnx.get(encoder!)!.metadata;
    return {
      ok: true,
      because: [
        `${encoder}, ${decoder}, ${joiner} present: NeMo encoder, prediction network (targets + states) and joint`,
        `${encoder}: metadata vocab_size=${meta.vocab_size}${meta.pred_rnn_layers ? `, pred_rnn_layers=${meta.pred_rnn_layers}` : ''}${meta.pred_hidden ? `, pred_hidden=${meta.pred_hidden}` : ''}${meta.model_type ? `, model_type=${meta.model_type}` : ''}`,
        'tokens.txt present (blank from its <blk> line)',
      ],
    };
  },
  async load(facts, because, options) {
    const { encoder, decoder, joiner } = sherpaFiles(facts);
    const encoderFacts = facts.onnx.get(encoder!)!;
    const vocabulary = await loadVocabulary(join(facts.dir, 'tokens.txt'), 'from-file');
    const vocabSize = positiveIntegerMetadata(encoderFacts, 'vocab_size');
    if (vocabSize === null)
      throw new RoteError(
        `${encoderFacts.path}: metadata vocab_size="${encoderFacts.metadata.vocab_size}" is not a positive integer`,
      );
    // sherpa-onnx's NeMo exports write vocab_size without the blank; tokens.txt has it.
    if (vocabulary.pieces.length !== vocabSize + 1 && vocabulary.pieces.length !== vocabSize) {
      throw new RoteError(
        `${vocabulary.source}: ${vocabulary.pieces.length} tokens but ${encoderFacts.path} metadata says vocab_size=${vocabSize} (+ 1 blank); use the tokens.txt that came with the model`,
      );
    }
    if (vocabulary.blankId !== vocabulary.pieces.length - 1) {
      throw new RoteError(
        `${vocabulary.source}: the blank (<blk>) has id ${vocabulary.blankId}; NeMo transducers have it last (id ${vocabulary.pieces.length - 1})`,
      );
    }
    const detected = [...because];
    const frontend = frontendFor(encoderFacts, options, detected);
    return createNemoTransducerEngine(
      {
        family: 'sherpa-nemo-transducer',
        dir: facts.dir,
        encoderFile: encoder!,
        encoder: encoderFacts,
        network: {
          kind: 'split',
          decoderFile: decoder!,
          decoder: facts.onnx.get(decoder!)!,
          joinerFile: joiner!,
          joiner: facts.onnx.get(joiner!)!,
        },
        vocabulary,
        vocabularyFile: 'tokens.txt',
        frontend,
        declared: declaredFromMetadata(encoderFacts),
        maxSymbolsPerFrame: maxSymbolsPerFrame(options),
        detectedBecause: detected,
      },
      options,
    );
  },
};
