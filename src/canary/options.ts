/**
 * Options of generateCanarySet / `rote generate`: defaults, help texts and
 * validation in one place (the CLI builds its flags from GENERATE_OPTION_SPECS).
 */
import { randomBytes } from 'node:crypto';
import { RoteError } from '../util/errors.ts';
import { SPEED_METHODS, type SpeedMethod } from './types.ts';
import { DEFAULT_VOICES, describeVoices, validateEspeakVoice } from './voices.ts';
import { validateCommandTemplate } from './command-tts.ts';

export interface GenerateProgress {
  done: number;
  total: number;
}

export interface GenerateOptions {
  /** Output directory of the canary set (required). */
  out: string;
  /**
   * PRNG seed: the same seed and options give the same set, byte for byte (a reproducible, hence guessable, set).
   * Default: 128 bits from a cryptographic source, recorded in canary-set.json (never in for-training/).
   */
  seed?: string;
  /** Words per canary. */
  words?: number;
  /** Repetition count of each inserted group. */
  repetitions?: number[];
  /** Canaries per inserted group. */
  perGroup?: number;
  /** Held-out canaries (never trained on; the baseline for exposure). */
  holdout?: number;
  /**
   * 'groups' (default): repetition groups plus a held-out group. 'bernoulli':
   * `candidates` canaries, each trained on exactly once with independent
   * probability 1/2 drawn from the seed, for the one-run ε audit; repetition
   * options do not apply.
   */
  membership?: 'groups' | 'bernoulli';
  /** Candidate canaries of a bernoulli set (default 256). */
  candidates?: number;
  /** Word list file (default canaries/words-en.txt). */
  wordlist?: string;
  /** File whose words are removed from the word list (word list, text, or JSON-lines manifest). */
  excludeWords?: string;
  /** Voices, rotated per canary within each group. */
  voices?: string[];
  /** Speaking rate in words per minute. */
  rate?: number;
  /** Pitch 0..99. */
  pitch?: number;
  /** Speed-up factor, 1..8. */
  speed?: number;
  speedMethod?: SpeedMethod;
  /** Output sample rate in Hz. */
  sampleRate?: number;
  /** External TTS command template (see command-tts.ts); default: embedded espeak-ng (wasm). */
  ttsCommand?: string;
  /** Version string recorded for --tts-command (default: the command template itself). */
  ttsVersion?: string;
  /** Parallel synthesis workers (default: available cores). */
  concurrency?: number;
  /** Replace a canary set rote wrote at `out` (never a file, a folder with other content, the working directory or an ancestor). */
  force?: boolean;
  onProgress?: (progress: GenerateProgress) => void;
}

export const GENERATE_DEFAULTS = {
  words: 6,
  repetitions: [1, 2, 4, 8, 16],
  // 16, not 10: at 10 per group compare's per-group paired tests (one-sided, Holm over
  // 5 groups x 2 scores) could reach alpha 0.01 only if all 10 canaries of a group
  // differed the same way without a tie (smallest p 10/2^10 = 0.0098); at 16 it is
  // 10/2^16 = 1.5e-4 (65x margin). See src/audit/power.ts.
  perGroup: 16,
  holdout: 100,
  membership: 'groups' as 'groups' | 'bernoulli',
  candidates: 256,
  voices: [...DEFAULT_VOICES],
  rate: 100,
  pitch: 50,
  speed: 3,
  speedMethod: 'tempo' as SpeedMethod,
  sampleRate: 16000,
} as const;

/** Below this, exposure (max log2(holdout)) and the group tests have little resolution. */
export const RECOMMENDED_MIN_HOLDOUT = 100;

/** How a command-line value is read: one string, an integer, a number, comma-separated lists, or a switch. */
export type OptionValueKind = 'string' | 'integer' | 'number' | 'integer-list' | 'string-list' | 'switch';

/** One option of generateCanarySet as `rote generate` offers it. */
export interface GenerateOptionSpec {
  key: Exclude<keyof GenerateOptions, 'onProgress'>;
  /** Commander flag syntax, e.g. '--per-group <n>'; its camel-cased long name is `key`. */
  flag: string;
  kind: OptionValueKind;
  description: string;
  choices?: readonly string[];
}

const d = GENERATE_DEFAULTS;

/**
 * Every option with its help text; the default each help text names is the one
 * resolveGenerateOptions applies (GENERATE_DEFAULTS). src/cli/generate.ts builds
 * its flags from this list and passes them through unchanged.
 */
