/**
 * Options of writeTranscriptions() (`rote transcribe`), declared once (src/util/options.ts). A light
 * module: no ONNX Runtime, so --help stays fast. The flags are a contract (scripts/gpu/check.sh).
 */
import type { OptionSpec } from '../util/options.ts';
import {
  DEFAULT_BATCH_FRAMES,
  DEFAULT_CPU_BATCH_FRAMES,
  DEFAULT_MAX_DURATION_SEC,
  DEFAULT_WINDOWS_PER_BATCH,
} from './batching.ts';
import { defaultFeatureWorkers } from './feature-pool.ts';
import { PROVIDER_CHOICES } from '../setup/providers.ts';

/** Which head of a hybrid RNNT-CTC model (both heads exported) to use. */
export const HEAD_CHOICES = ['ctc', 'transducer'] as const;
export type HeadChoice = (typeof HEAD_CHOICES)[number];

/** The execution provider a model runs on (PROVIDER_CHOICES). */
export const PROVIDER_OPTION = {
  key: 'provider',
  flag: '--provider <name>',
  kind: 'string',
  choices: PROVIDER_CHOICES,
  default: 'auto',
  description: 'execution provider; auto tries cuda, then webgpu, then cpu',
} as const satisfies OptionSpec;

export const DEVICE_ID_OPTION = {
  key: 'deviceId',
  flag: '--device-id <n>',
  kind: 'integer',
  min: 0,
  description: 'GPU index for the cuda provider (default: 0)',
} as const satisfies OptionSpec;

export const THREADS_OPTION = {
  key: 'threads',
  flag: '--threads <n>',
  kind: 'integer',
  min: 1,
  description: 'ONNX Runtime intra-op threads (default: ONNX Runtime chooses, usually one per core)',
} as const satisfies OptionSpec;

export const HEAD_OPTION = {
  key: 'head',
  flag: '--head <head>',
  kind: 'string',
  choices: HEAD_CHOICES,
  description: 'hybrid RNNT-CTC models with both heads exported: which head to use (default: transducer, as NeMo)',
} as const satisfies OptionSpec;

/** The language of the audio, for models told it in their prompt (Whisper). */
export const LANGUAGE_OPTION = {
  key: 'language',
  flag: '--language <code>',
  kind: 'string',
  description:
    "language of the audio, as a canary set names it (en, de, cmn, ...): Whisper's prompt names it; other models ignore it (default: the set's language with --canaries, else en)",
} as const satisfies OptionSpec;

/** The options of opening ONNX Runtime sessions (createSessions in runtime.ts checks them, once, with these specs). */
export const RUNTIME_OPTION_SPECS = [PROVIDER_OPTION, DEVICE_ID_OPTION, THREADS_OPTION] as const;

export const TRANSCRIBE_OPTION_SPECS = [
  {
    key: 'model',
    flag: '--model <dir>',
    kind: 'string',
    required: true,
    description: 'model directory (see `rote inspect-model`)',
  },
  {
    key: 'input',
    flag: '--input <wav...>',
    kind: 'string-list',
    description: 'WAV files to transcribe (ids are the file names without extension)',
  },
  {
    key: 'list',
    flag: '--list <file>',
    kind: 'string',
    description:
      'text file, one utterance per line: PATH, ID<TAB>PATH or ID<TAB>PATH<TAB>REFERENCE (paths relative to the file)',
  },
  {
    key: 'canaries',
    flag: '--canaries <setdir>',
    kind: 'string',
    description: 'a canary-set directory from `rote generate`: every canary, with its text as the reference',
  },
  {
    key: 'out',
    flag: '--out <rows.jsonl>',
    kind: 'string',
    required: true,
    description:
      'output JSONL: one row {id, path, hypothesis, tokenIds, durationSec, frames, referenceScore, notes} per utterance, written atomically',
  },
  PROVIDER_OPTION,
  { ...DEVICE_ID_OPTION, default: 0, description: 'GPU index for the cuda provider' },
  THREADS_OPTION,
  {
    key: 'batchFrames',
    flag: '--batch-frames <n>',
    kind: 'integer',
    min: 1,
    description: `padded feature frames per batch (batch size x longest utterance; 100 frames = 1 s; default ${DEFAULT_CPU_BATCH_FRAMES} on cpu, ${DEFAULT_BATCH_FRAMES} on cuda/webgpu; a Whisper canary counts its 30 s window, 3000 frames, and gets at least ${DEFAULT_WINDOWS_PER_BATCH} windows per batch)`,
  },
  {
    key: 'featureWorkers',
    flag: '--feature-workers <n>',
    kind: 'integer',
    min: 0,
    description: `worker threads that read audio and compute features while the model runs; 0 = on the main thread (default: on cuda/webgpu min(cores - 1, 8), here ${defaultFeatureWorkers('cuda')}; on cpu 0, as ONNX Runtime already uses every core)`,
  },
  {
    key: 'maxDurationSec',
    flag: '--max-duration <seconds>',
    kind: 'number',
    min: 0,
    exclusive: 'both',
    description: `longest utterance to transcribe; a longer one is an error (or skipped with --skip-bad) (default: ${DEFAULT_MAX_DURATION_SEC})`,
  },
  {
    key: 'skipBad',
    flag: '--skip-bad',
    kind: 'switch',
    description:
      'skip unreadable, empty, corrupt or too long audio files (listed in the summary) instead of stopping (default: stop at the first)',
  },
  {
    key: 'sherpaCompatible',
    flag: '--sherpa-compatible',
    kind: 'switch',
    description:
      "NeMo CTC and transducer models: use sherpa-onnx's feature variant (CTC: and output lengths; TDT: 5 symbols per frame) instead of NeMo's own (default: NeMo's); Whisper in sherpa-onnx's layout: sherpa-onnx's features (no 30 s window), no suppressed tokens, at most 6 tokens per second (default: openai/whisper's rules)",
  },
  HEAD_OPTION,
  LANGUAGE_OPTION,
  {
    key: 'maxSymbolsPerFrame',
    flag: '--max-symbols-per-frame <n>',
    kind: 'integer',
    min: 1,
    description:
      'transducers: symbols emitted per encoder frame at most (default: 1 for icefall transducers, as sherpa-onnx; 10 for NeMo transducers, as NeMo)',
  },
] as const satisfies readonly OptionSpec[];

/** Flags of `rote inspect-model` (a CLI report: it has no API options object; the command resolves them with resolveOption). */
export const INSPECT_MODEL_OPTION_SPECS = [
  { ...PROVIDER_OPTION, default: 'cpu', description: 'provider used to open the model for the full report' },
  {
    key: 'load',
    flag: '--no-load',
    kind: 'switch',
    default: true,
    description:
      'only detect (no ONNX Runtime session; skips frontend, vocabulary and subsampling details) (default: the model is opened)',
  },
  {
    ...HEAD_OPTION,
    description: 'hybrid RNNT-CTC models with both heads exported: which head to report (default: transducer)',
  },
  {
    key: 'sherpaCompatible',
    flag: '--sherpa-compatible',
    kind: 'switch',
    description:
      "NeMo CTC and transducer models: show the sherpa-onnx-compatible feature variant (default: NeMo's own)",
  },
] as const satisfies readonly OptionSpec[];
