/**
 * The CTC base: a layout turns a padded batch into per-frame class scores and valid
 * output frames (CtcAdapter, on any number of model files: openCtcEngine); the base
 * applies log-softmax to logits, keeps each utterance's log-probs and decodes greedily.
 * Most layouts are one model file described declaratively (CtcLayout: createCtcEngine
 * checks the declared interface, feeds features, lengths and/or a mask, reads the
 * output and its lengths): nemo-ctc.ts, sherpa-nemo-ctc.ts, sidecar-ctc.ts. The
 * reference score (CTC forced log-likelihood) is computed from the log-probs by the caller.
 */
import { RoteError } from '../../util/errors.ts';
import { ctcGreedy, logSoftmaxRows } from '../ctc.ts';
import {
  attentionMask,
  declaredLengths,
  featureTensor,
  floatOutput,
  integerTensor,
  openEngine,
  type EngineSessions,
  type EngineSetup,
  type FeatureLayout,
  type ort,
} from '../engine.ts';
import { describeValueInfo, type OnnxFileFacts } from '../onnx-file.ts';
import type { RuntimeOptions } from '../runtime.ts';
import type { Engine, FeatureBatch, UtteranceOutput } from './types.ts';

export interface CtcLayout extends Omit<EngineSetup, 'modelFiles'> {
  modelFile: string;
  facts: OnnxFileFacts;
  featuresInput: string;
  /** 'BFT' = [batch, bins, frames] (NeMo); 'BTF' = [batch, frames, bins]; 'BT' = [batch, samples] (raw waveform). */
  layout: FeatureLayout;
  /** An integer input [batch] with each utterance's valid frames, or null. */
  lengthsInput: string | null;
  /** An integer input [batch, frames], 1 on valid frames (Hugging Face's attention_mask), or null/absent. */
  maskInput?: string | null;
  output: string;
  /** false: the output holds logits, and rote applies log-softmax. */
  outputIsLogProbs: boolean;
  /** 'probe': measured after loading by one run on PROBE_FRAMES zero frames (for exports that do not record it). */
  subsampling: number | 'probe';
  /**
   * Valid output frames from input frames: 'ceil' / 'floor' of T / subsampling (NeMo's stride-2
   * convolutions / sherpa-onnx), or any function (e.g. a convolution stack's lengths). An output
   * named in OUTPUT_LENGTH_NAMES takes precedence.
   */
  outputLengthRule: 'ceil' | 'floor' | ((inputFrames: number) => number);
  /** Overrides padSensitive (default: true when there is neither a lengths nor a mask input). */
  padSensitive?: boolean;
}

export const PROBE_FRAMES = 256;

/** Output names exports use for the valid output frames per utterance (NeMo, ESPnet/WeNet, icefall, others). */
export const OUTPUT_LENGTH_NAMES = [
  'encoded_lengths',
  'log_probs_len',
  'log_probs_lens',
  'encoder_out_lens',
  'out_lengths',
];

export function outputFrames(inputFrames: number, subsampling: number, rule: CtcLayout['outputLengthRule']): number {
  if (typeof rule === 'function') return rule(inputFrames);
  return rule === 'ceil' ? Math.ceil(inputFrames / subsampling) : Math.floor(inputFrames / subsampling);
}

function shapeText(dims: (number | string)[]): string {
  return `[${dims.join(', ')}]`;
}

function expectedFeatures(layout: FeatureLayout, numBins: number): string {
  if (layout === 'BT') return shapeText(['B', 'T']);
  return layout === 'BFT' ? shapeText(['B', numBins, 'T']) : shapeText(['B', 'T', numBins]);
}

function isInteger(elemType: number): boolean {
  return elemType === 0 || elemType === 6 || elemType === 7;
}

