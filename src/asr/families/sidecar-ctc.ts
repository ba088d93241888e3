/**
 * Any CTC model described by a `rote-model.json` sidecar next to it. Example:
 *
 *   {
 *     "format": 1,
 *     "family": "ctc",
 *     "model": "model.onnx",
 *     "inputs": { "features": "feats", "lengths": "feats_len", "layout": "BTF" },
 *     "output": "log_probs",
 *     "outputIsLogProbs": true,
 *     "frontend": { "type": "kaldi-fbank", "numBins": 80 },
 *     "vocabulary": { "file": "chars.txt", "kind": "characters" },
 *     "blankId": 0,
 *     "subsampling": 4,
 *     "outputLengthRule": "ceil"
 *   }
 *
 * inputs.lengths may be null (model without a lengths input); layout "BTF" is
 * [batch, frames, bins], "BFT" [batch, bins, frames]; output defaults to the first
 * output; outputIsLogProbs false applies log-softmax; frontend is any rote
 * FrontendSpec (kaldi-fbank, nemo-mel, sherpa-nemo-mel with their options);
 * vocabulary.kind overrides detection; outputLengthRule "ceil" | "floor" turns
 * input frames into valid output frames with `subsampling`.
 */
import { join } from 'node:path';
import { FRONTEND_TYPES, type FrontendSpec } from '../../audio/index.ts';
import { RoteError } from '../../util/errors.ts';
import { loadVocabulary } from '../vocabulary.ts';
import { createCtcEngine } from './ctc-engine.ts';
import { MAX_MEL_BINS, SIDECAR_NAME } from './common.ts';
import type { DirectoryFacts, Detection, FamilyDefinition } from './types.ts';

export interface SidecarSpec {
  format: 1;
  family: 'ctc';
  model: string;
  inputs: { features: string; lengths: string | null; layout: 'BTF' | 'BFT' };
  output: string | null;
  outputIsLogProbs: boolean;
  frontend: FrontendSpec;
  vocabulary: { file: string; kind: 'sentencepiece' | 'characters' | null };
  blankId: number;
  subsampling: number;
  outputLengthRule: 'ceil' | 'floor';
}

/** Validates a parsed rote-model.json; errors name the field and what to write. Pure. */
export function parseSidecar(value: unknown, source: string): SidecarSpec {
  const fail = (field: string, expected: string, got?: unknown): never => {
    throw new RoteError(
      `${source}: field "${field}" ${got === undefined ? 'is missing' : `is ${JSON.stringify(got)}`}; expected ${expected}`,
    );
  };
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new RoteError(`${source}: must be a JSON object (see rote inspect-model --help for an example)`);
  const v = value as Record<string, unknown>;
  if (v.format !== 1) fail('format', '1', v.format);
  if (v.family !== 'ctc') fail('family', '"ctc" (the only sidecar family so far)', v.family);
  if (typeof v.model !== 'string' || !v.model) fail('model', 'the ONNX file name, e.g. "model.onnx"', v.model);
  const inputs = v.inputs as Record<string, unknown> | undefined;
  if (!inputs || typeof inputs !== 'object')
    fail('inputs', '{ "features": NAME, "lengths": NAME or null, "layout": "BTF" or "BFT" }', v.inputs);
  if (typeof inputs!.features !== 'string') fail('inputs.features', 'the name of the features input', inputs!.features);
  if (inputs!.lengths !== undefined && inputs!.lengths !== null && typeof inputs!.lengths !== 'string')
    fail('inputs.lengths', 'the name of the lengths input, or null', inputs!.lengths);
  const layout = inputs!.layout ?? 'BTF';
  if (layout !== 'BTF' && layout !== 'BFT')
    fail('inputs.layout', '"BTF" ([batch, frames, bins]) or "BFT" ([batch, bins, frames])', layout);
  if (v.output !== undefined && v.output !== null && typeof v.output !== 'string')
    fail('output', 'the name of the log-probs output', v.output);
  if (v.outputIsLogProbs !== undefined && typeof v.outputIsLogProbs !== 'boolean')
    fail('outputIsLogProbs', 'true or false', v.outputIsLogProbs);
  const frontend = v.frontend as { type?: unknown } | undefined;
  if (
    !frontend ||
    typeof frontend !== 'object' ||
    !FRONTEND_TYPES.includes(frontend.type as (typeof FRONTEND_TYPES)[number])
  ) {
    fail(
      'frontend',
      `an object with "type" one of ${FRONTEND_TYPES.join(', ')} and that frontend's options`,
      v.frontend,
    );
  }
  checkFrontendBounds(frontend as Record<string, unknown>, fail);
  const vocabulary = v.vocabulary as Record<string, unknown> | undefined;
  if (!vocabulary || typeof vocabulary.file !== 'string')
    fail('vocabulary', '{ "file": "tokens.txt", "kind": "characters" or "sentencepiece" (optional) }', v.vocabulary);
  const kind = vocabulary!.kind ?? null;
  if (kind !== null && kind !== 'characters' && kind !== 'sentencepiece')
    fail('vocabulary.kind', '"characters" or "sentencepiece"', kind);
  if (!Number.isInteger(v.blankId) || (v.blankId as number) < 0 || (v.blankId as number) > MAX_TOKEN_ID)
    fail('blankId', `the blank token id (an integer from 0 to ${MAX_TOKEN_ID})`, v.blankId);
  if (!Number.isInteger(v.subsampling) || (v.subsampling as number) < 1 || (v.subsampling as number) > MAX_SUBSAMPLING)
    fail(
      'subsampling',
      `the encoder subsampling factor (e.g. 4 or 8; an integer from 1 to ${MAX_SUBSAMPLING})`,
      v.subsampling,
    );
  const rule = v.outputLengthRule ?? 'ceil';
  if (rule !== 'ceil' && rule !== 'floor') fail('outputLengthRule', '"ceil" or "floor"', rule);
  return {
    format: 1,
    family: 'ctc',
    model: v.model as string,
    inputs: {
      features: inputs!.features as string,
      lengths: (inputs!.lengths as string | null | undefined) ?? null,
      layout: layout as 'BTF' | 'BFT',
    },
    output: (v.output as string | null | undefined) ?? null,
    outputIsLogProbs: (v.outputIsLogProbs as boolean | undefined) ?? true,
    frontend: v.frontend as FrontendSpec,
    vocabulary: { file: vocabulary!.file as string, kind: kind as SidecarSpec['vocabulary']['kind'] },
    blankId: v.blankId as number,
    subsampling: v.subsampling as number,
    outputLengthRule: rule as 'ceil' | 'floor',
  };
}

