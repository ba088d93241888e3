/**
 * Character and word error rates by Levenshtein distance on normalized text.
 *
 * Normalization (both reference and hypothesis): src/util/normalize-text.ts, the
 * same for every script (NFKC, case folding, apostrophes and invisible format
 * characters deleted, other punctuation and symbols by Unicode category replaced
 * by a space, diacritics kept, white space collapsed).
 * CER counts characters of the normalized text including the single spaces
 * between words (as jiwer's cer does); WER counts space-separated words, except
 * that in scripts written without spaces (Chinese, Japanese, Thai) each
 * character counts as a word.
 * Error rate = edits / reference length; it can exceed 1 when the hypothesis
 * is longer than the reference.
 */
import { normalizeText, wordsOf } from '../../util/normalize-text.ts';

export function normalizeTranscript(text: string): string {
  return normalizeText(text);
}

/** Levenshtein distance (unit-cost insertions, deletions, substitutions) between two sequences. */
export function editDistance<T>(reference: ArrayLike<T>, hypothesis: ArrayLike<T>): number {
  const n = reference.length;
  const m = hypothesis.length;
  if (n === 0) return m;
  if (m === 0) return n;
  let previous = new Uint32Array(m + 1);
  let current = new Uint32Array(m + 1);
  for (let j = 0; j <= m; j++) previous[j] = j;
  for (let i = 1; i <= n; i++) {
    current[0] = i;
    const r = reference[i - 1];
    for (let j = 1; j <= m; j++) {
      const substitution = previous[j - 1]! + (r === hypothesis[j - 1] ? 0 : 1);
      current[j] = Math.min(substitution, previous[j]! + 1, current[j - 1]! + 1);
    }
    [previous, current] = [current, previous];
  }
  return previous[m]!;
}

export interface ErrorRates {
  cer: number;
  wer: number;
  characterEdits: number;
  referenceCharacters: number;
  wordEdits: number;
  referenceWords: number;
  /** Normalized hypothesis equals normalized reference. */
  exactMatch: boolean;
}

/** CER, WER and exact match of `hypothesis` against `reference` (normalized as documented above). */
export function errorRates(reference: string, hypothesis: string): ErrorRates {
  const normalizedReference = normalizeTranscript(reference);
  const normalizedHypothesis = normalizeTranscript(hypothesis);
  if (normalizedReference.length === 0)
    throw new RangeError(`errorRates: the reference ${JSON.stringify(reference)} is empty after normalization`);
  const referenceCharacters = Array.from(normalizedReference);
  const hypothesisCharacters = Array.from(normalizedHypothesis);
  const referenceWords = wordsOf(normalizedReference);
  const hypothesisWords = wordsOf(normalizedHypothesis);
  const characterEdits = editDistance(referenceCharacters, hypothesisCharacters);
  const wordEdits = editDistance(referenceWords, hypothesisWords);
  return {
    cer: characterEdits / referenceCharacters.length,
    wer: wordEdits / referenceWords.length,
    characterEdits,
    referenceCharacters: referenceCharacters.length,
    wordEdits,
    referenceWords: referenceWords.length,
    exactMatch: normalizedReference === normalizedHypothesis,
  };
}
