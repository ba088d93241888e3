/**
 * One CTC engine shared by the CTC families: they differ only in how a
 * directory describes the model (CtcModelConfig), not in how it runs.
 */
import { join } from 'node:path';
import { createFrontend, type FrontendSpec } from '../../audio/index.ts';
import { sha256File } from '../../util/hash.ts';
import { RoteError } from '../../util/errors.ts';
import { ctcGreedy, logSoftmaxRows } from '../ctc.ts';
import { describeValueInfo, type OnnxFileFacts } from '../onnx-file.ts';
import { createSessions, ort, RunClock, type RuntimeOptions } from '../runtime.ts';
import type { Vocabulary } from '../vocabulary.ts';
import type { Engine, FamilyName, FeatureBatch, UtteranceOutput } from './types.ts';

export interface CtcModelConfig {
  family: FamilyName;
  dir: string;
  modelFile: string;
  facts: OnnxFileFacts;
  /** Extra files to fingerprint (vocabulary, sidecar). */
  otherFiles: string[];
  featuresInput: string;
  /** 'BFT' = [batch, bins, frames] (NeMo); 'BTF' = [batch, frames, bins]. */
  layout: 'BFT' | 'BTF';
  lengthsInput: string | null;
  output: string;
  outputIsLogProbs: boolean;
  frontend: FrontendSpec;
  vocabulary: Vocabulary;
  /** 'probe': measured after loading by one run on PROBE_FRAMES zero frames (for exports that do not record it). */
  subsampling: number | 'probe';
  /** Valid output frames from input frames: 'ceil' (NeMo's stride-2 convolutions) or 'floor' (sherpa-onnx). */
  outputLengthRule: 'ceil' | 'floor';
  detectedBecause: string[];
}

export const PROBE_FRAMES = 256;

/** Output names exports use for the valid output frames per utterance (NeMo, ESPnet/WeNet, icefall, others). */
export const OUTPUT_LENGTH_NAMES = ['encoded_lengths', 'log_probs_len', 'encoder_out_lens', 'out_lengths'];

export function outputFrames(inputFrames: number, subsampling: number, rule: 'ceil' | 'floor'): number {
  return rule === 'ceil' ? Math.ceil(inputFrames / subsampling) : Math.floor(inputFrames / subsampling);
}

function shapeText(dims: (number | string)[]): string {
  return `[${dims.join(', ')}]`;
}

/** Checks the declared inputs/outputs against what rote will feed; errors name expected and actual shapes. */
function checkDeclaredInterface(config: CtcModelConfig, numBins: number): void {
  const { facts } = config;
  const expected = [
    `${config.featuresInput} ${config.layout === 'BFT' ? shapeText(['B', numBins, 'T']) : shapeText(['B', 'T', numBins])} float32`,
    ...(config.lengthsInput ? [`${config.lengthsInput} [B] int64 or int32`] : []),
  ];
  const actual = facts.inputs.map(describeValueInfo).join(', ') || 'none declared';
  const mismatch = (why: string): never => {
    throw new RoteError(
      `${facts.path}: model input mismatch (${why}): rote feeds ${expected.join(' and ')}; the model declares ${actual}. Check the model family (rote inspect-model) or its rote-model.json`,
    );
  };
  const features = facts.inputs.find((i) => i.name === config.featuresInput);
  if (!features) mismatch(`no input named "${config.featuresInput}"`);
  if (features!.elemType !== 0 && features!.elemType !== 1) mismatch(`"${config.featuresInput}" is not float32`);
  if (features!.shape) {
    if (features!.shape.length !== 3)
      mismatch(`"${config.featuresInput}" has ${features!.shape.length} dimensions, not 3`);
    const bins = features!.shape[config.layout === 'BFT' ? 1 : 2]!;
    const frames = features!.shape[config.layout === 'BFT' ? 2 : 1]!;
    if (bins.value !== null && bins.value > 0 && bins.value !== numBins)
      mismatch(`the model wants ${bins.value} feature bins, the frontend makes ${numBins}`);
    if ((bins.value === null || bins.value <= 0) && frames.value !== null && frames.value > 0) {
      mismatch(
        `the frames axis is fixed at ${frames.value} and the bins axis is symbolic: the layout looks swapped (try "${config.layout === 'BFT' ? 'BTF' : 'BFT'}")`,
      );
    }
  }
  if (config.lengthsInput) {
    const lengths = facts.inputs.find((i) => i.name === config.lengthsInput);
    if (!lengths) mismatch(`no input named "${config.lengthsInput}"`);
    if (lengths!.elemType !== 0 && lengths!.elemType !== 6 && lengths!.elemType !== 7)
      mismatch(`"${config.lengthsInput}" is not an integer tensor`);
  }
  const extra = facts.inputs.filter((i) => i.name !== config.featuresInput && i.name !== config.lengthsInput);
  if (extra.length > 0) mismatch(`unexpected inputs ${extra.map((i) => i.name).join(', ')}`);
  const output = facts.outputs.find((o) => o.name === config.output);
  if (!output)
    throw new RoteError(
      `${facts.path}: no output named "${config.output}"; the model declares ${facts.outputs.map(describeValueInfo).join(', ')}`,
    );
  const vocabDim = output.shape?.[2];
  if (vocabDim && vocabDim.value !== null && vocabDim.value > 0 && vocabDim.value !== config.vocabulary.pieces.length) {
    throw new RoteError(
      `${facts.path}: the output "${config.output}" has ${vocabDim.value} classes but ${config.vocabulary.source} gives ${config.vocabulary.pieces.length} tokens (blank included); use the tokens file that came with the model`,
    );
  }
}

