/**
 * Finding a canary set's canaries in a manifest during pass 1, so that
 * injecting a set twice is refused: inject writes each copy's transcript as
 * the canary text cased like the corpus (caseLike: as is, lower or upper
 * case), so a record whose transcript is one of those spellings holds a
 * canary. Records that pass 1 parses are looked up exactly. The JSON-lines
 * fast path parses few lines, so it searches each chunk for the JSON string
 * of one canary with the most copies, spelled as inject would spell it after
 * the manifest's first transcript (one Buffer.indexOf pass, about 5% of pass
 * 1's time): an injected manifest holds every inserted canary, so finding
 * that one suffices; a hit is confirmed by parsing its line.
 */
import type { TrainingCanary } from '../../canary/types.ts';
import { caseLike } from '../ids.ts';

export interface CanaryMatch {
  id: string;
  text: string;
}

export class CanaryTexts {
  private readonly bySpelling = new Map<string, CanaryMatch>();
  /** The canary the fast path searches for: one with the most copies. */
  private readonly searched: CanaryMatch | undefined;
  private patterns: { template: string | undefined; bytes: Buffer[] } | null = null;

  constructor(canaries: readonly Pick<TrainingCanary, 'id' | 'text' | 'repetitions'>[]) {
    for (const canary of canaries) {
      for (const spelling of spellings(canary.text))
        this.bySpelling.set(spelling, { id: canary.id, text: canary.text });
    }
    this.searched = [...canaries].sort((a, b) => b.repetitions - a.repetitions || (a.id < b.id ? -1 : 1))[0];
  }

  /**
   * The JSON strings (quotes included; plain and \u-escaped) of the searched canary as inject writes it into a
   * manifest whose first transcript is `template` (caseLike): one spelling, one pass over the bytes.
   */
  private patternsFor(template: string | undefined): Buffer[] {
    if (this.patterns && this.patterns.template === template) return this.patterns.bytes;
    const bytes: Buffer[] = [];
    if (this.searched) {
      const json = JSON.stringify(caseLike(this.searched.text, template));
      const escaped = json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
      for (const pattern of new Set([json, escaped])) bytes.push(Buffer.from(pattern, 'utf8'));
    }
    this.patterns = { template, bytes };
    return bytes;
  }

  /** The canary whose text `transcript` spells as inject writes it, if any. */
  match(transcript: string | undefined): CanaryMatch | undefined {
    return transcript === undefined ? undefined : this.bySpelling.get(transcript.trim());
  }

  /** The smallest offset in buf[start, end) where the searched canary occurs as spelled after `template`, or -1. */
  search(buf: Buffer, start: number, end: number, template: string | undefined): number {
    let first = -1;
    for (const pattern of this.patternsFor(template)) {
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
