/**
 * A NeMo RNNT / TDT model as sherpa-onnx exports it
 * (scripts/nemo/fast-conformer-hybrid-transducer-ctc/export-onnx-transducer*.py,
 * parakeet-tdt export_onnx.py): encoder.onnx (NeMo's encoder; metadata vocab_size
 * without the blank, normalize_type, pred_rnn_layers, pred_hidden, subsampling_factor,
 * model_type, sometimes feat_dim), decoder.onnx (targets, target_length, 2 states ->
 * outputs [B, H, U], prednet_lengths, 2 states), joiner.onnx (encoder_outputs [B, D, T],
 * decoder_outputs [B, H, U] -> outputs [B, T, U, V + 1]), tokens.txt with "<blk>" last.
 * The encoder and frontend are shared with NeMo's own layout (nemo-transducer-common.ts).
 */
import { join } from 'node:path';
import { RoteError } from '../../util/errors.ts';
import { fixedDim, ort, type EngineSessions } from '../engine.ts';
import type { OnnxFileFacts } from '../onnx-file.ts';
import { PredictionCache, stateRowsFromLayerMajor } from '../transducer-stateful.ts';
import { loadVocabulary } from '../vocabulary.ts';
import { hasInputs, onnxWhere, positiveIntegerMetadata, preferFullPrecision, SIDECAR_NAME } from './common.ts';
import {
  declaredFromMetadata,
  framesToBDT,
  isNemoEncoder,
  lstmPrediction,
  nemoFrontend,
  nemoTransducerAdapter,
} from './nemo-transducer-common.ts';
import { concat, createTransducerEngine, frameChunks, pickRows, type TransducerNetwork } from './transducer-engine.ts';
import type { DirectoryFacts, Detection, Engine, FamilyDefinition, LoadModelOptions } from './types.ts';

function pickRole(facts: DirectoryFacts, role: string, test: (f: OnnxFileFacts) => boolean): string | undefined {
  return preferFullPrecision(onnxWhere(facts, (f, name) => name.toLowerCase().startsWith(role) && test(f)));
}

function sherpaFiles(facts: DirectoryFacts): { encoder?: string; decoder?: string; joiner?: string } {
  const encoder = pickRole(facts, 'encoder', (f) => isNemoEncoder(f) && f.metadata.vocab_size !== undefined);
  const decoder = pickRole(
    facts,
    'decoder',
    (f) => hasInputs(f, ['targets', 'target_length']) && !hasInputs(f, ['encoder_outputs']),
  );
  const joiner = pickRole(facts, 'joiner', (f) => hasInputs(f, ['encoder_outputs', 'decoder_outputs']));
  return { ...(encoder ? { encoder } : {}), ...(decoder ? { decoder } : {}), ...(joiner ? { joiner } : {}) };
}

interface Prediction {
  output: Float32Array;
  width: number;
  states: Float32Array[];
}

