/**
 * An icefall / sherpa-onnx transducer directory: encoder*.onnx (x [N, T, 80] +
 * x_lens -> encoder_out, encoder_out_lens), decoder*.onnx (y [N, context_size]
 * -> decoder_out; metadata vocab_size and context_size), joiner*.onnx
 * (encoder_out, decoder_out -> logit) and tokens.txt (blank <blk>, usually 0).
 * Features: Kaldi fbank with icefall / lhotse / sherpa-onnx defaults. The stateless
 * decoder runs in the transducer base's search as statelessNetwork (transducer-greedy.ts)
 * wraps it, its context as the "state"; at most 1 symbol per frame and <unk> read as
 * blank, as sherpa-onnx's offline greedy search.
 */
import { join } from 'node:path';
import type { FrontendSpec } from '../../audio/index.ts';
import { RoteError } from '../../util/errors.ts';
import {
  declaredLengths,
  featureTensor,
  fixedDim,
  floatOutput,
  integerTensor,
  ort,
  type EngineSessions,
} from '../engine.ts';
import { describeValueInfo, type OnnxFileFacts } from '../onnx-file.ts';
import { statelessNetwork } from '../transducer-greedy.ts';
import { loadVocabulary } from '../vocabulary.ts';
import { onnxWhere, positiveIntegerMetadata, preferFullPrecision, SIDECAR_NAME } from './common.ts';
import { createTransducerEngine, LATTICE_VALUES_PER_CALL, type TransducerAdapter } from './transducer-engine.ts';
import type { DirectoryFacts, Detection, Engine, FamilyDefinition, LoadModelOptions } from './types.ts';

const FRONTEND: FrontendSpec = { type: 'kaldi-fbank' };

function pick(facts: DirectoryFacts, role: 'encoder' | 'decoder' | 'joiner'): string | undefined {
  return preferFullPrecision(onnxWhere(facts, (_, name) => name.toLowerCase().startsWith(role)));
}

interface Files {
  encoder: string;
  decoder: string;
  joiner: string;
}

/** The adapter on sessions encoder (0), decoder (1), joiner (2). */
function icefallAdapter(
  sessions: EngineSessions,
  names: Files,
  encoder: OnnxFileFacts,
  decoder: OnnxFileFacts,
  joiner: OnnxFileFacts,
  contextSize: number,
  options: LoadModelOptions,
): TransducerAdapter {
  const { frontend, vocabulary } = sessions;
  if (encoder.inputs.length !== 2 || encoder.outputs.length < 2) {
    throw new RoteError(
      `${encoder.path}: model input mismatch: rote feeds x [N, T, ${frontend.numBins}] float32 and x_lens [N] int64 and reads encoder_out, encoder_out_lens; the model declares inputs ${encoder.inputs.map(describeValueInfo).join(', ')} and outputs ${encoder.outputs.map(describeValueInfo).join(', ')}`,
    );
  }
  const bins = fixedDim(encoder.inputs[0], 2);
  if (bins !== null && bins !== frontend.numBins) {
    throw new RoteError(
      `${encoder.path}: model input mismatch: input ${describeValueInfo(encoder.inputs[0]!)} wants ${bins} feature bins, the kaldi-fbank frontend makes [N, T, ${frontend.numBins}]`,
    );
  }
  const [xInfo, lensInfo] = [encoder.inputs[0]!, encoder.inputs[1]!];
  const [encoderOut, encoderLens] = [encoder.outputs[0]!.name, encoder.outputs[1]!.name];
  const decoderIn = decoder.inputs[0];
  const decoderOut = decoder.outputs[0]!.name;
  const [joinEnc, joinDec] = [joiner.inputs[0]!.name, joiner.inputs[1]!.name];
  const joinOut = joiner.outputs[0]!.name;
  const history = contextSize - 1;

  const decodeContexts = async (contexts: number[][]): Promise<{ data: Float32Array; width: number }> => {
    const y = integerTensor(decoderIn, contexts.flat(), [contexts.length, contextSize]);
    const result = (
      await sessions.run(
        1,
        { [decoderIn!.name]: y },
        () => `${names.decoder} given y [${contexts.length}, ${contextSize}]`,
      )
    )[decoderOut] as ort.Tensor;
    return { data: result.data as Float32Array, width: result.dims[result.dims.length - 1]! };
  };
  const join = async (
    frames: Float32Array,
    decoded: Float32Array,
    width: number,
    rows: number,
  ): Promise<Float32Array> => {
    const frameDim = frames.length / rows;
    const feeds = {
      [joinEnc]: new ort.Tensor('float32', frames, [rows, frameDim]),
      [joinDec]: new ort.Tensor('float32', decoded, [rows, width]),
    };
    return (
      (await sessions.run(2, feeds, () => `${names.joiner} given [${rows}, ${frameDim}] x2`))[joinOut] as ort.Tensor
    ).data as Float32Array;
  };
  const { step, stateSizes } = statelessNetwork(
    {
      decoder: async (contexts) => (await decodeContexts(contexts)).data,
      joiner: async (frames, decoded, n) => join(frames, decoded, decoded.length / n, n),
    },
    contextSize,
  );
  return {
    async encode(batch) {
      const n = batch.frames.length;
      const out = await sessions.run(
        0,
        { [xInfo.name]: featureTensor(batch, 'BTF'), [lensInfo.name]: integerTensor(lensInfo, batch.frames, [n]) },
        () => `${names.encoder} given x [${n}, ${batch.maxFrames}, ${batch.numBins}]`,
      );
      const data = floatOutput(out, encoderOut, encoder.path);
      const maxOut = data.dims[1]!;
      return {
        data: data.data as Float32Array,
        lengths: declaredLengths(out[encoderLens] as ort.Tensor, maxOut),
        maxOut,
        dim: data.dims[2]!,
      };
    },
    network: {
      stateSizes,
      step,
      /** The decoder on every prefix's context (one call), the joiner on the T x (U + 1) grid (rows in chunks). */
      async lattice(frames, count, targets, width) {
        const frameDim = frames.length / count;
        const context = [...new Array<number>(history).fill(-1), vocabulary.blankId, ...targets];
        const columns = targets.length + 1;
        const decoded = await decodeContexts(
          Array.from({ length: columns }, (_, u) => context.slice(u, u + contextSize)),
        );
        const total = count * columns;
        const perCall = Math.max(1, Math.floor(LATTICE_VALUES_PER_CALL / width));
        const lattice = new Float32Array(total * width);
        for (let start = 0; start < total; start += perCall) {
          const rows = Math.min(perCall, total - start);
          const gridFrames = new Float32Array(rows * frameDim);
          const gridDecoded = new Float32Array(rows * decoded.width);
          for (let r = 0; r < rows; r++) {
            const t = Math.floor((start + r) / columns);
            const u = (start + r) % columns;
            gridFrames.set(frames.subarray(t * frameDim, (t + 1) * frameDim), r * frameDim);
            gridDecoded.set(decoded.data.subarray(u * decoded.width, (u + 1) * decoded.width), r * decoded.width);
          }
          lattice.set(
            (await join(gridFrames, gridDecoded, decoded.width, rows)).subarray(0, rows * width),
            start * width,
          );
        }
        return lattice;
      },
    },
    subsampling: 4,
    durations: 'none',
    maxSymbolsPerFrame: { rnnt: options.maxSymbolsPerFrame ?? 1, tdt: options.maxSymbolsPerFrame ?? 1 },
    ...(vocabulary.unkId !== null ? { unkId: vocabulary.unkId } : {}),
    describeSearch: (max) =>
      `greedy search, at most ${max} symbol(s) per frame${vocabulary.unkId !== null ? '; <unk> read as blank (as sherpa-onnx)' : ''}`,
  };
}