export const GENERATE_OPTION_SPECS: readonly GenerateOptionSpec[] = [
  { key: 'out', flag: '-o, --out <dir>', kind: 'string', description: 'output directory of the canary set (required)' },
  {
    key: 'seed',
    flag: '--seed <text>',
    kind: 'string',
    description:
      'PRNG seed for a reproducible set: the same seed and options give byte-identical output, so anyone who knows the seed knows the canaries; ' +
      'use it for tests and demos, not for a real audit (default: 128 bits drawn from a cryptographic source, recorded in canary-set.json, never in for-training/)',
  },
  { key: 'words', flag: '--words <n>', kind: 'integer', description: `words per canary, 1..50 (default: ${d.words})` },
  { key: 'repetitions', flag: '--repetitions <list>', kind: 'integer-list', description: `comma-separated repetition counts, one inserted group each (default: ${d.repetitions.join(',')})` },
  { key: 'perGroup', flag: '--per-group <n>', kind: 'integer', description: `canaries per inserted group (default: ${d.perGroup})` },
  { key: 'holdout', flag: '--holdout <n>', kind: 'integer', description: `held-out canaries, never trained on; >= ${RECOMMENDED_MIN_HOLDOUT} recommended: exposure resolution is log2 of it (default: ${d.holdout})` },
  {
    key: 'membership',
    flag: '--membership <mode>',
    kind: 'string',
    choices: ['groups', 'bernoulli'],
    description:
      'groups: repetition groups and a held-out group; bernoulli: --candidates canaries, each inserted exactly once with probability 1/2 drawn from the seed ' +
      '(for-training/ holds the drawn ones; the key stays in canary-set.json), for the one-run epsilon lower bound of rote audit; ' +
      `--repetitions, --per-group and --holdout do not apply (default: ${d.membership})`,
  },
  { key: 'candidates', flag: '--candidates <n>', kind: 'integer', description: `candidate canaries of --membership bernoulli, 10..1000000 (default: ${d.candidates})` },
  { key: 'wordlist', flag: '--wordlist <file>', kind: 'string', description: 'word list, one lower-case word per line (default: canaries/words-en.txt, 3710 common words)' },
  { key: 'excludeWords', flag: '--exclude-words <file>', kind: 'string', description: 'remove words found in this file (word list, text, or JSON-lines training manifest) for out-of-distribution canaries (default: none)' },
  { key: 'voices', flag: '--voices <list>', kind: 'string-list', description: `comma-separated voices, rotated within each group; ${describeVoices(false)} (default: ${d.voices.join(',')}; "default" with --tts-command)` },
  { key: 'rate', flag: '--rate <wpm>', kind: 'integer', description: `speaking rate in words per minute (espeak -s, 80..450); slow on purpose, see above (default: ${d.rate})` },
  { key: 'pitch', flag: '--pitch <n>', kind: 'integer', description: `pitch 0..99 (espeak -p) (default: ${d.pitch})` },
  { key: 'speed', flag: '--speed <factor>', kind: 'number', description: `speed-up factor, 1 to 8 (default: ${d.speed})` },
  { key: 'speedMethod', flag: '--speed-method <method>', kind: 'string', choices: SPEED_METHODS, description: `tempo keeps the pitch (ffmpeg atempo); resample raises it (low-pass, then playbackRate) (default: ${d.speedMethod})` },
  { key: 'sampleRate', flag: '--sample-rate <hz>', kind: 'integer', description: `output sample rate, 8000..48000 (e.g. 8000 for telephone corpora) (default: ${d.sampleRate})` },
  {
    key: 'ttsCommand',
    flag: '--tts-command <template>',
    kind: 'string',
    description:
      'external TTS instead of espeak-ng: a shell command with placeholders {text} {out} (required), {voice} {rate} {pitch}, each ' +
      "substituted single-quoted; it must write a WAV file to {out}. Example: 'espeak-ng -v {voice} -s {rate} -w {out} {text}' (default: none, the embedded espeak-ng)",
  },
  { key: 'ttsVersion', flag: '--tts-version <text>', kind: 'string', description: 'engine version recorded with --tts-command (default: the template)' },
  { key: 'concurrency', flag: '--concurrency <n>', kind: 'integer', description: 'parallel TTS workers (default: number of cores)' },
  { key: 'force', flag: '--force', kind: 'switch', description: 'replace a canary set that rote generate wrote at --out; never a file, a folder holding anything else, or the working directory or its ancestors (default: off)' },
];

