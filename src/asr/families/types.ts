/**
 * The contract between rote's model families and the rest of src/asr: each family
 * file exports one FamilyDefinition (detect from directory facts, then load into
 * an Engine); the registry (registry.ts) asks all of them and refuses ambiguity.
 */
import type { Frontend, FrontendSpec } from '../../audio/index.ts';
import type { OnnxFileFacts } from '../onnx-file.ts';
import type { ProviderReport, RunClock, RuntimeOptions } from '../runtime.ts';
import type { Vocabulary, VocabularyKind } from '../vocabulary.ts';
import type { HeadChoice } from '../options.ts';

export type FamilyName =
  | 'nemo-ctc'
  | 'sherpa-nemo-ctc'
  | 'sherpa-transducer'
  | 'nemo-transducer'
  | 'sherpa-nemo-transducer'
  | 'sidecar-ctc'
  | 'hf-ctc'
  | 'sherpa-wenet-ctc'
  | 'wenet-ctc'
  | 'zipformer-ctc'
  | 'whisper-optimum'
  | 'whisper-sherpa';

export interface ModelInfo {
  family: FamilyName;
  isCtc: boolean;
  dir: string;
  files: { path: string; sha256: string }[];
  frontend: FrontendSpec;
  vocabulary: { size: number; blankId: number; kind: VocabularyKind };
  subsampling: number;
  detectedBecause: string[];
  /**
   * Transducers with a stateful prediction network: RNNT, or TDT with its durations;
   * attention encoder-decoders (Whisper): 'encoder-decoder'.
   */
  decoder?: { kind: 'rnnt' } | { kind: 'tdt'; durations: number[] } | { kind: 'encoder-decoder' };
}

export interface LoadModelOptions extends RuntimeOptions {
  /**
   * Language of the audio (a canary set's code, e.g. 'en', 'de', 'cmn'; default 'en'): models that
   * are told the language in their prompt (Whisper) transcribe in it. Others ignore it.
   */
  language?: string;
  /**
   * Compute and decode the way sherpa-onnx does, for comparisons with it. NeMo CTC models: the 'sherpa-nemo-mel'
   * frontend and floor(T / subsampling) output frames instead of NeMo's own; NeMo transducers: sherpa-onnx's NeMo
   * frontend; Whisper in sherpa-onnx's layout: its features of the audio alone plus 1000 zero frames, no
   * suppressed tokens, at most 6 tokens per second of audio (instead of openai/whisper's rules).
   */
  sherpaCompatible?: boolean;
  /** Hybrid RNNT-CTC directories (both heads exported): which head to use (default 'transducer', as NeMo). */
  head?: HeadChoice;
  /** Transducers: symbols emitted per encoder frame at most (default 1 for icefall transducers, as sherpa-onnx; 10 for NeMo transducers, as NeMo). */
  maxSymbolsPerFrame?: number;
}

/** What a model directory holds, gathered once for every family's detector. */
export interface DirectoryFacts {
  dir: string;
  /** File names in the directory (not recursive). */
  files: string[];
  /** Facts of every *.onnx file, by file name. */
  onnx: Map<string, OnnxFileFacts>;
  /** Parsed rote-model.json, when present. */
  sidecar: { path: string; value: unknown } | null;
}

export type Detection = { ok: true; because: string[] } | { ok: false; missing: string[] };

/** Padded features of one batch: [batch, maxFrames, numBins], frame-major per utterance, zeros past `frames[i]`. */
export interface FeatureBatch {
  features: Float32Array;
  frames: number[];
  maxFrames: number;
  numBins: number;
}

export interface UtteranceOutput {
  tokenIds: number[];
  /** CTC: [outFrames, vocabSize] log-probabilities of the valid frames. */
  logProbs: Float32Array | null;
  outFrames: number;
  /**
   * Transducers, when `run` was given targets for this utterance: ln P(targets | audio),
   * teacher-forced over every alignment (null when no targets were given).
   */
  forcedLogLikelihood?: number | null;
}

export interface Engine {
  info: ModelInfo;
  provider: ProviderReport;
  frontend: Frontend;
  vocabulary: Vocabulary;
  clock: RunClock;
  /** True when padding changes results (a model without a lengths input): batches of one. */
  padSensitive?: boolean;
  /** Seconds of audio the model reads at most (Whisper: 30); longer input is refused, never cut. */
  maxDurationSec?: number;
  /** The text of greedy token ids when the family decodes its own way (Hugging Face); else detokenize(). */
  transcript?: (ids: number[]) => string;
  /** targets: per utterance, token ids to score (transducers; CTC engines score from logProbs instead). */
  run(batch: FeatureBatch, targets?: (number[] | null)[]): Promise<UtteranceOutput[]>;
  close(): Promise<void>;
}

export interface FamilyDefinition {
  name: FamilyName;
  /** One line for `rote inspect-model` and the unknown-model error. */
  summary: string;
  detect(facts: DirectoryFacts): Detection;
  load(facts: DirectoryFacts, because: string[], options: LoadModelOptions): Promise<Engine>;
}
