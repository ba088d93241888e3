/**
 * The engine skeleton every model family runs on. It owns what all export layouts
 * share: the frontend, one ONNX Runtime session per model file on one provider (with
 * the provider fallback of runtime.ts), the run clock, the files' fingerprints (with
 * the files the .onnx files keep their weights in, ONNX external data), the
 * model info, and the tensor conventions (integer inputs as the model declares them,
 * feature layouts, encoder outputs turned frame-major). A decoding base (CTC in
 * families/ctc-engine.ts, transducers in families/transducer-engine.ts) builds the
 * `Decoding` from a layout adapter once the sessions exist; see DEVELOPERS.md,
 * "Adding a model family".
 */
import { join } from 'node:path';
import { createFrontend, type Frontend, type FrontendSpec } from '../audio/index.ts';
import { RoteError } from '../util/errors.ts';
import { sha256File } from '../util/hash.ts';
import { externalDataPaths } from './external-data.ts';
import { readOnnxFile, type OnnxValueInfo } from './onnx-file.ts';
import { createSessions, ort, RunClock, type RuntimeOptions } from './runtime.ts';
import type { Vocabulary } from './vocabulary.ts';
import type { Engine, FamilyName, FeatureBatch, ModelInfo, UtteranceOutput } from './families/types.ts';
import type { HeadChoice } from './options.ts';

/** What a family's loader found in the directory: everything the skeleton needs before any session exists. */
export interface EngineSetup {
  family: FamilyName;
  dir: string;
  /** ONNX files, in the order the decoding wants their sessions. */
  modelFiles: string[];
  /** Other files that define the model (vocabulary, configs, sidecar): fingerprinted with the models. */
  otherFiles: string[];
  frontend: FrontendSpec;
  vocabulary: Vocabulary;
  detectedBecause: string[];
  /** The family's own text for greedy ids (Hugging Face's tokenizer rules); default detokenize(). */
  transcript?: (ids: number[]) => string;
}

/** The open sessions, as a decoding sees them. */
export interface EngineSessions {
  frontend: Frontend;
  vocabulary: Vocabulary;
  /** Full paths of the model files (order of EngineSetup.modelFiles). */
  paths: string[];
  /** Runs session `index`, timed on the engine's clock; a failure is a RoteError with describe() in it. */
  run(
    index: number,
    feeds: Record<string, ort.Tensor>,
    describe: () => string,
  ): Promise<ort.InferenceSession.OnnxValueMapType>;
}

/** What a decoding base gives the skeleton: how to run a batch, and what it learned while opening (probes). */
export interface Decoding {
  /** Which decoding base: a CTC head, a transducer, or an attention encoder-decoder. */
  kind: HeadChoice | 'encoder-decoder';
  subsampling: number;
  /** Lines added to the detection reasons (what probes found, the search used, the score). */
  because: string[];
  decoder?: ModelInfo['decoder'];
  /** True when padding changes results (no lengths or mask input): batches of one. */
  padSensitive?: boolean;
  run(batch: FeatureBatch, targets?: (number[] | null)[]): Promise<UtteranceOutput[]>;
}

/**
 * Opens the sessions (and fingerprints the files meanwhile), lets `open` build the
 * decoding (probe runs included; their time is not counted), and returns the Engine.
 * Sessions are released when `open` fails.
 */
export async function openEngine(
  setup: EngineSetup,
  options: RuntimeOptions,
  open: (sessions: EngineSessions) => Promise<Decoding>,
): Promise<Engine> {
  const frontend = createFrontend(setup.frontend);
  const paths = setup.modelFiles.map((name) => join(setup.dir, name));
  // Weights kept outside the .onnx files (external data) are part of the model: checked before ONNX Runtime
  // reads them (it finds them beside each file, as sessions are created from paths) and fingerprinted.
  const dataPaths = await Promise.all(paths.map(async (path) => externalDataPaths(await readOnnxFile(path))));
  const fingerprinted = new Set([
    ...paths,
    ...dataPaths.flat(),
    ...setup.otherFiles.map((name) => join(setup.dir, name)),
  ]);
  const fingerprints = Promise.all([...fingerprinted].map(async (path) => ({ path, sha256: await sha256File(path) })));
  fingerprints.catch(() => undefined); // awaited below, after the sessions
  const { sessions, report } = await createSessions(paths, options);
  const release = async (): Promise<void> => {
    await Promise.all(sessions.map((s) => s.release()));
  };
  const clock = new RunClock();
  let decoding: Decoding;
  let files: ModelInfo['files'];
  try {
    decoding = await open({
      frontend,
      vocabulary: setup.vocabulary,
      paths,
      run: (index, feeds, describe) => clock.run(sessions[index]!, feeds, describe),
    });
    files = await fingerprints;
  } catch (error) {
    await release();
    throw error;
  }
  clock.runMs = 0;
  clock.runs = 0;
  const { vocabulary } = setup;
  return {
    info: {
      family: setup.family,
      isCtc: decoding.kind === 'ctc',
      dir: setup.dir,
      files,
      frontend: setup.frontend,
      vocabulary: { size: vocabulary.pieces.length, blankId: vocabulary.blankId, kind: vocabulary.kind },
      subsampling: decoding.subsampling,
      detectedBecause: [...setup.detectedBecause, ...decoding.because],
      ...(decoding.decoder ? { decoder: decoding.decoder } : {}),
    },
    provider: report,
    frontend,
    vocabulary,
    clock,
    ...(decoding.padSensitive ? { padSensitive: true } : {}),
    ...(setup.transcript ? { transcript: setup.transcript } : {}),
    run: (batch, targets) => decoding.run(batch, targets),
    close: release,
  };
}

