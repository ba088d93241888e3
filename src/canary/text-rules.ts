/**
 * What a canary text must be wherever it enters a canary set (import-canaries, generate): on one line
 * (line formats such as Kaldi `text` hold one record a line) and scorable (something is left after the
 * audit's own normalization, or CER has no reference). Texts are compared after that same
 * normalization: two canaries that read the same are one text to a model.
 */
import { normalizeText } from '../util/normalize-text.ts';
import { breaksLineFormat } from '../util/line-fields.ts';

/** Why `text` cannot be a canary's text, or null when it can. */
export function canaryTextProblem(text: string): string | null {
  if (breaksLineFormat(text))
    return `the text ${JSON.stringify(text)} contains a line break or tab, which line formats (Kaldi text, TSV) cannot hold; write it on one line with spaces`;
  if (unscorableText(text))
    return `the text ${JSON.stringify(text)} has nothing to score: it is empty after the audit's normalization (case folded, punctuation and symbols removed); give it words`;
  return null;
}

/** True when nothing of `text` is left after the audit's normalization: it has no CER and no score. */
export function unscorableText(text: string): boolean {
  return normalizeText(text) === '';
}

interface CanaryTextEntry {
  text: string;
  repetitions: number | null;
  /** Where the canary is named (e.g. "list.tsv:4" or "canary 3f2a..."). */
  where: string;
}

/**
 * Refusal message for the first two canaries whose texts are equal after the audit's normalization
 * (case, punctuation, white space), or null when every text is distinct.
 */
export function duplicateCanaryText(entries: readonly CanaryTextEntry[]): string | null {
  const first = new Map<string, CanaryTextEntry>();
  for (const entry of entries) {
    const key = normalizeText(entry.text);
    const earlier = first.get(key);
    if (earlier === undefined) {
      first.set(key, entry);
      continue;
    }
    const consequence =
      earlier.repetitions === null && entry.repetitions === null
        ? 'two held-out canaries would be one'
        : earlier.repetitions === null || entry.repetitions === null
          ? 'a held-out canary would be trained on, contaminating the held-out group'
          : `one text would be trained on ${earlier.repetitions + entry.repetitions} times`;
    return `${entry.where}: the text ${JSON.stringify(entry.text)} reads the same as ${earlier.where}'s ${JSON.stringify(earlier.text)} after the audit's normalization (case, punctuation, white space): ${consequence}; every canary needs its own text`;
  }
  return null;
}
