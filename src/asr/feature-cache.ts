/**
 * Features kept across transcriptions of the same files: a trajectory audits the same
 * canaries with every checkpoint, and checkpoints of one training run share their
 * frontend, so each file's features are computed once. A file is known by its real
 * path, size and modification time; a frontend by its spec, so models whose frontends
 * differ in any field never share features. Bounded in bytes; the least recently used
 * entries go first. Callers treat the matrices as read-only (batching copies them); notes are copied in and out.
 */
import { realpathSync, statSync } from 'node:fs';
import type { FrontendSpec } from '../audio/index.ts';
import type { ExtractedFeatures } from './feature-extract.ts';

/** Default bound: the demo's 188 canaries are ~20 MB per frontend. */
const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;

export class FeatureCache {
  private readonly entries = new Map<string, ExtractedFeatures>();
  private heldBytes = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly maxBytes = DEFAULT_MAX_BYTES) {}

  /** Bytes of features held. */
  get bytes(): number {
    return this.heldBytes;
  }

  /** Files held. */
  get size(): number {
    return this.entries.size;
  }

  /** The key of `path` under `spec`, or null when the file cannot be stat'ed (then it is never cached). */
  keyOf(spec: FrontendSpec, path: string): string | null {
    try {
      const stat = statSync(path);
      return `${JSON.stringify(spec)}\n${realpathSync(path)}\n${stat.size}\n${stat.mtimeMs}`;
    } catch {
      return null;
    }
  }

  get(key: string | null): ExtractedFeatures | undefined {
    const found = key === null ? undefined : this.entries.get(key);
    if (found === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key!);
    this.entries.set(key!, found);
    return { ...found, notes: [...found.notes] };
  }

  set(key: string | null, features: ExtractedFeatures): void {
    if (key === null || this.entries.has(key)) return;
    const size = features.matrix.data.byteLength;
    if (size > this.maxBytes) return;
    this.entries.set(key, { matrix: features.matrix, durationSec: features.durationSec, notes: [...features.notes] });
    this.heldBytes += size;
    for (const [oldest, entry] of this.entries) {
      if (this.heldBytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.heldBytes -= entry.matrix.data.byteLength;
    }
  }
}