/** Checks the declared inputs/outputs against what rote will feed; errors name expected and actual shapes. */
function checkDeclaredInterface(layout: CtcLayout, numBins: number): void {
  const { facts } = layout;
  const mask = layout.maskInput ?? null;
  const expected = [
    `${layout.featuresInput} ${expectedFeatures(layout.layout, numBins)} float32`,
    ...(layout.lengthsInput ? [`${layout.lengthsInput} [B] int64 or int32`] : []),
    ...(mask ? [`${mask} [B, T] int64 or int32`] : []),
  ];
  const actual = facts.inputs.map(describeValueInfo).join(', ') || 'none declared';
  const mismatch = (why: string): never => {
    throw new RoteError(
      `${facts.path}: model input mismatch (${why}): rote feeds ${expected.join(' and ')}; the model declares ${actual}. Check the model family (rote inspect-model) or its rote-model.json`,
    );
  };
  const features = facts.inputs.find((i) => i.name === layout.featuresInput);
  if (!features) mismatch(`no input named "${layout.featuresInput}"`);
  if (features!.elemType !== 0 && features!.elemType !== 1) mismatch(`"${layout.featuresInput}" is not float32`);
  const rank = layout.layout === 'BT' ? 2 : 3;
  if (features!.shape) {
    if (features!.shape.length !== rank)
      mismatch(`"${layout.featuresInput}" has ${features!.shape.length} dimensions, not ${rank}`);
    if (layout.layout !== 'BT') {
      const bins = features!.shape[layout.layout === 'BFT' ? 1 : 2]!;
      const frames = features!.shape[layout.layout === 'BFT' ? 2 : 1]!;
      if (bins.value !== null && bins.value > 0 && bins.value !== numBins)
        mismatch(`the model wants ${bins.value} feature bins, the frontend makes ${numBins}`);
      if ((bins.value === null || bins.value <= 0) && frames.value !== null && frames.value > 0) {
        mismatch(
          `the frames axis is fixed at ${frames.value} and the bins axis is symbolic: the layout looks swapped (try "${layout.layout === 'BFT' ? 'BTF' : 'BFT'}")`,
        );
      }
    }
  }
  for (const name of [layout.lengthsInput, mask]) {
    if (!name) continue;
    const info = facts.inputs.find((i) => i.name === name);
    if (!info) mismatch(`no input named "${name}"`);
    if (!isInteger(info!.elemType)) mismatch(`"${name}" is not an integer tensor`);
  }
  const extra = facts.inputs.filter((i) => ![layout.featuresInput, layout.lengthsInput, mask].includes(i.name));
  if (extra.length > 0) mismatch(`unexpected inputs ${extra.map((i) => i.name).join(', ')}`);
  const output = facts.outputs.find((o) => o.name === layout.output);
  if (!output)
    throw new RoteError(
      `${facts.path}: no output named "${layout.output}"; the model declares ${facts.outputs.map(describeValueInfo).join(', ')}`,
    );
  const vocabDim = output.shape?.[2];
  if (vocabDim && vocabDim.value !== null && vocabDim.value > 0 && vocabDim.value !== layout.vocabulary.pieces.length) {
    throw new RoteError(
      `${facts.path}: the output "${layout.output}" has ${vocabDim.value} classes but ${layout.vocabulary.source} gives ${layout.vocabulary.pieces.length} tokens (blank included); use the tokens file that came with the model`,
    );
  }
}

/** What one batch gives the CTC base: class scores per output frame and each utterance's valid frames. */
export interface CtcScores {
  /** [n, outMax, classes] row-major (a view of the model's output: the base copies what it keeps). */
  values: Float32Array;
  outMax: number;
  classes: number;
  /** Valid output frames per utterance (at most outMax). */
  frames: number[];
  /** false: logits, to which the base applies log-softmax. */
  logProbs: boolean;
}

/** A CTC export layout on its open sessions: how a batch becomes class scores. */
export interface CtcAdapter {
  scores(batch: FeatureBatch): Promise<CtcScores>;
  subsampling: number;
  /** True when padding changes results (no lengths or mask input): batches of one. */
  padSensitive: boolean;
  /** Lines for the detection reasons (what probes found, where lengths come from). */
  because: string[];
}

/** The CTC base for any layout (several model files included): scores -> log-probs -> greedy tokens. */
export async function openCtcEngine(
  setup: EngineSetup,
  options: RuntimeOptions,
  open: (sessions: EngineSessions) => Promise<CtcAdapter>,
): Promise<Engine> {
  return openEngine(setup, options, async (sessions) => {
    const adapter = await open(sessions);
    const { vocabulary } = sessions;
    const vocabSize = vocabulary.pieces.length;
    async function run(batch: FeatureBatch): Promise<UtteranceOutput[]> {
      const scores = await adapter.scores(batch);
      if (scores.classes !== vocabSize)
        throw new RoteError(
          `${sessions.paths.join(', ')}: output has ${scores.classes} classes but the vocabulary has ${vocabSize} tokens (blank included)`,
        );
      return scores.frames.map((frames, b) => {
        const start = b * scores.outMax * vocabSize;
        const logProbs = scores.values.slice(start, start + frames * vocabSize);
        if (!scores.logProbs) logSoftmaxRows(logProbs, frames, vocabSize);
        return { tokenIds: ctcGreedy(logProbs, frames, vocabSize, vocabulary.blankId), logProbs, outFrames: frames };
      });
    }
    return {
      kind: 'ctc' as const,
      subsampling: adapter.subsampling,
      because: adapter.because,
      padSensitive: adapter.padSensitive,
      run,
    };
  });
}