async function loadIcefallTransducer(
  facts: DirectoryFacts,
  because: string[],
  options: LoadModelOptions,
): Promise<Engine> {
  const names: Files = {
    encoder: pick(facts, 'encoder')!,
    decoder: pick(facts, 'decoder')!,
    joiner: pick(facts, 'joiner')!,
  };
  const [encoder, decoder, joiner] = [names.encoder, names.decoder, names.joiner].map((n) => facts.onnx.get(n)!) as [
    OnnxFileFacts,
    OnnxFileFacts,
    OnnxFileFacts,
  ];
  const vocabSize = positiveIntegerMetadata(decoder, 'vocab_size');
  const contextSize = positiveIntegerMetadata(decoder, 'context_size');
  if (vocabSize === null)
    throw new RoteError(
      `${decoder.path}: metadata vocab_size="${decoder.metadata.vocab_size}" is not a positive integer`,
    );
  if (contextSize === null)
    throw new RoteError(
      `${decoder.path}: metadata context_size="${decoder.metadata.context_size}" is not a positive integer`,
    );
  const vocabulary = await loadVocabulary(join(facts.dir, 'tokens.txt'), 'from-file');
  if (vocabulary.pieces.length !== vocabSize) {
    throw new RoteError(
      `${vocabulary.source}: ${vocabulary.pieces.length} tokens but ${decoder.path} metadata says vocab_size=${vocabSize}; use the tokens.txt that came with the model`,
    );
  }
  return createTransducerEngine(
    {
      family: 'sherpa-transducer',
      dir: facts.dir,
      modelFiles: [names.encoder, names.decoder, names.joiner],
      otherFiles: ['tokens.txt'],
      vocabularyFile: 'tokens.txt',
      frontend: FRONTEND,
      vocabulary,
      detectedBecause: because,
      open: (sessions) => icefallAdapter(sessions, names, encoder, decoder, joiner, contextSize, options),
    },
    options,
  );
}

export const sherpaTransducer: FamilyDefinition = {
  name: 'sherpa-transducer',
  summary:
    'icefall / sherpa-onnx transducer: encoder*.onnx, decoder*.onnx (vocab_size, context_size), joiner*.onnx, tokens.txt',
  detect(facts: DirectoryFacts): Detection {
    const missing: string[] = [];
    if (facts.sidecar) missing.push(`${SIDECAR_NAME} present (the sidecar family takes precedence)`);
    const roles = { encoder: pick(facts, 'encoder'), decoder: pick(facts, 'decoder'), joiner: pick(facts, 'joiner') };
    for (const [role, name] of Object.entries(roles)) if (!name) missing.push(`${role}*.onnx`);
    const decoder = roles.decoder ? facts.onnx.get(roles.decoder)! : null;
    if (decoder && (decoder.metadata.vocab_size === undefined || decoder.metadata.context_size === undefined)) {
      missing.push(`${roles.decoder} metadata vocab_size and context_size`);
    }
    if (!facts.files.includes('tokens.txt')) missing.push('tokens.txt');
    if (missing.length > 0) return { ok: false, missing };
    const encoder = facts.onnx.get(roles.encoder!)!;
    return {
      ok: true,
      because: [
        `${roles.encoder}, ${roles.decoder}, ${roles.joiner} present${encoder.metadata.model_type ? ` (encoder model_type=${encoder.metadata.model_type})` : ''}`,
        `${roles.decoder}: metadata vocab_size=${decoder!.metadata.vocab_size}, context_size=${decoder!.metadata.context_size}`,
        'tokens.txt present',
      ],
    };
  },
  load: loadIcefallTransducer,
};