/** The resolved options: every GenerateOptions field filled in, except those whose absence means something. */
type OptionalWhenResolved = 'wordlist' | 'excludeWords' | 'ttsCommand' | 'ttsVersion' | 'concurrency' | 'candidates';
export type ResolvedGenerateOptions = Required<Omit<GenerateOptions, 'onProgress' | OptionalWhenResolved>> & Pick<GenerateOptions, OptionalWhenResolved>;

function integerIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RoteError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  return value;
}

/** Fills defaults and validates every option; errors name the option and the valid range. */
export function resolveGenerateOptions(options: GenerateOptions): ResolvedGenerateOptions {
  if (!options.out) throw new RoteError('--out is required: the directory to write the canary set to');
  const speed = options.speed ?? d.speed;
  if (typeof speed !== 'number' || !Number.isFinite(speed) || speed < 1 || speed > 8) throw new RoteError(`--speed must be a number from 1 to 8, got ${speed}`);
  const speedMethod = options.speedMethod ?? d.speedMethod;
  if (!SPEED_METHODS.includes(speedMethod)) throw new RoteError(`--speed-method must be ${SPEED_METHODS.join(' or ')}, got "${speedMethod}"`);
  const membership = options.membership ?? d.membership;
  if (membership !== 'groups' && membership !== 'bernoulli') throw new RoteError(`--membership must be groups or bernoulli, got "${String(membership)}"`);
  if (membership === 'bernoulli') {
    const mixed = (['repetitions', 'perGroup', 'holdout'] as const).filter((key) => options[key] !== undefined);
    if (mixed.length > 0) {
      const flags = mixed.map((key) => ({ repetitions: '--repetitions', perGroup: '--per-group', holdout: '--holdout' })[key]);
      throw new RoteError(`${flags.join(', ')} cannot be used with --membership bernoulli: each candidate is inserted once or not at all (a canary repeated k times would be group privacy); use --candidates`);
    }
  } else if (options.candidates !== undefined) {
    throw new RoteError('--candidates applies only to --membership bernoulli');
  }
  const candidates = membership === 'bernoulli' ? integerIn('--candidates', options.candidates ?? d.candidates, 10, 1_000_000) : undefined;
  const repetitions = options.repetitions ?? (membership === 'bernoulli' ? [1] : [...d.repetitions]);
  if (repetitions.length === 0) throw new RoteError('--repetitions needs at least one repetition count, e.g. 1,2,4,8,16');
  repetitions.forEach((r) => integerIn('--repetitions (each count)', r, 1, 1_000_000));
  if (new Set(repetitions).size !== repetitions.length) throw new RoteError(`--repetitions must not repeat a count, got ${repetitions.join(',')}`);
  const ttsCommand = options.ttsCommand;
  if (ttsCommand !== undefined) validateCommandTemplate(ttsCommand);
  const voices = options.voices ?? (ttsCommand ? ['default'] : [...d.voices]);
  if (voices.length === 0) throw new RoteError('--voices needs at least one voice');
  if (!ttsCommand) voices.forEach((voice) => validateEspeakVoice(voice));
  if (options.concurrency !== undefined) integerIn('--concurrency', options.concurrency, 1, 256);
  if (options.seed !== undefined && String(options.seed).trim() === '') throw new RoteError('--seed must not be empty: leave it out for a secret random seed, or give a text for a reproducible set');
  return {
    out: options.out,
    seed: options.seed === undefined ? randomBytes(16).toString('hex') : String(options.seed),
    words: integerIn('--words', options.words ?? d.words, 1, 50),
    repetitions,
    perGroup: integerIn('--per-group', options.perGroup ?? d.perGroup, 1, 1_000_000),
    holdout: integerIn('--holdout', options.holdout ?? d.holdout, 1, 1_000_000),
    wordlist: options.wordlist,
    excludeWords: options.excludeWords,
    voices,
    rate: integerIn('--rate', options.rate ?? d.rate, 80, 450),
    pitch: integerIn('--pitch', options.pitch ?? d.pitch, 0, 99),
    speed,
    speedMethod,
    sampleRate: integerIn('--sample-rate', options.sampleRate ?? d.sampleRate, 8000, 48000),
    ttsCommand,
    ttsVersion: options.ttsVersion,
    concurrency: options.concurrency,
    force: options.force ?? false,
    membership,
    candidates,
  };
}