/** decoder.onnx (prediction network, rerun only after an emission) and joiner.onnx (sessions 1 and 2). */
function splitNetwork(
  sessions: EngineSessions,
  files: { decoder: string; joiner: string },
  d: OnnxFileFacts,
  j: OnnxFileFacts,
  encoder: OnnxFileFacts,
  blankId: number,
  latticeByCells: boolean,
): { network: TransducerNetwork; describe: string } {
  const [targetsInfo, lengthInfo] = [
    d.inputs.find((i) => i.name === 'targets') ?? d.inputs[0]!,
    d.inputs.find((i) => i.name === 'target_length') ?? d.inputs[1]!,
  ];
  const lstm = lstmPrediction(d, declaredFromMetadata(encoder), targetsInfo, lengthInfo);
  const { stateSize, layers, hidden } = lstm;
  const decoderOut = d.outputs[0]!.name;
  const stateOuts = d.outputs.slice(-2).map((o) => o.name);
  // targets [B, U] with a free U: the prediction network reads a whole target sequence in one call.
  const sequenceDecoder = !latticeByCells && fixedDim(targetsInfo, 1) === null;
  const [joinEnc, joinDec] = [j.inputs[0]!.name, j.inputs[1]!.name];
  const joinOut = j.outputs[0]!.name;
  /** Prediction network on n rows -> one Prediction per row. */
  const predictCall = async (labels: Int32Array, rows: Float32Array[], n: number): Promise<Prediction[]> => {
    const out = await sessions.run(
      1,
      lstm.stepFeeds(labels, rows, n),
      () => `${files.decoder} given targets [${n}, 1], states [${layers}, ${n}, ${hidden}]`,
    );
    const g = out[decoderOut] as ort.Tensor;
    const width = g.dims[1]!;
    const outputs = g.data as Float32Array;
    const states = stateOuts.map((name) =>
      stateRowsFromLayerMajor((out[name] as ort.Tensor).data as Float32Array, layers, n, hidden),
    );
    return Array.from({ length: n }, (_, r) => ({
      output: outputs.slice(r * width, (r + 1) * width),
      width,
      states: states.map((s) => s.slice(r * stateSize, (r + 1) * stateSize)),
    }));
  };
  const predict = async (labels: Int32Array, rows: Float32Array[], n: number): Promise<Prediction[]> => {
    if (!lstm.rowByRow) return predictCall(labels, rows, n);
    const parts: Prediction[] = [];
    for (let r = 0; r < n; r++)
      parts.push(
        ...(await predictCall(
          labels.slice(r, r + 1),
          rows.map((s) => pickRows(s, [r], stateSize)),
          1,
        )),
      );
    return parts;
  };
  const joinCall = async (
    encoderFrames: Float32Array,
    encoderDim: number,
    frames: number,
    predictions: Float32Array,
    predWidth: number,
    columns: number,
    batch: number,
  ): Promise<Float32Array> => {
    const feeds = {
      [joinEnc]: new ort.Tensor('float32', encoderFrames, [batch, encoderDim, frames]),
      [joinDec]: new ort.Tensor('float32', predictions, [batch, predWidth, columns]),
    };
    const out = await sessions.run(
      2,
      feeds,
      () =>
        `${files.joiner} given encoder_outputs [${batch}, ${encoderDim}, ${frames}], decoder_outputs [${batch}, ${predWidth}, ${columns}]`,
    );
    return (out[joinOut] as ort.Tensor).data as Float32Array;
  };
  const cache = new PredictionCache<Prediction>();
  const network: TransducerNetwork = {
    stateSizes: [stateSize, stateSize],
    async step(frames, labels, rows, n, keys) {
      const encoderDim = frames.length / n;
      const entries = await cache.rows(n, keys, (stale) =>
        predict(
          Int32Array.from(stale, (r) => labels[r]!),
          rows.map((s) => pickRows(s, stale, stateSize)),
          stale.length,
        ),
      );
      const width = entries[0]!.width;
      // [n, D] and [n, H'] are [n, D, 1] and [n, H', 1] as they lie in memory.
      const logits = await joinCall(frames, encoderDim, 1, concat(entries.map((e) => e.output)), width, 1, n);
      return { logits, states: [0, 1].map((i) => concat(entries.map((e) => e.states[i]!))) };
    },
    async lattice(frames, count, targets, width) {
      const encoderDim = frames.length / count;
      const columns = targets.length + 1;
      const labels = [blankId, ...targets];
      let decoderBHU: Float32Array;
      let predWidth: number;
      if (sequenceDecoder) {
        // One call: targets [1, U + 1] from zero states -> outputs [1, H', U + 1].
        const g = (
          await sessions.run(1, lstm.sequenceFeeds(labels), () => `${files.decoder} given targets [1, ${columns}]`)
        )[decoderOut] as ort.Tensor;
        decoderBHU = g.data as Float32Array;
        predWidth = g.dims[1]!;
      } else {
        let rows: Float32Array[] = [new Float32Array(stateSize), new Float32Array(stateSize)];
        const outputs: Float32Array[] = [];
        predWidth = 0;
        for (let u = 0; u < columns; u++) {
          const [predicted] = await predict(Int32Array.of(labels[u]!), rows, 1);
          outputs.push(predicted!.output);
          predWidth = predicted!.width;
          rows = predicted!.states;
        }
        decoderBHU = new Float32Array(predWidth * columns);
        outputs.forEach((g, u) => {
          for (let k = 0; k < predWidth; k++) decoderBHU[k * columns + u] = g[k]!;
        });
      }
      // joiner: encoder_outputs [1, D, T] and decoder_outputs [1, H', U + 1] -> [1, T, U + 1, W], by chunks of frames.
      const parts: Float32Array[] = [];
      for (const [start, end] of frameChunks(count, columns, width)) {
        const chunk = framesToBDT(frames.subarray(start * encoderDim, end * encoderDim), end - start, encoderDim);
        parts.push(await joinCall(chunk, encoderDim, end - start, decoderBHU, predWidth, columns, 1));
      }
      return concat(parts);
    },
  };
  return { network, describe: lstm.describe() };
}

