/**
 * An icefall / sherpa-onnx transducer directory: encoder*.onnx (x [N, T, 80] +
 * x_lens -> encoder_out, encoder_out_lens), decoder*.onnx (y [N, context_size]
 * -> decoder_out; metadata vocab_size and context_size), joiner*.onnx
 * (encoder_out, decoder_out -> logit) and tokens.txt (blank <blk>, usually 0).
 * Features: Kaldi fbank with icefall / lhotse / sherpa-onnx defaults. Decoding:
 * batched greedy search (transducer-greedy.ts); reference score: the teacher-forced
 * RNNT log-likelihood (transducer-score.ts).
 */
import { join } from 'node:path';
import { createFrontend, type FrontendSpec } from '../../audio/index.ts';
import { RoteError } from '../../util/errors.ts';
import { sha256File } from '../../util/hash.ts';
import { describeValueInfo, type OnnxFileFacts } from '../onnx-file.ts';
import { createSessions, ort, RunClock } from '../runtime.ts';
import { transducerGreedy } from '../transducer-greedy.ts';
import { rnntForcedLogLikelihood } from '../transducer-score.ts';
import { LATTICE_VALUES_PER_CALL } from './nemo-transducer-engine.ts';
import { loadVocabulary } from '../vocabulary.ts';
import { onnxWhere, positiveIntegerMetadata, preferFullPrecision, SIDECAR_NAME } from './common.ts';
import type { DirectoryFacts, Detection, Engine, FamilyDefinition, FeatureBatch, UtteranceOutput } from './types.ts';

const FRONTEND: FrontendSpec = { type: 'kaldi-fbank' };

function pick(facts: DirectoryFacts, role: 'encoder' | 'decoder' | 'joiner'): string | undefined {
  return preferFullPrecision(onnxWhere(facts, (_, name) => name.toLowerCase().startsWith(role)));
}

