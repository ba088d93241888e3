/**
 * Options of generateCanarySet / `rote generate`: defaults, help texts and
 * validation in one place (the CLI builds its flags from GENERATE_OPTION_SPECS).
 */
import { randomBytes } from 'node:crypto';
import { OptionError, resolveOptions, type OptionSpec, type OptionsOf, type OptionValueKind } from '../util/options.ts';
import { SPEED_METHODS, type SpeedMethod } from './types.ts';
import { DEFAULT_VOICES, describeVoices, validateEspeakVoice } from './voices.ts';
import { CANARY_LANGUAGES, canaryLanguage, DEFAULT_LANGUAGE } from './languages.ts';
import { validateCommandTemplate } from './command-tts.ts';

export interface GenerateProgress {
  done: number;
  total: number;
}

export const GENERATE_DEFAULTS = {
  words: 6,
  repetitions: [1, 2, 4, 8, 16],
  // 16, not 10: at 10 per group compare's per-group paired tests (one-sided, Holm over
  // 5 groups x 2 scores) could reach alpha 0.01 only if all 10 canaries of a group
  // differed the same way without a tie (smallest p 10/2^10 = 0.0098); at 16 it is
  // 10/2^16 = 1.5e-4 (65x margin). See src/audit/stats/power.ts.
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

export type { OptionValueKind };

const d = GENERATE_DEFAULTS;

/**
 * Every option with its help text; the default each help text names is the one
 * resolveGenerateOptions applies (GENERATE_DEFAULTS). src/cli/generate.ts builds
 * its flags from this list and passes them through unchanged.
 */
export const GENERATE_OPTION_SPECS = [
  {
    key: 'out',
    required: true,
    flag: '-o, --out <dir>',
    kind: 'string',
    description: 'output directory of the canary set (required)',
  },
  {
    key: 'seed',
    flag: '--seed <text>',
    kind: 'string',
    description:
      'PRNG seed for a reproducible set: the same seed and options give byte-identical output, so anyone who knows the seed knows the canaries; ' +
      'use it for tests and demos, not for a real audit (default: 128 bits drawn from a cryptographic source, recorded in canary-set.json, never in for-training/)',
  },
  {
    key: 'words',
    min: 1,
    max: 50,
    default: d.words,
    flag: '--words <n>',
    kind: 'integer',
    description: `words per canary, 1..50 (default: ${d.words})`,
  },
  {
    key: 'repetitions',
    min: 1,
    max: 1_000_000,
    default: d.repetitions,
    flag: '--repetitions <list>',
    kind: 'integer-list',
    description: `comma-separated repetition counts, one inserted group each (default: ${d.repetitions.join(',')})`,
  },
  {
    key: 'perGroup',
    min: 1,
    max: 1_000_000,
    default: d.perGroup,
    flag: '--per-group <n>',
    kind: 'integer',
    description: `canaries per inserted group (default: ${d.perGroup})`,
  },
  {
    key: 'holdout',
    min: 1,
    max: 1_000_000,
    default: d.holdout,
    flag: '--holdout <n>',
    kind: 'integer',
    description: `held-out canaries, never trained on; >= ${RECOMMENDED_MIN_HOLDOUT} recommended: exposure resolution is log2 of it (default: ${d.holdout})`,
  },
  {
    key: 'membership',
    default: d.membership,
    flag: '--membership <mode>',
    kind: 'string',
    choices: ['groups', 'bernoulli'],
    description:
      'groups: repetition groups and a held-out group; bernoulli: --candidates canaries, each inserted exactly once with probability 1/2 drawn from the seed ' +
      '(for-training/ holds the drawn ones; the key stays in canary-set.json), for the one-run epsilon lower bound of rote audit; ' +
      `--repetitions, --per-group and --holdout do not apply (default: ${d.membership})`,
  },
  {
    key: 'candidates',
    min: 10,
    max: 1_000_000,
    default: d.candidates,
    flag: '--candidates <n>',
    kind: 'integer',
    description: `candidate canaries of --membership bernoulli, 10..1000000 (default: ${d.candidates})`,
  },
  {
    key: 'language',
    default: DEFAULT_LANGUAGE,
    flag: '--language <code>',
    kind: 'string',
    choices: CANARY_LANGUAGES.map((language) => language.code),
    description:
      'language of the canaries: its espeak-ng voices, word list and default rate, recorded in the set; Chinese and Japanese canaries are written without spaces ' +
      `(rote generate --list-languages lists them with their word-list sizes) (default: ${DEFAULT_LANGUAGE})`,
  },
  {
    key: 'wordlist',
    flag: '--wordlist <file>',
    kind: 'string',
    description:
      "word list, one lower-case word per line, letters of any script (default: the language's, canaries/words-<code>.txt; English: 3710 common words)",
  },
  {
    key: 'excludeWords',
    flag: '--exclude-words <file>',
    kind: 'string',
    description:
      'remove words found in this file (word list, text, or JSON-lines training manifest) for out-of-distribution canaries (default: none)',
  },
  {
    key: 'voices',
    default: d.voices,
    flag: '--voices <list>',
    kind: 'string-list',
    description: `comma-separated voices, rotated within each group; ${describeVoices(false)} (default: ${d.voices.join(',')} for English, the --language's own otherwise; "default" with --tts-command)`,
  },
  {
    key: 'rate',
    min: 80,
    max: 450,
    default: d.rate,
    flag: '--rate <wpm>',
    kind: 'integer',
    description: `speaking rate in words per minute (espeak -s, 80..450); slow on purpose, see above (default: ${d.rate}; lower for languages whose audio carries more characters per second than English at ${d.rate}: de 92, fr 85, ru 84, see --list-languages)`,
  },
  {
    key: 'pitch',
    min: 0,
    max: 99,
    default: d.pitch,
    flag: '--pitch <n>',
    kind: 'integer',
    description: `pitch 0..99 (espeak -p) (default: ${d.pitch})`,
  },
  {
    key: 'speed',
    min: 1,
    max: 8,
    default: d.speed,
    flag: '--speed <factor>',
    kind: 'number',
    description: `speed-up factor, 1 to 8 (default: ${d.speed})`,
  },
  {
    key: 'speedMethod',
    default: d.speedMethod,
    flag: '--speed-method <method>',
    kind: 'string',
    choices: SPEED_METHODS,
    description: `tempo keeps the pitch (ffmpeg atempo); resample raises it (low-pass, then playbackRate) (default: ${d.speedMethod})`,
  },
  {
    key: 'sampleRate',
    min: 8000,
    max: 48000,
    default: d.sampleRate,
    flag: '--sample-rate <hz>',
    kind: 'integer',
    description: `output sample rate, 8000..48000 (e.g. 8000 for telephone corpora) (default: ${d.sampleRate})`,
  },
  {
    key: 'ttsCommand',
    flag: '--tts-command <template>',
    kind: 'string',
    description:
      'external TTS instead of espeak-ng: a shell command with placeholders {text} {out} (required), {voice} {rate} {pitch}, each ' +
      "substituted single-quoted; it must write a WAV file to {out}. Example: 'espeak-ng -v {voice} -s {rate} -w {out} {text}' (default: none, the embedded espeak-ng)",
  },
  {
    key: 'ttsVersion',
    flag: '--tts-version <text>',
    kind: 'string',
    description: 'engine version recorded with --tts-command (default: the template)',
  },
  {
    key: 'concurrency',
    min: 1,
    max: 256,
    flag: '--concurrency <n>',
    kind: 'integer',
    description: 'parallel TTS workers (default: number of cores)',
  },
  {
    key: 'force',
    default: false,
    flag: '--force',
    kind: 'switch',
    description:
      'replace a canary set that rote generate wrote at --out; never a file, a folder holding anything else, or the working directory or its ancestors (default: off)',
  },
] as const satisfies readonly OptionSpec[];

/** One option of generateCanarySet as `rote generate` offers it (the house's OptionSpec, src/util/options.ts). */
export type GenerateOptionSpec = OptionSpec<(typeof GENERATE_OPTION_SPECS)[number]['key']>;

/**
 * The options of generateCanarySet: one per GENERATE_OPTION_SPECS (types, defaults, ranges and help there), and
 * the progress callback.
 */
export interface GenerateOptions extends OptionsOf<typeof GENERATE_OPTION_SPECS> {
  onProgress?: (progress: GenerateProgress) => void;
}

/** The resolved options: every GenerateOptions field filled in, except those whose absence means something. */
type OptionalWhenResolved = 'wordlist' | 'excludeWords' | 'ttsCommand' | 'ttsVersion' | 'concurrency' | 'candidates';
export type ResolvedGenerateOptions = Required<Omit<GenerateOptions, 'onProgress' | OptionalWhenResolved>> &
  Pick<GenerateOptions, OptionalWhenResolved>;

/**
 * Fills defaults and validates every option; errors name the option key and the valid range. Each option is
 * checked against its spec first (one resolveOptions call), then the checks that involve several options.
 */
export function resolveGenerateOptions(options: GenerateOptions): ResolvedGenerateOptions {
  if (!options.out)
    throw new OptionError((name) => `${name('out')} is required: the directory to write the canary set to`);
  // A seed given as a number from JavaScript counts as its text.
  const seed = options.seed === undefined ? undefined : String(options.seed);
  const resolved = resolveOptions(GENERATE_OPTION_SPECS, { ...options, seed });
  const { membership } = resolved;
  if (membership === 'bernoulli') {
    const mixed = (['repetitions', 'perGroup', 'holdout'] as const).filter((key) => options[key] !== undefined);
    if (mixed.length > 0) {
      throw new OptionError(
        (name) =>
          `${mixed.map(name).join(', ')} cannot be used with ${name('membership')} bernoulli: each candidate is inserted once or not at all (a canary repeated k times would be group privacy); use ${name('candidates')}`,
      );
    }
  } else if (options.candidates !== undefined) {
    throw new OptionError((name) => `${name('candidates')} applies only to ${name('membership')} bernoulli`);
  }
  // A bernoulli set has no repetitions option (refused above): each candidate is inserted once.
  const repetitions = [...(membership === 'bernoulli' ? [1] : resolved.repetitions)];
  if (repetitions.length === 0)
    throw new OptionError((name) => `${name('repetitions')} needs at least one repetition count, e.g. 1,2,4,8,16`);
  if (new Set(repetitions).size !== repetitions.length)
    throw new OptionError((name) => `${name('repetitions')} must not repeat a count, got ${repetitions.join(',')}`);
  const { ttsCommand } = resolved;
  if (ttsCommand !== undefined) validateCommandTemplate(ttsCommand);
  const language = canaryLanguage(resolved.language);
  // The spec's default voices are English's; the language's own (or "default" for a TTS command) apply here.
  const voices = [...(options.voices ?? (ttsCommand ? ['default'] : language.voices))];
  if (voices.length === 0) throw new OptionError((name) => `${name('voices')} needs at least one voice`);
  if (!ttsCommand) voices.forEach((voice) => validateEspeakVoice(voice, '--voices', language));
  if (seed !== undefined && seed.trim() === '') {
    throw new OptionError(
      (name) =>
        `${name('seed')} must not be empty: leave it out for a secret random seed, or give a text for a reproducible set`,
    );
  }
  return {
    out: resolved.out,
    seed: seed ?? randomBytes(16).toString('hex'),
    words: resolved.words,
    repetitions,
    perGroup: resolved.perGroup,
    holdout: resolved.holdout,
    language: language.code,
    wordlist: resolved.wordlist,
    excludeWords: resolved.excludeWords,
    voices,
    // The spec's default rate is English's; without --rate the language's own applies (languages.ts).
    rate: options.rate ?? language.rate,
    pitch: resolved.pitch,
    speed: resolved.speed,
    speedMethod: resolved.speedMethod,
    sampleRate: resolved.sampleRate,
    ttsCommand,
    ttsVersion: resolved.ttsVersion,
    concurrency: resolved.concurrency,
    force: resolved.force,
    membership,
    candidates: membership === 'bernoulli' ? resolved.candidates : undefined,
  };
}

/** Options of importCanarySet (`rote import-canaries`), declared once (src/util/options.ts). */
export const IMPORT_OPTION_SPECS = [
  {
    key: 'list',
    flag: '--list <file>',
    kind: 'string',
    required: true,
    description:
      'the canary list: .tsv with a header row (id, text, repetitions, audio[, sha256, language]), or .jsonl (JSON lines with those fields)',
  },
  {
    key: 'audioDir',
    flag: '--audio-dir <dir>',
    kind: 'string',
    description: "folder the list's audio paths are relative to (default: the list's folder)",
  },
  {
    key: 'out',
    flag: '-o, --out <dir>',
    kind: 'string',
    required: true,
    description: 'output directory of the canary set',
  },
  {
    key: 'speed',
    flag: '--speed <factor>',
    kind: 'number',
    min: 1,
    max: 8,
    description: 'speed-up already applied to the audio, recorded in the set only (default: 1, none or unknown)',
    default: 1,
  },
  {
    key: 'membership',
    flag: '--membership <mode>',
    kind: 'string',
    choices: ['groups', 'bernoulli'],
    default: 'groups',
    description:
      'bernoulli: each listed canary was trained on once with independent probability 1/2 (repetitions 1 or held-out), for the one-run epsilon audit',
  },
  {
    key: 'language',
    flag: '--language <code>',
    kind: 'string',
    default: DEFAULT_LANGUAGE,
    description: `language of the list's canaries (e.g. de, ru, hi, cmn), recorded in the set; a row's own language field (TSV column or JSON key) overrides it (default: ${DEFAULT_LANGUAGE})`,
  },
  {
    key: 'force',
    flag: '--force',
    kind: 'switch',
    default: false,
    description: 'replace an existing non-empty output directory',
  },
] as const satisfies readonly OptionSpec[];
