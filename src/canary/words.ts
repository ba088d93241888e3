/**
 * Word lists for canary text: one word per line, '#' starts a comment,
 * blank lines ignored. A word is letters of any script (with their combining
 * marks: accents, vowel signs) in lower case and Unicode NFC, so a canary's
 * text is its own reference: no digits (a digit has many spoken forms), no
 * punctuation, no spaces. Texts are compared in rote's normalized form
 * (src/util/normalize-text.ts), which also folds "ß" to "ss".
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RoteError } from '../util/errors.ts';
import { sha256Hex } from '../util/hash.ts';
import { normalizeText } from '../util/normalize-text.ts';

/** The shipped English list: canaries/words-en.txt (SCOWL size 10, see canaries/README.md); other languages: languages.ts. */
export const DEFAULT_WORDLIST_PATH = fileURLToPath(new URL('../../canaries/words-en.txt', import.meta.url));

export interface WordList {
  /** File name (not the full path: the set must not depend on where the list sat). */
  name: string;
  /** sha256 of the file's bytes. */
  sha256: string;
  /** Distinct words in file order. */
  words: string[];
}

const WORD = /^[\p{L}\p{M}]+$/u;

/** Reads and validates a word list (default: the shipped one). Errors name the file and line. */
export async function loadWordList(path: string = DEFAULT_WORDLIST_PATH): Promise<WordList> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new RoteError(
      `${path}: cannot read word list (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      { cause: error },
    );
  }
  const seen = new Set<string>();
  const words: string[] = [];
  bytes
    .toString('utf8')
    .split(/\r?\n/)
    .forEach((raw, index) => {
      const line = raw.replace(/#.*$/, '').trim();
      if (!line) return;
      if (!WORD.test(line) || line !== line.normalize('NFC').toLowerCase() || normalizeText(line).includes(' ')) {
        const suggestion = line.normalize('NFC').toLowerCase();
        throw new RoteError(
          `${path}:${index + 1}: "${line}" is not a word of letters in lower case (NFC)` +
            (WORD.test(suggestion) && suggestion !== line
              ? ` (write it "${suggestion}")`
              : ' (no digits, punctuation or spaces)') +
            "; a word list holds one lower-case word per line ('#' starts a comment)",
        );
      }
      if (!seen.has(line)) {
        seen.add(line);
        words.push(line);
      }
    });
  if (words.length === 0) throw new RoteError(`${path}: the word list has no words`);
  return { name: basename(path), sha256: sha256Hex(bytes), words };
}

const TRANSCRIPT_FIELDS = ['text', 'txt', 'sentence', 'transcription', 'transcript', 'wrd', 'normalized_text'];

/** Words to exclude: a word is excluded when it is one of `words`, or (scripts without spaces) occurs in `text`. */
export interface ExcludedWords {
  /** The distinct runs of letters (normalized). */
  words: Set<string>;
  /** Every run, one per line: a word of a script without spaces is excluded when it occurs in it. */
  text: string;
}

/** True when `word` is excluded; `spaces` false (Chinese, Japanese): also when it occurs inside a run. */
export function isExcluded(excluded: ExcludedWords, word: string, spaces: boolean): boolean {
  return excluded.words.has(word) || (!spaces && excluded.text.includes(word));
}

/**
 * Words to exclude, from a plain word list or text file (every run of letters
 * counts), or a JSON-lines manifest (.json/.jsonl/.ndjson: the transcript
 * field of each line: text, txt, sentence, transcription, wrd, ...).
 * Normalized as every text (src/util/normalize-text.ts).
 */
export async function loadExcludedWords(path: string): Promise<ExcludedWords> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    throw new RoteError(
      `${path}: cannot read --exclude-words file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      { cause: error },
    );
  }
  const words = new Set<string>();
  const addText = (text: string) => {
    for (const match of normalizeText(text).matchAll(/[\p{L}\p{M}]+/gu)) words.add(match[0]);
  };
  const extension = extname(path).toLowerCase();
  if (['.json', '.jsonl', '.ndjson'].includes(extension)) {
    content.split(/\r?\n/).forEach((line, index) => {
      if (!line.trim()) return;
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new RoteError(
          `${path}:${index + 1}: not a JSON line; --exclude-words takes a word list, a text file or a JSON-lines manifest`,
        );
      }
      const field = TRANSCRIPT_FIELDS.find((name) => typeof record[name] === 'string');
      if (!field)
        throw new RoteError(`${path}:${index + 1}: no transcript field (looked for ${TRANSCRIPT_FIELDS.join(', ')})`);
      addText(record[field] as string);
    });
  } else {
    addText(content.replace(/#.*$/gm, ''));
  }
  return { words, text: [...words].join('\n') };
}
