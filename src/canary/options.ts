/**
 * Options of generateCanarySet / `rote generate`: defaults, help texts and
 * validation in one place (the CLI builds its flags from these).
 */
import { RoteError } from '../util/errors.ts';
import type { SpeedMethod } from './types.ts';
import { DEFAULT_VOICES, validateEspeakVoice } from './voices.ts';
import { validateCommandTemplate } from './command-tts.ts';
import { SPEED_METHODS } from './speedup.ts';

export interface GenerateProgress {
  done: number;
  total: number;
}

export interface GenerateOptions {
  /** Output directory of the canary set (required). */
  out: string;
  /** PRNG seed: the same seed and options give the same set, byte for byte. */
  seed?: string;
  /** Words per canary. */
  words?: number;
  /** Repetition count of each inserted group. */
  repetitions?: number[];
  /** Canaries per inserted group. */
  perGroup?: number;
  /** Held-out canaries (never trained on; the baseline for exposure). */
  holdout?: number;
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
  /** Replace an existing non-empty output directory. */
  force?: boolean;
  onProgress?: (progress: GenerateProgress) => void;
}

export const GENERATE_DEFAULTS = {
  seed: 'rote',
  words: 6,
  repetitions: [1, 2, 4, 8, 16],
  perGroup: 10,
  holdout: 100,
  voices: [...DEFAULT_VOICES],
  rate: 100,
  pitch: 50,
  speed: 3,
  speedMethod: 'tempo' as SpeedMethod,
  sampleRate: 16000,
} as const;

/** Below this, exposure (max log2(holdout)) and the group tests have little resolution. */
export const RECOMMENDED_MIN_HOLDOUT = 100;

export interface ResolvedGenerateOptions {
  out: string;
  seed: string;
  words: number;
  repetitions: number[];
  perGroup: number;
  holdout: number;
  wordlist: string | undefined;
  excludeWords: string | undefined;
  voices: string[];
  rate: number;
  pitch: number;
  speed: number;
  speedMethod: SpeedMethod;
  sampleRate: number;
  ttsCommand: string | undefined;
  ttsVersion: string | undefined;
  concurrency: number | undefined;
  force: boolean;
}

function integerIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RoteError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  return value;
}

/** Fills defaults and validates every option; errors name the option and the valid range. */
export function resolveGenerateOptions(options: GenerateOptions): ResolvedGenerateOptions {
  if (!options.out) throw new RoteError('--out is required: the directory to write the canary set to');
  const d = GENERATE_DEFAULTS;
  const speed = options.speed ?? d.speed;
  if (typeof speed !== 'number' || !Number.isFinite(speed) || speed < 1 || speed > 8) throw new RoteError(`--speed must be a number from 1 to 8, got ${speed}`);
  const speedMethod = options.speedMethod ?? d.speedMethod;
  if (!SPEED_METHODS.includes(speedMethod)) throw new RoteError(`--speed-method must be ${SPEED_METHODS.join(' or ')}, got "${speedMethod}"`);
  const repetitions = options.repetitions ?? [...d.repetitions];
  if (repetitions.length === 0) throw new RoteError('--repetitions needs at least one repetition count, e.g. 1,2,4,8,16');
  repetitions.forEach((r) => integerIn('--repetitions (each count)', r, 1, 1_000_000));
  if (new Set(repetitions).size !== repetitions.length) throw new RoteError(`--repetitions must not repeat a count, got ${repetitions.join(',')}`);
  const ttsCommand = options.ttsCommand;
  if (ttsCommand !== undefined) validateCommandTemplate(ttsCommand);
  const voices = options.voices ?? (ttsCommand ? ['default'] : [...d.voices]);
  if (voices.length === 0) throw new RoteError('--voices needs at least one voice');
  if (!ttsCommand) voices.forEach((voice) => validateEspeakVoice(voice));
  if (options.concurrency !== undefined) integerIn('--concurrency', options.concurrency, 1, 256);
  return {
    out: options.out,
    seed: String(options.seed ?? d.seed),
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
  };
}
