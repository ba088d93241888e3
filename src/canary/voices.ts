/**
 * Voices of the embedded espeak-ng (wasm) build (each language's bases: languages.ts). A voice is a base
 * (a language/accent) optionally followed by `+variant` (a speaker variant
 * file from espeak-ng-data/voices/!v). espeak-ng silently ignores an unknown
 * variant, so we validate both parts ourselves. test/canary checks these lists
 * against the data actually compiled into the wasm file.
 */
import { RoteError } from '../util/errors.ts';
import { CANARY_LANGUAGES, canaryLanguage, DEFAULT_LANGUAGE, type CanaryLanguage } from './languages.ts';

export const ESPEAK_ENGLISH_BASES: readonly string[] = CANARY_LANGUAGES[0]!.bases;

/** Variant files in the wasm build, less the klatt ones (the klatt synthesizer is not compiled in). */
export const ESPEAK_VARIANTS: readonly string[] = [
  'Alex',
  'Alicia',
  'Andrea',
  'Andy',
  'Annie',
  'AnxiousAndy',
  'Demonic',
  'Denis',
  'Diogo',
  'Gene',
  'Gene2',
  'Henrique',
  'Hugo',
  'Jacky',
  'Lee',
  'Marco',
  'Mario',
  'Michael',
  'Mike',
  'Mr serious',
  'Nguyen',
  'Reed',
  'RicishayMax',
  'RicishayMax2',
  'RicishayMax3',
  'Storm',
  'Tweaky',
  'UniRobot',
  'adam',
  'anika',
  'anikaRobot',
  'announcer',
  'antonio',
  'aunty',
  'belinda',
  'benjamin',
  'boris',
  'caleb',
  'croak',
  'david',
  'ed',
  'edward',
  'edward2',
  'f1',
  'f2',
  'f3',
  'f4',
  'f5',
  'fast',
  'grandma',
  'grandpa',
  'gustave',
  'ian',
  'iven',
  'iven2',
  'iven3',
  'iven4',
  'john',
  'kaukovalta',
  'linda',
  'm1',
  'm2',
  'm3',
  'm4',
  'm5',
  'm6',
  'm7',
  'm8',
  'marcelo',
  'max',
  'michel',
  'miguel',
  'mike2',
  'norbert',
  'pablo',
  'paul',
  'pedro',
  'quincy',
  'rob',
  'robert',
  'robosoft',
  'robosoft2',
  'robosoft3',
  'robosoft4',
  'robosoft5',
  'robosoft6',
  'robosoft7',
  'robosoft8',
  'sandro',
  'shelby',
  'steph',
  'steph2',
  'steph3',
  'travis',
  'victor',
  'whisper',
  'whisperf',
  'zac',
];

/**
 * Default rotation of English: plain, clearly spoken male and female variants of the
 * American and British voices (no whisper/robot/croak variants). Other languages: languages.ts.
 */
export const DEFAULT_VOICES: readonly string[] = CANARY_LANGUAGES[0]!.voices;

/** A description of the voices: short for --help, full (every variant) for error messages. */
export function describeVoices(full = true, language: CanaryLanguage = canaryLanguage(DEFAULT_LANGUAGE)): string {
  const bases = `a base of the --language (${language.code}: ${language.bases.join(', ')})`;
  if (!full)
    return `voices are ${bases} optionally followed by +variant (e.g. +m1..+m8, +f1..+f5; a wrong name lists them all)`;
  return `voices are ${bases} optionally followed by +variant (e.g. +m1..+m8, +f1..+f5; all variants: ${ESPEAK_VARIANTS.join(', ')})`;
}

/** Every voice name the embedded engine accepts for a language (default English), bases first then base+variant. */
export function listEspeakVoices(language: CanaryLanguage = canaryLanguage(DEFAULT_LANGUAGE)): string[] {
  return [
    ...language.bases,
    ...language.bases.flatMap((base) => ESPEAK_VARIANTS.map((variant) => `${base}+${variant}`)),
  ];
}

/** Throws a RoteError naming the voice and listing the valid ones when `voice` is not an embedded voice of the language (default English). */
export function validateEspeakVoice(
  voice: string,
  field = '--voices',
  language: CanaryLanguage = canaryLanguage(DEFAULT_LANGUAGE),
): void {
  const plus = voice.indexOf('+');
  const base = plus < 0 ? voice : voice.slice(0, plus);
  const variant = plus < 0 ? undefined : voice.slice(plus + 1);
  const baseOk = language.bases.includes(base.toLowerCase());
  const variantOk = variant === undefined || ESPEAK_VARIANTS.includes(variant);
  if (!baseOk || !variantOk) {
    const what = !baseOk ? `unknown base voice "${base}"` : `unknown variant "+${variant}"`;
    throw new RoteError(
      `${field}: "${voice}" is not a voice of the embedded espeak-ng for ${language.name} (${what}). Valid: ${describeVoices(true, language)}.`,
    );
  }
}
