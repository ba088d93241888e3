/**
 * Plausible ids for inserted records: shaped like the corpus's own ids (digits
 * replaced by digits, hex runs by hex, letters kept), so they neither stand
 * out nor sort as a block; a Bloom filter over the corpus ids (fixed memory)
 * rejects any candidate that might collide.
 */
import { createHash } from 'node:crypto';
import type { SeededRandom } from '../util/random.ts';

const DIGITS = '0123456789';
const HEX = '0123456789abcdef';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * A random id with the shape of `template`. `level` widens the change when
 * candidates keep colliding: 0 = digits (and hex runs) after the first two
 * characters, 1 = every digit and letter,
 * 2 = level 1 plus an appended random number.
 */
export function mimicId(template: string, random: SeededRandom, level = 0): string {
  if (template.length === 0) return randomString(HEX, 8, random);
  // Keeping the first two characters at level 0 places the id next to its template in sorted order.
  const kept = level === 0 && template.length > 4 ? template.slice(0, 2) : '';
  let result =
    kept +
    template.slice(kept.length).replace(/[0-9a-fA-F]{8,}|[0-9]+|[a-z]+|[A-Z]+/g, (run) => {
      if (/^[0-9]+$/.test(run)) return randomString(DIGITS, run.length, random);
      if (run.length >= 8 && /^[0-9a-f]+$/.test(run) && /[0-9]/.test(run)) return randomString(HEX, run.length, random);
      if (run.length >= 8 && /^[0-9A-F]+$/.test(run) && /[0-9]/.test(run))
        return randomString(HEX, run.length, random).toUpperCase();
      if (level >= 1 && /^[a-z]+$/.test(run)) return randomString(LOWER, run.length, random);
      if (level >= 1 && /^[A-Z]+$/.test(run)) return randomString(UPPER, run.length, random);
      return run;
    });
  if (level >= 2 || result === template) result += `-${randomString(DIGITS, 6, random)}`;
  return result;
}

function randomString(alphabet: string, length: number, random: SeededRandom): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[random.nextInt(alphabet.length)];
  return out;
}

/** Fixed-size Bloom filter over strings: false positives only, never false negatives. */
export class BloomFilter {
  private readonly bits: Uint32Array;
  private readonly mask: number;
  constructor(log2Bits = 24) {
    this.bits = new Uint32Array((1 << log2Bits) >>> 5);
    this.mask = (1 << log2Bits) - 1;
  }
  add(value: string): void {
    for (const index of this.indices(value)) this.bits[index >>> 5]! |= 1 << (index & 31);
  }
  mightContain(value: string): boolean {
    for (const index of this.indices(value)) if ((this.bits[index >>> 5]! & (1 << (index & 31))) === 0) return false;
    return true;
  }
  private indices(value: string): number[] {
    // Two FNV-1a variants combined (Kirsch-Mitzenmacher double hashing), 4 probes.
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 15);
    }
    h2 |= 1;
    return [0, 1, 2, 3].map((k) => (h1 + Math.imul(k, h2)) & this.mask);
  }
}

/**
 * Exact-enough set of ids for duplicate checks over millions of records: a
 * 64-bit hash per id (two independent 32-bit FNV-style hashes) in an
 * open-addressing table, 8 bytes per slot, grown at half load. Two different
 * ids share a hash with odds of about n^2 / 2^65 (1e-8 for 1M ids).
 */
export class IdSet {
  private high = new Uint32Array(1 << 16);
  private low = new Uint32Array(1 << 16);
  private used = new Uint8Array(1 << 16);
  private count = 0;

  /** Adds `id`; false when it was there already. */
  add(id: string): boolean {
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 13;
    }
    h1 >>>= 0;
    h2 >>>= 0;
    if (!this.insert(h1, h2)) return false;
    if (++this.count * 2 > this.used.length) this.grow();
    return true;
  }

  private insert(h1: number, h2: number): boolean {
    const mask = this.used.length - 1;
    for (let slot = (h1 ^ Math.imul(h2, 0x9e3779b1)) & mask; ; slot = (slot + 1) & mask) {
      if (!this.used[slot]) {
        this.used[slot] = 1;
        this.high[slot] = h1;
        this.low[slot] = h2;
        return true;
      }
      if (this.high[slot] === h1 && this.low[slot] === h2) return false;
    }
  }

  private grow(): void {
    const { high, low, used } = this;
    this.high = new Uint32Array(used.length * 2);
    this.low = new Uint32Array(used.length * 2);
    this.used = new Uint8Array(used.length * 2);
    for (let i = 0; i < used.length; i++) if (used[i]) this.insert(high[i]!, low[i]!);
  }
}

/** Draws ids shaped like `template` that are unique among `taken` and the corpus. */
export function drawUniqueId(
  template: string,
  random: SeededRandom,
  corpusIds: BloomFilter | null,
  taken: Set<string>,
): string {
  for (let attempt = 0; attempt < 300; attempt++) {
    const id = mimicId(template, random, attempt < 100 ? 0 : attempt < 200 ? 1 : 2);
    if (taken.has(id) || corpusIds?.mightContain(id)) continue;
    taken.add(id);
    return id;
  }
  const fallback = `${template}-${createHash('sha256').update(`${random.nextUint32()}`).digest('hex').slice(0, 10)}`;
  taken.add(fallback);
  return fallback;
}

/** Cases a canary transcript like the corpus's template transcript (all upper, all lower, or as is). */
export function caseLike(text: string, template: string | undefined): string {
  if (!template || !/\p{L}/u.test(template)) return text;
  if (template === template.toUpperCase()) return text.toUpperCase();
  if (template === template.toLowerCase()) return text.toLowerCase();
  return text;
}

/** Normalized transcript for matching: lower case, letters/digits/apostrophes, single spaces. */
export function normalizeText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}'\s]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
