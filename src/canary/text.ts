/**
 * Seeded canary text. Algorithm (reproducible on any machine):
 * a SeededRandom(seed).fork('text') stream; for each canary, draw
 * `wordsPerCanary` DISTINCT words, each uniformly from the words not yet in
 * that canary (rng.nextInt over the remaining list), join them with single
 * spaces (no separator for scripts written without spaces); a text already
 * drawn (the same characters, even from other words) is discarded and drawn again. So the set is
 * uniform over all ordered selections of distinct words, without repeats.
 */
import { RoteError } from '../util/errors.ts';
import { OptionError } from '../util/options.ts';
import { SeededRandom } from '../util/random.ts';
import { normalizeText } from '../util/normalize-text.ts';

/** How many distinct canaries of `wordsPerCanary` distinct words a list of `wordCount` words can give: P(n, w). */
export function maxDistinctCanaries(wordCount: number, wordsPerCanary: number): number {
  if (wordsPerCanary > wordCount) return 0;
  let total = 1;
  for (let i = 0; i < wordsPerCanary; i++) {
    total *= wordCount - i;
    if (total > Number.MAX_SAFE_INTEGER) return Number.POSITIVE_INFINITY;
  }
  return total;
}

/**
 * Two words that read the same after the audit's normalization (case, punctuation) would make canaries
 * that are one text to the audit, and a word with nothing left has nothing to score: both are refused.
 */
function refuseWordsThatReadAlike(words: readonly string[], source: string): void {
  const byKey = new Map<string, string>();
  for (const word of words) {
    const key = normalizeText(word);
    const other = byKey.get(key);
    if (key === '' || other !== undefined)
      throw new RoteError(
        key === ''
          ? `${source}: the word ${JSON.stringify(word)} has nothing to score after the audit's normalization (case folded, punctuation removed); remove it`
          : `${source}: the words ${JSON.stringify(other)} and ${JSON.stringify(word)} read the same after the audit's normalization (case, punctuation); canaries made of them would be one text to the audit: keep one`,
      );
    byKey.set(key, word);
  }
}

export interface CanaryTextOptions {
  count: number;
  wordsPerCanary: number;
  words: readonly string[];
  seed: string;
  /** Names the word list in error messages. */
  source?: string;
  /** Between the words: ' ' (default), '' for scripts written without spaces (Chinese, Japanese). */
  separator?: string;
}

export function makeCanaryTexts(options: CanaryTextOptions): string[] {
  const { count, wordsPerCanary, words, seed, source = 'the word list', separator = ' ' } = options;
  if (!Number.isInteger(count) || count < 1)
    throw new RoteError(`canary count must be a positive integer, got ${count}`);
  if (!Number.isInteger(wordsPerCanary) || wordsPerCanary < 1)
    throw new OptionError((name) => `${name('words')} must be a positive integer, got ${wordsPerCanary}`);
  refuseWordsThatReadAlike(words, source);
  const possible = maxDistinctCanaries(words.length, wordsPerCanary);
  if (possible < count) {
    throw new RoteError(
      `${source} has ${words.length} usable words, which give at most ${possible} distinct canaries of ${wordsPerCanary} different words; ` +
        `${count} were asked for. Use a longer word list (--wordlist), more --words, or fewer canaries (--per-group/--holdout).`,
    );
  }
  const random = new SeededRandom(seed).fork('text');
  const seen = new Set<string>();
  const texts: string[] = [];
  const pool = [...words];
  // Joined without spaces, different words can spell the same text, so fewer distinct texts may exist than P(n, w).
  const maxDraws = 1000 * count + 100_000;
  for (let draws = 0; texts.length < count; draws++) {
    if (draws === maxDraws)
      throw new RoteError(
        `${source}: after ${draws} draws only ${texts.length} distinct canaries of ${wordsPerCanary} words were found (words joined without spaces spell the same texts); ${count} were asked for. Use a longer word list or more --words.`,
      );
    // Partial Fisher-Yates: the first w slots become a uniform ordered draw without replacement.
    for (let i = 0; i < wordsPerCanary; i++) {
      const j = i + random.nextInt(pool.length - i);
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    const text = pool.slice(0, wordsPerCanary).join(separator);
    const key = normalizeText(text);
    if (!seen.has(key)) {
      seen.add(key);
      texts.push(text);
    }
  }
  return texts;
}
