/**
 * The one text normalization of rote, for every script: CER/WER (src/audit),
 * duplicate canaries (src/canary) and what a model's vocabulary must emit
 * (src/asr) all compare texts in this form.
 *
 * 1. Unicode NFKC: composed characters (so "é" typed as e + U+0301 equals "é"),
 *    compatibility forms folded (full-width Latin and digits, half-width katakana,
 *    Arabic presentation forms, ligatures such as "ﬁ").
 * 2. Case folding: lower case, plus the full folds JavaScript's toLowerCase leaves
 *    out: German "ß" -> "ss", Greek final "ς" -> "σ" (so STRASSE = straße).
 * 3. Apostrophes (' U+2019 U+02BC) deleted, so "don't" = "dont" and "l'eau" = "leau".
 * 4. Invisible format characters (Unicode category Cf: zero-width joiners, marks of
 *    direction, soft hyphen) and the Arabic tatweel (U+0640, a stretching stroke)
 *    deleted.
 * 5. Every other punctuation or symbol character (Unicode categories P and S, e.g.
 *    "-", ".", "¿", "«", "。", "、", "।", SentencePiece's "▁") replaced by a space.
 * 6. White space runs collapsed to one space, ends trimmed.
 * Diacritics and combining marks (category M: accents, Devanagari vowel signs,
 * Arabic harakat) are KEPT: a model that drops them got the text wrong. Digits are
 * kept (canaries refuse them: a digit has many spoken forms).
 */
export function normalizeText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/ß/gu, 'ss')
    .replace(/ς/gu, 'σ')
    .replace(/['\u2019\u02bc]/gu, '')
    .replace(/[\p{Cf}\u0640]/gu, '')
    .replace(/[\p{P}\p{S}]/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
}

/** Characters of the scripts written without spaces between words (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar). */
const UNSPACED =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}ー]/u;

/**
 * The words of a normalized text, for WER: space-separated words, except that in the
 * scripts written without spaces (Chinese, Japanese, Thai, ...) every character is a word
 * (WER there counts characters; a text mixing scripts splits only those runs).
 */
export function wordsOf(normalized: string): string[] {
  if (normalized === '') return [];
  const words: string[] = [];
  for (const word of normalized.split(' ')) {
    if (!UNSPACED.test(word)) {
      words.push(word);
      continue;
    }
    let run = '';
    for (const char of word) {
      if (UNSPACED.test(char)) {
        if (run) words.push(run);
        run = '';
        words.push(char);
      } else run += char;
    }
    if (run) words.push(run);
  }
  return words;
}

/** True when the normalized text holds a digit (any script's): canaries refuse them. */
export function hasDigit(text: string): boolean {
  return /\p{Nd}/u.test(text);
}