/** A CTC layout that is one model file, described by a CtcLayout (NeMo CTC, sherpa-onnx NeMo CTC, sidecar). */
export async function createCtcEngine(layout: CtcLayout, options: RuntimeOptions): Promise<Engine> {
  const { modelFile, ...rest } = layout;
  return openCtcEngine({ ...rest, modelFiles: [modelFile] }, options, (sessions) => singleModel(layout, sessions));
}

async function singleModel(layout: CtcLayout, sessions: EngineSessions): Promise<CtcAdapter> {
  const { frontend, vocabulary } = sessions;
  checkDeclaredInterface(layout, frontend.numBins);
  const modelPath = sessions.paths[0]!;
  const inputs = layout.facts.inputs;
  const lengthsInfo = inputs.find((i) => i.name === layout.lengthsInput);
  const mask = layout.maskInput ?? null;
  const maskInfo = inputs.find((i) => i.name === mask);
  const vocabSize = vocabulary.pieces.length;
  const because: string[] = [];
  const lengthsOutput = OUTPUT_LENGTH_NAMES.find((name) => layout.facts.outputs.some((o) => o.name === name)) ?? null;
  if (lengthsOutput) because.push(`output frames per utterance from the model's ${lengthsOutput} output`);
  let subsampling = layout.subsampling === 'probe' ? 1 : layout.subsampling;

  async function scores(batch: FeatureBatch): Promise<CtcScores> {
    const n = batch.frames.length;
    const features = featureTensor(batch, layout.layout);
    const feeds: Record<string, ort.Tensor> = { [layout.featuresInput]: features };
    if (layout.lengthsInput) feeds[layout.lengthsInput] = integerTensor(lengthsInfo, batch.frames, [n]);
    if (mask) feeds[mask] = attentionMask(maskInfo, batch);
    const results = await sessions.run(
      0,
      feeds,
      () => `${layout.modelFile} given ${layout.featuresInput} [${features.dims.join(', ')}]`,
    );
    const output = floatOutput(results, layout.output, modelPath);
    if (output.dims.length !== 3 || output.dims[0] !== n) {
      throw new RoteError(
        `${modelPath}: output "${layout.output}" has shape [${output.dims.join(', ')}], expected [${n}, T', ${vocabSize}]`,
      );
    }
    const outMax = output.dims[1]!;
    const frames = lengthsOutput
      ? declaredLengths(results[lengthsOutput] as ort.Tensor, outMax)
      : batch.frames.map((f) => Math.max(0, Math.min(outMax, outputFrames(f, subsampling, layout.outputLengthRule))));
    return {
      values: output.data as Float32Array,
      outMax,
      classes: output.dims[2]!,
      frames,
      logProbs: layout.outputIsLogProbs,
    };
  }

  if (layout.subsampling === 'probe') {
    const numBins = frontend.numBins;
    const probe = await scores({
      features: new Float32Array(PROBE_FRAMES * numBins),
      frames: [PROBE_FRAMES],
      maxFrames: PROBE_FRAMES,
      numBins,
    });
    const outFrames = probe.frames[0]!;
    if (outFrames <= 0)
      throw new RoteError(
        `${modelPath}: the probe run (${PROBE_FRAMES} frames) returned no output frames; cannot infer the subsampling factor`,
      );
    subsampling = Math.round(PROBE_FRAMES / outFrames);
    because.push(`subsampling ${subsampling}: a probe run turned ${PROBE_FRAMES} input frames into ${outFrames}`);
  }
  return {
    scores,
    subsampling,
    padSensitive: layout.padSensitive ?? (layout.lengthsInput === null && mask === null),
    because,
  };
}
