/** Helpers shared by the family detectors (pure, on DirectoryFacts). */
import { RoteError } from '../../util/errors.ts';
import { describeValueInfo, type OnnxFileFacts } from '../onnx-file.ts';
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

/** .onnx files whose metadata model_type is `modelType` and that take `inputs` (sherpa-onnx / icefall exports). */
export function metadataModels(facts: DirectoryFacts, modelType: string, inputs: string[]): string[] {
  return onnxWhere(facts, (f) => f.metadata.model_type === modelType && hasInputs(f, inputs));
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

/** The most mel bins a model may ask for (frontends allocate their mel banks from it; real models: 64 to 128). */
export const MAX_MEL_BINS = 1024;

/**
 * Mel bins the model wants: the fixed size of its features input's bin axis, else the
 * sherpa-onnx metadata feat_dim; a RoteError when they disagree or neither exists.
 */
export function modelMelBins(f: OnnxFileFacts, input: string, axis: number): { numBins: number; because: string } {
  const info = f.inputs.find((i) => i.name === input);
  const dim = info?.shape?.[axis];
  const declared = dim && dim.value !== null && dim.value > 0 ? dim.value : null;
  const metadata = positiveIntegerMetadata(f, 'feat_dim');
  if (declared !== null && metadata !== null && declared !== metadata) {
    throw new RoteError(
      `${f.path}: metadata feat_dim=${metadata} but the input ${describeValueInfo(info!)} declares ${declared} feature bins; fix the metadata`,
    );
  }
  const bins = declared ?? metadata;
  if (bins !== null && bins > MAX_MEL_BINS)
    throw new RoteError(
      `${f.path}: ${declared !== null ? `the input ${describeValueInfo(info!)} declares` : 'metadata feat_dim asks for'} ${bins} feature bins, more than the ${MAX_MEL_BINS} any frontend computes (real models: 64 to 128); fix the model`,
    );
  if (declared !== null) return { numBins: declared, because: `${declared} mel bins (declared ${input} shape)` };
  if (metadata !== null) return { numBins: metadata, because: `${metadata} mel bins (metadata feat_dim)` };
  throw new RoteError(
    `${f.path}: the number of mel bins is unknown: the input ${info ? describeValueInfo(info) : input} does not fix its feature axis and there is no feat_dim metadata. ` +
      'Re-export with a fixed feature axis, add feat_dim metadata (e.g. with onnx in Python), or describe the model in rote-model.json',
  );
}
