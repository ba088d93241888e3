/** Helpers shared by the family detectors (pure, on DirectoryFacts). */
import type { OnnxFileFacts } from '../onnx-file.ts';
import type { DirectoryFacts } from './types.ts';

export const SIDECAR_NAME = 'rote-model.json';

/** The preferred file among candidates: full precision before int8/fp16 variants, then by name. */
export function preferFullPrecision(names: string[]): string | undefined {
  const rank = (name: string): number => (/\.(int8|fp16|uint8|q8)\.onnx$/i.test(name) ? 1 : 0);
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))[0];
}

export function onnxWhere(facts: DirectoryFacts, test: (f: OnnxFileFacts, name: string) => boolean): string[] {
  return [...facts.onnx.entries()].filter(([name, f]) => test(f, name)).map(([name]) => name);
}

export function hasInputs(f: OnnxFileFacts, names: string[]): boolean {
  return names.every((n) => f.inputs.some((i) => i.name === n));
}

export function hasOutputs(f: OnnxFileFacts, names: string[]): boolean {
  return names.every((n) => f.outputs.some((o) => o.name === n));
}

export function positiveIntegerMetadata(f: OnnxFileFacts, key: string): number | null {
  const raw = f.metadata[key];
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return null;
  const value = Number(raw);
  return value > 0 ? value : null;
}
