/**
 * What NeMo's two transducer layouts (nemo-transducer.ts: NeMo's own export;
 * sherpa-nemo-transducer.ts: sherpa-onnx's) share: the encoder (audio_signal [B, F, T] +
 * length -> outputs [B, D, T'] + encoded_lengths), NeMo's frontend and metadata, and
 * the LSTM prediction network's feeds (targets, target_length, two states [L, B, H]).
 */
import type { FrontendSpec } from '../../audio/index.ts';
import { RoteError } from '../../util/errors.ts';
import {
  declaredLengths,
  featureTensor,
  fixedDim,
  floatOutput,
  frameMajor,
  integerTensor,
  ort,
  type EncoderOutput,
  type EngineSessions,
} from '../engine.ts';
import { describeValueInfo, type OnnxFileFacts, type OnnxValueInfo } from '../onnx-file.ts';
import { stateRowsToLayerMajor } from '../transducer-stateful.ts';
import { hasInputs, hasOutputs, modelMelBins, positiveIntegerMetadata } from './common.ts';
import type { TransducerAdapter, TransducerNetwork } from './transducer-engine.ts';
import type { DirectoryFacts, FeatureBatch, LoadModelOptions } from './types.ts';

const NEMO_MAX_SYMBOLS = 10;

/**
 * What sherpa-onnx changes, for NeMo transducers, from its NeMo CTC frontend
 * (offline-recognizer-transducer-nemo-impl.h PostInit sets low_freq 0, librosa mel banks,
 * no DC removal, but leaves the feature config's povey window and high_freq -400).
 */
const SHERPA_NEMO_TRANSDUCER_FRONTEND = { window: 'povey', highFreq: -400 } as const;

/** sherpa-onnx's NeMo greedy search: 10 symbols per frame for RNNT, 5 for TDT. */
const SHERPA_TDT_MAX_SYMBOLS = 5;

export function isNemoEncoder(f: OnnxFileFacts): boolean {
  return hasInputs(f, ['audio_signal', 'length']) && hasOutputs(f, ['outputs', 'encoded_lengths']);
}

export function vocabularyFile(facts: DirectoryFacts): string | undefined {
  return ['tokens.txt', 'vocab.txt'].find((name) => facts.files.includes(name));
}

/**
 * Features: NeMo's (nemo-mel), the bins from the declared audio_signal [B, F, T] or metadata
 * feat_dim, per-feature normalization unless normalize_type says otherwise; `sherpaCompatible`
 * uses sherpa-onnx's frontend for NeMo transducers instead, to compare transcripts with sherpa-onnx.
 */
