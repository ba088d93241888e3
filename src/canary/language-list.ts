/** `rote generate --list-languages`: each canary language with its voices and word-list size. */
import { CANARY_LANGUAGES, languageWordlistPath } from './languages.ts';
import { loadWordList } from './words.ts';

export async function describeLanguages(): Promise<string> {
  const lines = ['code  language              script      words  default rate  voices (rotated)'];
  for (const language of CANARY_LANGUAGES) {
    const { words } = await loadWordList(languageWordlistPath(language));
    lines.push(
      `${language.code.padEnd(6)}${language.name.padEnd(22)}${language.script.padEnd(12)}${String(words.length).padStart(5)}  ${`${language.rate} wpm`.padEnd(14)}${language.voices.join(', ')}`,
    );
  }
  lines.push(
    'Chinese and Japanese canaries are written without spaces (their WER counts characters). Word lists and their sources: canaries/README.md.',
  );
  return lines.join('\n');
}
