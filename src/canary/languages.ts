/**
 * The languages rote generates canaries in: for each, espeak-ng's voices (the
 * embedded wasm build's data), the shipped word list (canaries/words-<code>.txt,
 * built by scripts/build-wordlist.mjs for English and scripts/build-wordlists.mjs
 * for the others; provenance in canaries/README.md), whether words are joined by
 * spaces, and the default speaking rate.
 *
 * Default rate: espeak-ng's words per minute mean different speeds in different
 * languages. What limits a canary is its characters per second against the
 * model's output frame rate (src/asr/feasibility.ts), so each language's default
 * is the rate (at most 100 wpm, at least espeak-ng's 80) whose audio carries
 * about as many characters per second as English at 100 wpm, measured on the
 * shipped word lists (test/canary/languages.test.ts re-measures it).
 *
 * Japanese is kana only: espeak-ng reads every kanji as the English words
 * "Chinese letter" (checked), so its list holds words the source writes in kana.
 */
import { fileURLToPath } from 'node:url';
import { RoteError } from '../util/errors.ts';

export interface CanaryLanguage {
  /** rote's code (espeak-ng's language code), e.g. 'de', 'cmn'. */
  code: string;
  name: string;
  /** The writing system of the word list. */
  script: string;
  /** espeak-ng base voices of the language (the wasm build's data). */
  bases: readonly string[];
  /** Default rotation: base voices and male/female variants. */
  voices: readonly string[];
  /** File name of the shipped word list in canaries/. */
  wordlist: string;
  /** False for scripts written without spaces (Mandarin, Japanese): a canary's words are joined directly. */
  spaces: boolean;
  /** Default speaking rate (espeak-ng words per minute); see the module comment. */
  rate: number;
}

const variants = (base: string, second = base): string[] => [
  base,
  `${second}+f3`,
  `${base}+m3`,
  `${second}+f2`,
  `${base}+m1`,
];

/** Every language rote ships a word list for, English first. */
export const CANARY_LANGUAGES: readonly CanaryLanguage[] = [
  {
    code: 'en',
    name: 'English',
    script: 'Latin',
    bases: [
      'en-us',
      'en-gb',
      'en-gb-scotland',
      'en-gb-x-rp',
      'en-gb-x-gbclan',
      'en-gb-x-gbcwmd',
      'en-029',
      'en-us-nyc',
    ],
    voices: ['en-us', 'en-gb', 'en-us+f3', 'en-gb+m3', 'en-us+m1', 'en-gb-x-rp+f2'],
    wordlist: 'words-en.txt',
    spaces: true,
    rate: 100,
  },
  {
    code: 'de',
    name: 'German',
    script: 'Latin',
    bases: ['de'],
    voices: variants('de'),
    wordlist: 'words-de.txt',
    spaces: true,
    rate: 92,
  },
  {
    code: 'fr',
    name: 'French',
    script: 'Latin',
    bases: ['fr', 'fr-be', 'fr-ch'],
    voices: variants('fr', 'fr-be'),
    wordlist: 'words-fr.txt',
    spaces: true,
    rate: 85,
  },
  {
    code: 'es',
    name: 'Spanish',
    script: 'Latin',
    bases: ['es', 'es-419'],
    voices: variants('es', 'es-419'),
    wordlist: 'words-es.txt',
    spaces: true,
    rate: 100,
  },
  {
    code: 'it',
    name: 'Italian',
    script: 'Latin',
    bases: ['it'],
    voices: variants('it'),
    wordlist: 'words-it.txt',
    spaces: true,
    rate: 100,
  },
  {
    code: 'pt',
    name: 'Portuguese (Brazil)',
    script: 'Latin',
    bases: ['pt-br', 'pt'],
    voices: variants('pt-br', 'pt'),
    wordlist: 'words-pt.txt',
    spaces: true,
    rate: 100,
  },
  {
    code: 'nl',
    name: 'Dutch',
    script: 'Latin',
    bases: ['nl'],
    voices: variants('nl'),
    wordlist: 'words-nl.txt',
    spaces: true,
    rate: 100,
  },
  {
    code: 'pl',
    name: 'Polish',
    script: 'Latin',
    bases: ['pl'],
    voices: variants('pl'),
    wordlist: 'words-pl.txt',
    spaces: true,
    rate: 100,
  },
  {
    code: 'tr',
    name: 'Turkish',
    script: 'Latin',
    bases: ['tr'],
    voices: variants('tr'),
    wordlist: 'words-tr.txt',
    spaces: true,
    rate: 100,
  },
  {
    code: 'ru',
    name: 'Russian',
    script: 'Cyrillic',
    bases: ['ru', 'ru-lv'],
    voices: variants('ru'),
    wordlist: 'words-ru.txt',
    spaces: true,
    rate: 84,
  },
  {
    code: 'uk',
    name: 'Ukrainian',
    script: 'Cyrillic',
    bases: ['uk'],
    voices: variants('uk'),
    wordlist: 'words-uk.txt',
    spaces: true,
    rate: 100,
  },
  {
    code: 'el',
    name: 'Greek',
    script: 'Greek',
    bases: ['el'],
    voices: variants('el'),
    wordlist: 'words-el.txt',
    spaces: true,
    rate: 100,
  },
  {
    code: 'hi',
    name: 'Hindi',
    script: 'Devanagari',
    bases: ['hi'],
    voices: variants('hi'),
    wordlist: 'words-hi.txt',
    spaces: true,
    rate: 100,
  },
  {
    code: 'ar',
    name: 'Arabic',
    script: 'Arabic',
    bases: ['ar'],
    voices: variants('ar'),
    wordlist: 'words-ar.txt',
    spaces: true,
    rate: 100,
  },
  {
    code: 'cmn',
    name: 'Mandarin Chinese',
    script: 'Han',
    bases: ['cmn'],
    voices: variants('cmn'),
    wordlist: 'words-cmn.txt',
    spaces: false,
    rate: 100,
  },
  {
    code: 'ja',
    name: 'Japanese (kana only)',
    script: 'Kana',
    bases: ['ja'],
    voices: variants('ja'),
    wordlist: 'words-ja.txt',
    spaces: false,
    rate: 100,
  },
  {
    code: 'ko',
    name: 'Korean',
    script: 'Hangul',
    bases: ['ko'],
    voices: variants('ko'),
    wordlist: 'words-ko.txt',
    spaces: true,
    rate: 100,
  },
];

export const DEFAULT_LANGUAGE = 'en';

/** The language of `code` (case-insensitive); a RoteError listing the codes when there is none. */
export function canaryLanguage(code: string = DEFAULT_LANGUAGE, field = '--language'): CanaryLanguage {
  const found = CANARY_LANGUAGES.find((language) => language.code === code.toLowerCase());
  if (!found)
    throw new RoteError(
      `${field}: no canary language "${code}"; rote generate --list-languages lists them (${CANARY_LANGUAGES.map((l) => l.code).join(', ')})`,
    );
  return found;
}

/** Absolute path of a language's shipped word list. */
export function languageWordlistPath(language: CanaryLanguage): string {
  return fileURLToPath(new URL(`../../canaries/${language.wordlist}`, import.meta.url));
}
