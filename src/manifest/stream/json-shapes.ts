/**
 * Fast, sound validation of flat JSON-lines records (NeMo manifests) without
 * parsing each line. A "shape" is the sequence of top-level keys of a line
 * that the adapter accepted, with each value's kind (string, number, boolean,
 * null). Lines are matched, on the latin1 view of their UTF-8 bytes, against
 * an exact regular expression for the JSON grammar of that shape: a line that
 * matches is valid JSON with exactly those keys and kinds, so the adapter
 * accepts it too (its rules depend only on key kinds: `acceptsByFieldKinds`).
 * A line that matches no shape is parsed for real, which either throws the
 * precise error or teaches a new shape. Proven against JSON.parse on fuzzed
 * lines in test/manifest/json-shapes.test.ts.
 *
 * Why latin1: each byte becomes one char, so match offsets are byte offsets,
 * and a JSON string's content only has to avoid '"', '\' and control chars,
 * which no UTF-8 multi-byte sequence contains (the chunk is checked for valid
 * UTF-8 separately).
 */

export type ValueKind = 'string' | 'number' | 'boolean' | 'null';

const WS = '[ \\t]*';
const STRING = String.raw`"[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*"`;
const NUMBER = String.raw`-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?`;
const VALUE: Record<ValueKind, string> = { string: STRING, number: NUMBER, boolean: '(?:true|false)', null: 'null' };

/** At most this many shapes are learned per file; lines of other shapes are parsed. */
const MAX_SHAPES = 8;

/** A key is usable in a shape when its JSON form needs no escaping. */
function plainKey(key: string): boolean {
  return !/["\\\x00-\x1f]/.test(key);
}

function kindOf(value: unknown): ValueKind | null {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  return null;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** The regular-expression source matching one line of this shape (terminator excluded). */
export function shapeSource(entries: Array<[string, ValueKind]>): string {
  const members = entries.map(
    ([key, kind]) => `"${escapeRegExp(Buffer.from(key, 'utf8').toString('latin1'))}"${WS}:${WS}${VALUE[kind]}`,
  );
  return `${WS}\\{${WS}${members.join(`${WS},${WS}`)}${WS}\\}${WS}`;
}

/**
 * Learned shapes for one file and a sticky matcher over them. `matchLine`
 * returns the offset just past the line's "\n" when the line at `start`
 * matches a shape, or -1.
 */
export class ShapeMatcher {
  private readonly sources = new Set<string>();
  private matcher: RegExp | null = null;

  get size(): number {
    return this.sources.size;
  }

  /** Learns the shape of a parsed, accepted record; false when it has no usable shape. */
  learn(fields: Record<string, unknown>): boolean {
    if (this.sources.size >= MAX_SHAPES) return false;
    const entries: Array<[string, ValueKind]> = [];
    for (const [key, value] of Object.entries(fields)) {
      const kind = kindOf(value);
      if (kind === null || !plainKey(key)) return false;
      entries.push([key, kind]);
    }
    const source = shapeSource(entries);
    if (this.sources.has(source)) return true;
    this.sources.add(source);
    this.matcher = new RegExp(`(?:${[...this.sources].join('|')})\\r?\\n`, 'y');
    return true;
  }

  matchLine(text: string, start: number): number {
    if (!this.matcher) return -1;
    this.matcher.lastIndex = start;
    return this.matcher.test(text) ? this.matcher.lastIndex : -1;
  }
}