/** Largest token id a sidecar may name (vocabularies of real models hold at most tens of thousands). */
const MAX_TOKEN_ID = 1_000_000;
/** Largest encoder subsampling factor (real models: 2 to 16). */
const MAX_SUBSAMPLING = 1024;

/**
 * Upper bounds of the frontend's sizes: the frontend allocates mel banks, windows and FFT tables from them
 * when the model loads (numBins 1e8 asked for 7 GB). Lower bounds and the other options are the frontend's
 * own checks (src/audio/features/types.ts). Sizes of real models: 64-128 bins, 8-48 kHz, 25 ms frames.
 */
const FRONTEND_BOUNDS: Record<string, { max: number; what: string }> = {
  numBins: { max: MAX_MEL_BINS, what: 'mel bins' },
  sampleRate: { max: 192_000, what: 'Hz' },
  frameLengthMs: { max: 1000, what: 'ms' },
  frameShiftMs: { max: 1000, what: 'ms' },
  nFft: { max: 65_536, what: 'FFT points' },
  windowLength: { max: 65_536, what: 'samples' },
  hopLength: { max: 65_536, what: 'samples' },
};

function checkFrontendBounds(
  frontend: Record<string, unknown>,
  fail: (field: string, expected: string, got?: unknown) => never,
): void {
  for (const [key, { max, what }] of Object.entries(FRONTEND_BOUNDS)) {
    const value = frontend[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max)
      fail(`frontend.${key}`, `a positive number of ${what} up to ${max}`, value);
  }
}

export const sidecarCtc: FamilyDefinition = {
  name: 'sidecar-ctc',
  summary: `any CTC model described by ${SIDECAR_NAME} (input names and layout, frontend, vocabulary, blank id, subsampling)`,
  detect(facts: DirectoryFacts): Detection {
    if (!facts.sidecar) return { ok: false, missing: [`${SIDECAR_NAME}`] };
    const spec = parseSidecar(facts.sidecar.value, facts.sidecar.path);
    const missing = [spec.model, spec.vocabulary.file]
      .filter((name) => !facts.files.includes(name))
      .map((name) => `${name} (named in ${SIDECAR_NAME})`);
    if (missing.length > 0)
      throw new RoteError(`${facts.sidecar.path}: names files that are not in ${facts.dir}: ${missing.join(', ')}`);
    return {
      ok: true,
      because: [
        `${SIDECAR_NAME} present: family ctc, model ${spec.model}, frontend ${spec.frontend.type}, vocabulary ${spec.vocabulary.file}, blank ${spec.blankId}`,
      ],
    };
  },
  async load(facts, because, options) {
    const spec = parseSidecar(facts.sidecar!.value, facts.sidecar!.path);
    const f = facts.onnx.get(spec.model);
    if (!f)
      throw new RoteError(
        `${facts.sidecar!.path}: "model" names ${spec.model}, which is not a readable .onnx file in ${facts.dir}`,
      );
    const vocabulary = await loadVocabulary(join(facts.dir, spec.vocabulary.file), spec.blankId);
    if (spec.vocabulary.kind && spec.vocabulary.kind !== vocabulary.kind) {
      vocabulary.kind = spec.vocabulary.kind;
      if (vocabulary.kind === 'characters')
        vocabulary.separatorId =
          ['<space>', '\u2581', '|', ' '].map((s) => vocabulary.pieces.indexOf(s)).find((id) => id >= 0) ?? null;
    }
    const output = spec.output ?? f.outputs[0]?.name;
    if (!output) throw new RoteError(`${f.path}: the model declares no outputs`);
    return createCtcEngine(
      {
        family: 'sidecar-ctc',
        dir: facts.dir,
        modelFile: spec.model,
        facts: f,
        otherFiles: [spec.vocabulary.file, 'rote-model.json'],
        featuresInput: spec.inputs.features,
        layout: spec.inputs.layout,
        lengthsInput: spec.inputs.lengths,
        output,
        outputIsLogProbs: spec.outputIsLogProbs,
        frontend: spec.frontend,
        vocabulary,
        subsampling: spec.subsampling,
        outputLengthRule: spec.outputLengthRule,
        detectedBecause: because,
      },
      options,
    );
  },
};