export function nemoFrontend(encoder: OnnxFileFacts, options: LoadModelOptions, because: string[]): FrontendSpec {
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

/** Symbols per frame at most: the user's choice, else NeMo's 10 (sherpa-onnx's 5 for TDT in sherpa-compatible mode). */
export function nemoMaxSymbols(options: LoadModelOptions): { rnnt: number; tdt: number } {
  return {
    rnnt: options.maxSymbolsPerFrame ?? NEMO_MAX_SYMBOLS,
    tdt: options.maxSymbolsPerFrame ?? (options.sherpaCompatible ? SHERPA_TDT_MAX_SYMBOLS : NEMO_MAX_SYMBOLS),
  };
}

/** Metadata values when the export records them (sherpa-onnx), else null. */
export interface NemoDeclared {
  layers: number | null;
  hidden: number | null;
  subsampling: number | null;
  durations: number[] | null;
}

export function declaredFromMetadata(encoder: OnnxFileFacts): NemoDeclared {
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

/** NeMo's encoder on session `index`: checks its declared interface, returns `encode`. */
export function nemoEncoder(
  encoder: OnnxFileFacts,
  file: string,
  sessions: EngineSessions,
  index: number,
): (batch: FeatureBatch) => Promise<EncoderOutput> {
  const numBins = sessions.frontend.numBins;
  const audio = encoder.inputs.find((i) => i.name === 'audio_signal') ?? encoder.inputs[0];
  const lengthsInput = encoder.inputs.find((i) => i.name === 'length') ?? encoder.inputs.find((i) => i !== audio);
  if (encoder.inputs.length > 2) {
    throw new RoteError(
      `${encoder.path}: the encoder takes ${encoder.inputs.map((i) => i.name).join(', ')}: a cache-aware streaming export, which rote does not run; export the model for offline use (audio_signal and length only)`,
    );
  }
  if (!audio || !lengthsInput || encoder.outputs.length < 2) {
    throw new RoteError(
      `${encoder.path}: model input mismatch: rote feeds audio_signal [B, ${numBins}, T] float32 and length [B] int64 and reads outputs [B, D, T'] and encoded_lengths; the model declares inputs ${encoder.inputs.map(describeValueInfo).join(', ')} and outputs ${encoder.outputs.map(describeValueInfo).join(', ')}`,
    );
  }
  const bins = fixedDim(audio, 1);
  if (bins !== null && bins !== numBins) {
    throw new RoteError(
      `${encoder.path}: model input mismatch: ${describeValueInfo(audio)} wants ${bins} feature bins, the frontend makes ${numBins}`,
    );
  }
  const [outName, lengthsOut] = [encoder.outputs[0]!.name, encoder.outputs[1]!.name];
  return async (batch) => {
    const n = batch.frames.length;
    const out = await sessions.run(
      index,
      {
        [audio.name]: featureTensor(batch, 'BFT'),
        [lengthsInput.name]: integerTensor(lengthsInput, batch.frames, [n]),
      },
      () => `${file} given audio_signal [${n}, ${batch.numBins}, ${batch.maxFrames}]`,
    );
    const enc = floatOutput(out, outName, encoder.path);
    if (enc.dims.length !== 3 || enc.dims[0] !== n)
      throw new RoteError(
        `${encoder.path}: output ${outName} has shape [${enc.dims.join(', ')}], expected [${n}, D, T']`,
      );
    const [dim, maxOut] = [enc.dims[1]!, enc.dims[2]!];
    return {
      data: frameMajor(enc.data as Float32Array, n, dim, maxOut),
      lengths: declaredLengths(out[lengthsOut] as ort.Tensor, maxOut),
      maxOut,
      dim,
    };
  };
}

function stateInputs(facts: OnnxFileFacts): OnnxValueInfo[] {
  return facts.inputs.filter((i) => /state/i.test(i.name) || i.name.startsWith('onnx::LSTM'));
}

/** NeMo's LSTM prediction network as an export declares it: two states [layers, batch, hidden]. */
export interface LstmPrediction {
  layers: number;
  hidden: number;
  /** layers x hidden: floats per search row of each state. */
  stateSize: number;
  /** A state input fixes its batch axis at 1 (some sherpa-onnx exports): one row per call. */
  rowByRow: boolean;
  /** Inputs for a search step: per row its last label (length 1) and its states. */
  stepFeeds(labels: Int32Array, rows: Float32Array[], n: number): Record<string, ort.Tensor>;
  /** Inputs for a lattice: one utterance's labels [1, U + 1] from zero states. */
  sequenceFeeds(labels: number[]): Record<string, ort.Tensor>;
  describe(): string;
}

export function lstmPrediction(
  facts: OnnxFileFacts,
  declared: NemoDeclared,
  targetsInfo: OnnxValueInfo,
  lengthInfo: OnnxValueInfo,
): LstmPrediction {
  const states = stateInputs(facts);
  if (states.length !== 2) {
    throw new RoteError(
      `${facts.path}: expected two LSTM state inputs [layers, batch, hidden] (NeMo's prediction network); the model declares ${facts.inputs.map(describeValueInfo).join(', ')}`,
    );
  }
  const layers = fixedDim(states[0], 0) ?? declared.layers;
  const hidden = fixedDim(states[0], 2) ?? declared.hidden;
  if (layers === null || hidden === null) {
    throw new RoteError(
      `${facts.path}: the state input ${describeValueInfo(states[0]!)} does not fix its layers and hidden size, and no pred_rnn_layers / pred_hidden metadata gives them`,
    );
  }
  const rowByRow = states.some((s) => fixedDim(s, 1) === 1);
  const stateSize = layers * hidden;
  return {
    layers,
    hidden,
    stateSize,
    rowByRow,
    stepFeeds(labels, rows, n) {
      const feeds: Record<string, ort.Tensor> = {
        [targetsInfo.name]: integerTensor(targetsInfo, labels, [n, 1], 'int32'),
        [lengthInfo.name]: integerTensor(lengthInfo, new Int32Array(n).fill(1), [n], 'int32'),
      };
      states.forEach((s, i) => {
        feeds[s.name] = new ort.Tensor('float32', stateRowsToLayerMajor(rows[i]!, layers, n, hidden), [
          layers,
          n,
          hidden,
        ]);
      });
      return feeds;
    },
    sequenceFeeds(labels) {
      const feeds: Record<string, ort.Tensor> = {
        [targetsInfo.name]: integerTensor(targetsInfo, labels, [1, labels.length], 'int32'),
        [lengthInfo.name]: integerTensor(lengthInfo, [labels.length], [1], 'int32'),
      };
      states.forEach((st) => {
        feeds[st.name] = new ort.Tensor('float32', new Float32Array(stateSize), [layers, 1, hidden]);
      });
      return feeds;
    },
    describe: () =>
      `${layers}-layer LSTM prediction network, hidden ${hidden}${rowByRow ? '; a state input fixes batch 1, so the prediction network runs one utterance at a time' : ''}`,
  };
}

/** [T, D] frame-major -> [D, T] (one utterance's encoder output as NeMo's joints take it). */
export function framesToBDT(frames: Float32Array, count: number, dim: number): Float32Array {
  const out = new Float32Array(dim * count);
  for (let t = 0; t < count; t++) for (let k = 0; k < dim; k++) out[k * count + t] = frames[t * dim + k]!;
  return out;
}

/** The adapter both NeMo transducer layouts give the engine: NeMo's encoder, their prediction + joint `built`, NeMo's search. */
export function nemoTransducerAdapter(
  encoder: OnnxFileFacts,
  encoderFile: string,
  sessions: EngineSessions,
  options: LoadModelOptions,
  built: { network: TransducerNetwork; describe: string },
): TransducerAdapter {
  const declared = declaredFromMetadata(encoder);
  return {
    encode: nemoEncoder(encoder, encoderFile, sessions, 0),
    network: built.network,
    subsampling: declared.subsampling,
    durations: declared.durations,
    maxSymbolsPerFrame: nemoMaxSymbols(options),
    describeSearch: (max) =>
      `greedy search as NeMo (state kept on blank, blank embedded as zeros), at most ${max} symbol(s) per frame; ${built.describe}`,
  };
}
