/** `rote generate --list-languages`: each canary language with its voices and word-list size. */
import { readFileSync } from 'node:fs';
import { CANARY_LANGUAGES, languageWordlistPath } from './languages.ts';

/** The table of languages (synchronous: the CLI prints it while commander parses, before --out is required). */
export function describeLanguages(): string {
  const lines = ['code  language              script      words  rate     voices (rotated)'];
  for (const language of CANARY_LANGUAGES) {
    const words = readFileSync(languageWordlistPath(language), 'utf8')
      .split(/\r?\n/)
      .filter((line) => line.replace(/#.*$/, '').trim() !== '').length;
    lines.push(
      `${language.code.padEnd(6)}${language.name.padEnd(22)}${language.script.padEnd(12)}${String(words).padStart(5)}  ${`${language.rate} wpm`.padEnd(9)}${language.voices.join(', ')}`,
    );
  }
  lines.push(
    'Chinese and Japanese canaries are written without spaces (their WER counts characters); Japanese is kana only (espeak-ng reads kanji as "Chinese letter"). Word lists and their sources: canaries/README.md.',
  );
  return lines.join('\n');
}