/** The size of a declared axis when the export fixes it, else null. */
export function fixedDim(info: OnnxValueInfo | undefined, axis: number): number | null {
  const dim = info?.shape?.[axis];
  return dim && dim.value !== null && dim.value > 0 ? dim.value : null;
}

/**
 * An integer input as the model declares it: int32 (ONNX elem type 6) or int64 (7);
 * `otherwise` when the export does not say (NeMo's targets are int32, lengths int64).
 */
export function integerTensor(
  info: OnnxValueInfo | undefined,
  values: ArrayLike<number>,
  dims: number[],
  otherwise: 'int32' | 'int64' = 'int64',
): ort.Tensor {
  const type = info?.elemType === 6 ? 'int32' : info?.elemType === 7 ? 'int64' : otherwise;
  if (type === 'int32') return new ort.Tensor('int32', Int32Array.from(values), dims);
  return new ort.Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims);
}

/**
 * How a model takes its features: 'BTF' [batch, frames, bins] (icefall, Kaldi-style),
 * 'BFT' [batch, bins, frames] (NeMo), 'BT' [batch, samples] (raw waveform, one "bin").
 */
export type FeatureLayout = 'BTF' | 'BFT' | 'BT';

/** The padded batch as one float32 tensor in the model's layout (no copy for BTF and BT). */
export function featureTensor(batch: FeatureBatch, layout: FeatureLayout): ort.Tensor {
  const n = batch.frames.length;
  const { maxFrames, numBins } = batch;
  if (layout === 'BTF') return new ort.Tensor('float32', batch.features, [n, maxFrames, numBins]);
  if (layout === 'BT') {
    if (numBins !== 1) throw new RangeError(`a waveform input takes 1 value per frame, the batch has ${numBins}`);
    return new ort.Tensor('float32', batch.features, [n, maxFrames]);
  }
  const data = new Float32Array(n * numBins * maxFrames);
  for (let b = 0; b < n; b++) {
    const base = b * maxFrames * numBins;
    for (let t = 0; t < batch.frames[b]!; t++) {
      for (let f = 0; f < numBins; f++) data[base + f * maxFrames + t] = batch.features[base + t * numBins + f]!;
    }
  }
  return new ort.Tensor('float32', data, [n, numBins, maxFrames]);
}

/** An attention mask [batch, frames]: 1 for the valid frames of each utterance, 0 for padding. */
export function attentionMask(info: OnnxValueInfo | undefined, batch: FeatureBatch): ort.Tensor {
  const n = batch.frames.length;
  const dims = [n, batch.maxFrames];
  // Filled in its own type: a waveform mask has ~10^5 entries per utterance, and converting
  // each through a BigInt (integerTensor) cost ~100 ms per batch (scripts/bench/RESULTS.md, hf-ctc).
  if (info?.elemType === 6) {
    const mask = new Int32Array(n * batch.maxFrames);
    batch.frames.forEach((frames, b) => mask.fill(1, b * batch.maxFrames, b * batch.maxFrames + frames));
    return new ort.Tensor('int32', mask, dims);
  }
  const mask = new BigInt64Array(n * batch.maxFrames);
  batch.frames.forEach((frames, b) => mask.fill(1n, b * batch.maxFrames, b * batch.maxFrames + frames));
  return new ort.Tensor('int64', mask, dims);
}

/** Encoder outputs per utterance, frame-major: [n, maxOut, dim], with the valid frames of each. */
export interface EncoderOutput {
  data: Float32Array;
  lengths: number[];
  maxOut: number;
  dim: number;
}

/** [n, D, T] (NeMo's encoder outputs) -> [n, T, D] frame-major. */
export function frameMajor(bdt: Float32Array, n: number, dim: number, frames: number): Float32Array {
  const data = new Float32Array(n * frames * dim);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < dim; k++)
      for (let t = 0; t < frames; t++) data[(b * frames + t) * dim + k] = bdt[(b * dim + k) * frames + t]!;
  return data;
}

/** Integer lengths an output declares per utterance, clamped to [0, max]. */
export function declaredLengths(tensor: ort.Tensor | undefined, max: number): number[] {
  if (!tensor) throw new RoteError('the model did not return its lengths output');
  return Array.from(tensor.data as ArrayLike<number | bigint>, (v) => Math.max(0, Math.min(Number(v), max)));
}

/** A float32 output by name, or a RoteError naming the file and what it returned. */
export function floatOutput(results: ort.InferenceSession.OnnxValueMapType, name: string, path: string): ort.Tensor {
  const tensor = results[name] as ort.Tensor | undefined;
  if (!tensor || tensor.type !== 'float32')
    throw new RoteError(
      `${path}: output "${name}" is ${tensor ? `${tensor.type} [${tensor.dims.join(', ')}]` : 'missing'}; expected float32`,
    );
  return tensor;
}

export { ort };