export async function createCtcEngine(config: CtcModelConfig, options: RuntimeOptions): Promise<Engine> {
  const frontend = createFrontend(config.frontend);
  checkDeclaredInterface(config, frontend.numBins);
  const modelPath = join(config.dir, config.modelFile);
  const { sessions, report } = await createSessions([modelPath], options);
  const session = sessions[0]!;
  const clock = new RunClock();
  const lengthsType =
    config.facts.inputs.find((i) => i.name === config.lengthsInput)?.elemType === 6 ? 'int32' : 'int64';
  const vocabSize = config.vocabulary.pieces.length;
  const files = await Promise.all(
    [config.modelFile, ...config.otherFiles].map(async (name) => ({
      path: join(config.dir, name),
      sha256: await sha256File(join(config.dir, name)),
    })),
  );

  let subsampling = config.subsampling === 'probe' ? 1 : config.subsampling;
  const detectedBecause = [...config.detectedBecause];
  const lengthsOutput = OUTPUT_LENGTH_NAMES.find((name) => config.facts.outputs.some((o) => o.name === name)) ?? null;
  if (lengthsOutput) detectedBecause.push(`output frames per utterance from the model's ${lengthsOutput} output`);

  async function run(batch: FeatureBatch): Promise<UtteranceOutput[]> {
    const n = batch.frames.length;
    const { maxFrames, numBins } = batch;
    let data = batch.features;
    let dims = [n, maxFrames, numBins];
    if (config.layout === 'BFT') {
      data = new Float32Array(n * numBins * maxFrames);
      for (let b = 0; b < n; b++) {
        const base = b * maxFrames * numBins;
        for (let t = 0; t < batch.frames[b]!; t++) {
          for (let f = 0; f < numBins; f++) data[base + f * maxFrames + t] = batch.features[base + t * numBins + f]!;
        }
      }
      dims = [n, numBins, maxFrames];
    }
    const feeds: Record<string, ort.Tensor> = { [config.featuresInput]: new ort.Tensor('float32', data, dims) };
    if (config.lengthsInput) {
      feeds[config.lengthsInput] =
        lengthsType === 'int32'
          ? new ort.Tensor('int32', Int32Array.from(batch.frames), [n])
          : new ort.Tensor('int64', BigInt64Array.from(batch.frames.map((f) => BigInt(f))), [n]);
    }
    const results = await clock.run(
      session,
      feeds,
      () => `${config.modelFile} given ${config.featuresInput} [${dims.join(', ')}]`,
    );
    const output = results[config.output] as ort.Tensor | undefined;
    if (!output || output.dims.length !== 3 || output.dims[0] !== n) {
      throw new RoteError(
        `${modelPath}: output "${config.output}" has shape [${output?.dims.join(', ') ?? 'missing'}], expected [${n}, T', ${vocabSize}]`,
      );
    }
    const outMax = output.dims[1]!;
    const classes = output.dims[2]!;
    if (classes !== vocabSize)
      throw new RoteError(
        `${modelPath}: output has ${classes} classes but the vocabulary has ${vocabSize} tokens (blank included)`,
      );
    const values = output.data as Float32Array;
    const declared = lengthsOutput
      ? Array.from(results[lengthsOutput]!.data as BigInt64Array | Int32Array, Number)
      : null;
    const outputs: UtteranceOutput[] = [];
    for (let b = 0; b < n; b++) {
      const frames = Math.max(
        0,
        Math.min(
          outMax,
          declared ? declared[b]! : outputFrames(batch.frames[b]!, subsampling, config.outputLengthRule),
        ),
      );
      const logProbs = values.slice(b * outMax * vocabSize, (b * outMax + frames) * vocabSize);
      if (!config.outputIsLogProbs) logSoftmaxRows(logProbs, frames, vocabSize);
      outputs.push({
        tokenIds: ctcGreedy(logProbs, frames, vocabSize, config.vocabulary.blankId),
        logProbs,
        outFrames: frames,
      });
    }
    return outputs;
  }

  if (config.subsampling === 'probe') {
    const numBins = frontend.numBins;
    try {
      const [probe] = await run({
        features: new Float32Array(PROBE_FRAMES * numBins),
        frames: [PROBE_FRAMES],
        maxFrames: PROBE_FRAMES,
        numBins,
      });
      if (!probe || probe.outFrames <= 0)
        throw new RoteError(
          `${modelPath}: the probe run (${PROBE_FRAMES} frames) returned no output frames; cannot infer the subsampling factor`,
        );
      subsampling = Math.round(PROBE_FRAMES / probe.outFrames);
      detectedBecause.push(
        `subsampling ${subsampling}: a probe run turned ${PROBE_FRAMES} input frames into ${probe.outFrames}`,
      );
    } catch (error) {
      await session.release();
      throw error;
    }
    clock.runMs = 0;
    clock.runs = 0;
  }

  return {
    info: {
      family: config.family,
      isCtc: true,
      dir: config.dir,
      files,
      frontend: config.frontend,
      vocabulary: { size: vocabSize, blankId: config.vocabulary.blankId, kind: config.vocabulary.kind },
      subsampling,
      detectedBecause,
    },
    provider: report,
    frontend,
    vocabulary: config.vocabulary,
    clock,
    padSensitive: config.lengthsInput === null,
    run,
    close: () => session.release(),
  };
}
