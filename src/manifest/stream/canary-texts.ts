/**
 * Finding a canary set's canaries in a manifest during pass 1, so that
 * injecting a set twice is refused: inject writes each copy's transcript as
 * the canary text cased like the corpus (caseLike: as is, lower or upper
 * case), so a record whose transcript is one of those spellings holds a
 * canary. Records that pass 1 parses are looked up exactly. The JSON-lines
 * fast path parses few lines, so it searches each chunk for the JSON
 * strings of the canaries with the most copies (Buffer.indexOf, a few
 * passes at memory speed): an injected manifest holds every inserted
 * canary, so finding those suffices; a hit is confirmed by parsing its line.
 */
import type { TrainingCanary } from '../../canary/types.ts';

/** How many canaries the fast path searches for (those with the most copies). */
const SEARCHED_CANARIES = 4;

export interface CanaryMatch {
  id: string;
  text: string;
}

export class CanaryTexts {
  private readonly bySpelling = new Map<string, CanaryMatch>();
  /** JSON strings (quotes included, plain and \u-escaped) of the searched canaries' spellings. */
  readonly patterns: Buffer[] = [];

  constructor(canaries: readonly Pick<TrainingCanary, 'id' | 'text' | 'repetitions'>[]) {
    for (const canary of canaries) {
      for (const spelling of spellings(canary.text))
        this.bySpelling.set(spelling, { id: canary.id, text: canary.text });
    }
    const searched = [...canaries]
      .sort((a, b) => b.repetitions - a.repetitions || (a.id < b.id ? -1 : 1))
      .slice(0, SEARCHED_CANARIES);
    const patterns = new Set<string>();
    for (const canary of searched) {
      for (const spelling of spellings(canary.text)) {
        const json = JSON.stringify(spelling);
        patterns.add(json);
        patterns.add(json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
      }
    }
    this.patterns = [...patterns].map((pattern) => Buffer.from(pattern, 'utf8'));
  }

  /** The canary whose text `transcript` spells as inject writes it, if any. */
  match(transcript: string | undefined): CanaryMatch | undefined {
    return transcript === undefined ? undefined : this.bySpelling.get(transcript.trim());
  }

  /** The smallest offset in buf[start, end) where a searched pattern occurs, or -1. */
  search(buf: Buffer, start: number, end: number): number {
    let first = -1;
    for (const pattern of this.patterns) {
      const at = buf.indexOf(pattern, start);
      if (at !== -1 && at + pattern.length <= end && (first === -1 || at < first)) first = at;
    }
    return first;
  }
}

function spellings(text: string): Set<string> {
  return new Set([text, text.toLowerCase(), text.toUpperCase()]);
}

/** The refusal for a record that holds a canary of the set. */
export function alreadyInjectedMessage(where: string, canary: CanaryMatch, what = 'manifest'): string {
  return (
    `${where}: holds canary ${canary.id} of this set ("${canary.text}"); the ${what} already holds this set's canaries ` +
    `(an earlier injection), and injecting again would double every copy: inject into the original ${what}`
  );
}