function declaredDim(f: OnnxFileFacts, output: boolean, index: number, axis: number): number | null {
  const dim = (output ? f.outputs : f.inputs)[index]?.shape?.[axis];
  return dim && dim.value !== null && dim.value > 0 ? dim.value : null;
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
  async load(facts, because, options): Promise<Engine> {
    const names = {
      encoder: pick(facts, 'encoder')!,
      decoder: pick(facts, 'decoder')!,
      joiner: pick(facts, 'joiner')!,
    };
    const encoder = facts.onnx.get(names.encoder)!;
    const decoder = facts.onnx.get(names.decoder)!;
    const joiner = facts.onnx.get(names.joiner)!;
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
    const frontend = createFrontend(FRONTEND);
    if (encoder.inputs.length !== 2 || encoder.outputs.length < 2) {
      throw new RoteError(
        `${encoder.path}: model input mismatch: rote feeds x [N, T, ${frontend.numBins}] float32 and x_lens [N] int64 and reads encoder_out, encoder_out_lens; the model declares inputs ${encoder.inputs.map(describeValueInfo).join(', ')} and outputs ${encoder.outputs.map(describeValueInfo).join(', ')}`,
      );
    }
    const bins = declaredDim(encoder, false, 0, 2);
    if (bins !== null && bins !== frontend.numBins) {
      throw new RoteError(
        `${encoder.path}: model input mismatch: input ${describeValueInfo(encoder.inputs[0]!)} wants ${bins} feature bins, the kaldi-fbank frontend makes [N, T, ${frontend.numBins}]`,
      );
    }
    const { sessions, report } = await createSessions(
      [names.encoder, names.decoder, names.joiner].map((n) => join(facts.dir, n)),
      options,
    );
    const [encoderSession, decoderSession, joinerSession] = sessions as [
      ort.InferenceSession,
      ort.InferenceSession,
      ort.InferenceSession,
    ];
    const clock = new RunClock();
    const encoderIn = encoder.inputs.map((i) => i.name);
    const lengthsType = encoder.inputs[1]!.elemType === 6 ? 'int32' : 'int64';
    const decoderType = decoder.inputs[0]?.elemType === 6 ? 'int32' : 'int64';
    const [encoderOutName, encoderLensName] = [encoder.outputs[0]!.name, encoder.outputs[1]!.name];
    const decoderIn = decoder.inputs[0]!.name;
    const decoderOutName = decoder.outputs[0]!.name;
    const joinerIn = joiner.inputs.map((i) => i.name);
    const joinerOutName = joiner.outputs[0]!.name;
    let encoderDim = declaredDim(encoder, true, 0, 2);
    const decoderDim = declaredDim(decoder, true, 0, 1);
    const files = await Promise.all(
      [names.encoder, names.decoder, names.joiner, 'tokens.txt'].map(async (n) => ({
        path: join(facts.dir, n),
        sha256: await sha256File(join(facts.dir, n)),
      })),
    );
    const maxSymbolsPerFrame = options.maxSymbolsPerFrame ?? 1;

    const decodeContexts = async (contexts: number[][]): Promise<{ data: Float32Array; width: number }> => {
      const flat = contexts.flat();
      const tensor =
        decoderType === 'int32'
          ? new ort.Tensor('int32', Int32Array.from(flat), [contexts.length, contextSize!])
          : new ort.Tensor('int64', BigInt64Array.from(flat.map(BigInt)), [contexts.length, contextSize!]);
      const result = (
        await clock.run(
          decoderSession,
          { [decoderIn]: tensor },
          () => `${names.decoder} given y [${contexts.length}, ${contextSize}]`,
        )
      )[decoderOutName] as ort.Tensor;
      return { data: result.data as Float32Array, width: result.dims[result.dims.length - 1]! };
    };
    const joinRows = async (
      frames: Float32Array,
      frameDim: number,
      decoded: Float32Array,
      decodedDim: number,
      rows: number,
    ): Promise<Float32Array> => {
      const feeds = {
        [joinerIn[0]!]: new ort.Tensor('float32', frames, [rows, frameDim]),
        [joinerIn[1]!]: new ort.Tensor('float32', decoded, [rows, decodedDim]),
      };
      return (
        (await clock.run(joinerSession, feeds, () => `${names.joiner} given [${rows}, ${frameDim}] x2`))[
          joinerOutName
        ] as ort.Tensor
      ).data as Float32Array;
    };

    /**
     * Teacher-forced ln P(targets | frames): the decoder on every prefix's context (one call,
     * start [-1, ..., blank] as the search), the joiner on the T x (U + 1) grid (rows in chunks),
     * the RNNT forward over it.
     */
    async function forcedLogLikelihood(
      frames: Float32Array,
      count: number,
      frameDim: number,
      targets: number[],
    ): Promise<number> {
      const history = [...new Array<number>(contextSize! - 1).fill(-1), vocabulary.blankId, ...targets];
      const columns = targets.length + 1;
      const decoded = await decodeContexts(
        Array.from({ length: columns }, (_, u) => history.slice(u, u + contextSize!)),
      );
      const total = count * columns;
      const perCall = Math.max(1, Math.floor(LATTICE_VALUES_PER_CALL / vocabSize!));
      const lattice = new Float32Array(total * vocabSize!);
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
          (await joinRows(gridFrames, frameDim, gridDecoded, decoded.width, rows)).subarray(0, rows * vocabSize!),
          start * vocabSize!,
        );
      }
      return rnntForcedLogLikelihood(lattice, count, targets, vocabulary.blankId, vocabSize!);
    }

    async function run(batch: FeatureBatch, targets?: (number[] | null)[]): Promise<UtteranceOutput[]> {
      const n = batch.frames.length;
      const dims = [n, batch.maxFrames, batch.numBins];
      const lengths =
        lengthsType === 'int32'
          ? new ort.Tensor('int32', Int32Array.from(batch.frames), [n])
          : new ort.Tensor('int64', BigInt64Array.from(batch.frames.map(BigInt)), [n]);
      const out = await clock.run(
        encoderSession,
        { [encoderIn[0]!]: new ort.Tensor('float32', batch.features, dims), [encoderIn[1]!]: lengths },
        () => `${names.encoder} given x [${dims.join(', ')}]`,
      );
      const encoderOut = out[encoderOutName] as ort.Tensor;
      const encoderLens = Array.from(out[encoderLensName]!.data as BigInt64Array | Int32Array, Number);
      const maxFrames = encoderOut.dims[1]!;
      encoderDim = encoderOut.dims[2]!;
      let decoderWidth = decoderDim;
      const tokens = await transducerGreedy(
        encoderOut.data as Float32Array,
        encoderLens,
        maxFrames,
        {
          decoder: async (contexts) => {
            const { data, width } = await decodeContexts(contexts);
            decoderWidth = width;
            return data;
          },
          joiner: async (frames, decoded, rows) => {
            const feeds = {
              [joinerIn[0]!]: new ort.Tensor('float32', frames, [rows, encoderDim!]),
              [joinerIn[1]!]: new ort.Tensor('float32', decoded, [rows, decoderWidth ?? encoderDim!]),
            };
            const result = (
              await clock.run(joinerSession, feeds, () => `${names.joiner} given [${rows}, ${encoderDim}] x2`)
            )[joinerOutName] as ort.Tensor;
            return result.data as Float32Array;
          },
        },
        {
          blankId: vocabulary.blankId,
          contextSize: contextSize!,
          vocabSize: vocabSize!,
          encoderDim: encoderDim!,
          decoderDim: decoderWidth ?? encoderDim!,
          maxSymbolsPerFrame,
          ...(vocabulary.unkId !== null ? { unkId: vocabulary.unkId } : {}),
        },
      );
      const outputs: UtteranceOutput[] = [];
      for (let i = 0; i < tokens.length; i++) {
        const target = targets?.[i];
        const frames = Math.min(encoderLens[i]!, maxFrames);
        const start = i * maxFrames * encoderDim!;
        const score =
          target && target.length > 0 && frames > 0
            ? await forcedLogLikelihood(
                (encoderOut.data as Float32Array).subarray(start, start + frames * encoderDim!),
                frames,
                encoderDim!,
                target,
              )
            : null;
        outputs.push({ tokenIds: tokens[i]!, logProbs: null, outFrames: encoderLens[i]!, forcedLogLikelihood: score });
      }
      return outputs;
    }

    return {
      info: {
        family: 'sherpa-transducer',
        isCtc: false,
        dir: facts.dir,
        files,
        frontend: FRONTEND,
        vocabulary: { size: vocabSize, blankId: vocabulary.blankId, kind: vocabulary.kind },
        subsampling: 4,
        detectedBecause: [
          ...because,
          `greedy search, at most ${maxSymbolsPerFrame} symbol(s) per frame${vocabulary.unkId !== null ? '; <unk> read as blank (as sherpa-onnx)' : ''}`,
          'reference score: teacher-forced RNNT log-likelihood over the T x (U + 1) lattice',
        ],
      },
      provider: report,
      frontend,
      vocabulary,
      clock,
      run,
      close: async () => {
        await Promise.all(sessions.map((s) => s.release()));
      },
    };
  },
};
