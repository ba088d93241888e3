import { sha256Hex } from '../util/hash.ts';
import type { CanaryRecord, CanarySetParameters } from './types.ts';

/** JSON with object keys sorted at every level: the same value always gives the same string. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The set id: sha256 over the canonical JSON of {parameters, canaries}. */
export function computeSetId(parameters: CanarySetParameters, canaries: readonly CanaryRecord[]): string {
  return sha256Hex(canonicalJson({ parameters, canaries }));
}

/** Opaque canary id from the seed and text only: reveals nothing of the group. */
export function canaryId(seed: string, text: string): string {
  return sha256Hex(`rote canary id\n${seed}\n${text}`).slice(0, 12);
}
