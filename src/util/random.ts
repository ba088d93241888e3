/**
 * Seeded pseudo-random numbers, identical on every machine.
 *
 * Algorithm: the seed string is hashed with SHA-256; the first 16 bytes seed
 * xoshiro128** (Blackman & Vigna). `nextUint32` returns its 32-bit outputs,
 * `nextFloat` = nextUint32 / 2^32, and `nextInt(n)` draws without modulo bias
 * by rejection (Lemire's method is not used: plain rejection is easier to port).
 * Derive independent streams with `fork(label)`: a new generator seeded with
 * `${seed}/${label}`, so adding a draw to one stage never shifts another.
 */
import { createHash } from 'node:crypto';

export class SeededRandom {
  readonly seed: string;
  private readonly state: Uint32Array;

  constructor(seed: string | number) {
    this.seed = String(seed);
    const digest = createHash('sha256').update(this.seed).digest();
    this.state = new Uint32Array([
      digest.readUInt32LE(0),
      digest.readUInt32LE(4),
      digest.readUInt32LE(8),
      digest.readUInt32LE(12),
    ]);
    if (this.state.every((word) => word === 0)) this.state[0] = 1;
  }

  fork(label: string): SeededRandom {
    return new SeededRandom(`${this.seed}/${label}`);
  }

  nextUint32(): number {
    const s = this.state;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296)
      throw new RangeError(`nextInt(${n}): n must be an integer in [1, 2^32]`);
    const limit = 4294967296 - (4294967296 % n);
    let value: number;
    do value = this.nextUint32();
    while (value >= limit);
    return value % n;
  }

  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