/** Loads sherpa-onnx's layout; `latticeByCells` runs the prediction network label by label in lattices (for tests). */
export async function loadSherpaNemoTransducer(
  facts: DirectoryFacts,
  because: string[],
  options: LoadModelOptions,
  latticeByCells = false,
): Promise<Engine> {
  const { encoder, decoder, joiner } = sherpaFiles(facts);
  const encoderFacts = facts.onnx.get(encoder!)!;
  const vocabulary = await loadVocabulary(join(facts.dir, 'tokens.txt'), 'from-file');
  const vocabSize = positiveIntegerMetadata(encoderFacts, 'vocab_size');
  if (vocabSize === null)
    throw new RoteError(
      `${encoderFacts.path}: metadata vocab_size="${encoderFacts.metadata.vocab_size}" is not a positive integer`,
    );
  // sherpa-onnx's NeMo exports write vocab_size without the blank; tokens.txt has it.
  if (vocabulary.pieces.length !== vocabSize + 1 && vocabulary.pieces.length !== vocabSize) {
    throw new RoteError(
      `${vocabulary.source}: ${vocabulary.pieces.length} tokens but ${encoderFacts.path} metadata says vocab_size=${vocabSize} (+ 1 blank); use the tokens.txt that came with the model`,
    );
  }
  if (vocabulary.blankId !== vocabulary.pieces.length - 1) {
    throw new RoteError(
      `${vocabulary.source}: the blank (<blk>) has id ${vocabulary.blankId}; NeMo transducers have it last (id ${vocabulary.pieces.length - 1})`,
    );
  }
  const detectedBecause = [...because];
  const frontend = nemoFrontend(encoderFacts, options, detectedBecause);
  return createTransducerEngine(
    {
      family: 'sherpa-nemo-transducer',
      dir: facts.dir,
      modelFiles: [encoder!, decoder!, joiner!],
      otherFiles: ['tokens.txt'],
      vocabularyFile: 'tokens.txt',
      frontend,
      vocabulary,
      detectedBecause,
      open: (sessions) =>
        nemoTransducerAdapter(
          encoderFacts,
          encoder!,
          sessions,
          options,
          splitNetwork(
            sessions,
            { decoder: decoder!, joiner: joiner! },
            facts.onnx.get(decoder!)!,
            facts.onnx.get(joiner!)!,
            encoderFacts,
            vocabulary.blankId,
            latticeByCells,
          ),
        ),
    },
    options,
  );
}

export const sherpaNemoTransducer: FamilyDefinition = {
  name: 'sherpa-nemo-transducer',
  summary:
    'NeMo RNNT/TDT as sherpa-onnx exports it: encoder.onnx (metadata vocab_size, pred_rnn_layers, pred_hidden), decoder.onnx (targets, states), joiner.onnx, tokens.txt',
  detect(facts: DirectoryFacts): Detection {
    const missing: string[] = [];
    if (facts.sidecar) missing.push(`${SIDECAR_NAME} present (the sidecar family takes precedence)`);
    const { encoder, decoder, joiner } = sherpaFiles(facts);
    if (!encoder)
      missing.push(
        'encoder*.onnx with inputs audio_signal, length, outputs outputs, encoded_lengths and metadata vocab_size',
      );
    if (!decoder) missing.push('decoder*.onnx with inputs targets, target_length and 2 LSTM states');
    if (!joiner) missing.push('joiner*.onnx with inputs encoder_outputs, decoder_outputs');
    if (!facts.files.includes('tokens.txt')) missing.push('tokens.txt');
    if (missing.length > 0) return { ok: false, missing };
    const meta = facts.onnx.get(encoder!)!.metadata;
    return {
      ok: true,
      because: [
        `${encoder}, ${decoder}, ${joiner} present: NeMo encoder, prediction network (targets + states) and joint`,
        `${encoder}: metadata vocab_size=${meta.vocab_size}${meta.pred_rnn_layers ? `, pred_rnn_layers=${meta.pred_rnn_layers}` : ''}${meta.pred_hidden ? `, pred_hidden=${meta.pred_hidden}` : ''}${meta.model_type ? `, model_type=${meta.model_type}` : ''}`,
        'tokens.txt present (blank from its <blk> line)',
      ],
    };
  },
  load: (facts, because, options) => loadSherpaNemoTransducer(facts, because, options),
};
