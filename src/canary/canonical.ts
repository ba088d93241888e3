import { sha256Hex } from '../util/hash.ts';
import { TOOL_VERSION } from '../util/version.ts';
import {
  CANARY_SET_FORMAT,
  type CanaryRecord,
  type CanarySet,
  type CanarySetParameters,
  type TrainingCanaryList,
} from './types.ts';

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

/**
 * The two documents of a canary set: the auditor's `canary-set.json` (every canary, its group, the parameters)
 * and `for-training/canaries.json` (the inserted canaries only, without their group sizes or the held-out ones).
 */
export function canarySetDocuments(
  parameters: CanarySetParameters,
  canaries: CanaryRecord[],
  sampleRate: number,
): { set: CanarySet; training: TrainingCanaryList } {
  const set: CanarySet = {
    format: CANARY_SET_FORMAT,
    tool: { name: 'rote', version: TOOL_VERSION },
    setId: computeSetId(parameters, canaries),
    parameters,
    canaries,
  };
  const training: TrainingCanaryList = {
    format: CANARY_SET_FORMAT,
    setId: set.setId,
    sampleRate,
    canaries: canaries
      .filter((c) => c.repetitions !== null)
      .map((c) => ({
        id: c.id,
        text: c.text,
        repetitions: c.repetitions!,
        audio: c.audio,
        durationSec: c.durationSec,
        sha256: c.sha256,
      })),
  };
  return { set, training };
}
