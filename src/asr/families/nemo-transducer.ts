/**
 * A NeMo RNNT / TDT model as NeMo's `model.export("x.onnx")` writes it
 * (examples/asr/export/transducer/infer_transducer_onnx.py reads it back):
 *   encoder-x.onnx        audio_signal [B, F, T], length -> outputs [B, D, T'], encoded_lengths
 *   decoder_joint-x.onnx  encoder_outputs [B, D, 1], targets [B, 1] int32, target_length,
 *                         input_states_1/2 [L, B, H] -> outputs [B, 1, 1, V + 1 (+ durations)] raw logits,
 *                         prednet_lengths, output_states_1/2
 * with no metadata and no vocabulary: NeMo keeps its tokenizer in the .nemo archive, so
 * tokens.txt ("<piece> <id>") or NeMo's vocab.txt must sit beside the ONNX files; the
 * blank is the last id. The encoder and frontend are shared with sherpa-onnx's layout
 * (nemo-transducer-common.ts); search and score are the transducer base's.
 */
import { join } from 'node:path';
import type { OnnxFileFacts, OnnxValueInfo } from '../onnx-file.ts';
import { stateRowsFromLayerMajor, type StatefulStepResult } from '../transducer-stateful.ts';
import { loadVocabulary } from '../vocabulary.ts';
import { fixedDim, ort, type EngineSessions } from '../engine.ts';
import { hasInputs, onnxWhere, preferFullPrecision, SIDECAR_NAME } from './common.ts';
import {
  declaredFromMetadata,
  framesToBDT,
  isNemoEncoder,
  lstmPrediction,
  nemoFrontend,
  nemoTransducerAdapter,
  vocabularyFile,
} from './nemo-transducer-common.ts';
import { concat, createTransducerEngine, frameChunks, type TransducerNetwork } from './transducer-engine.ts';
import type { DirectoryFacts, Detection, Engine, FamilyDefinition, LoadModelOptions } from './types.ts';

/** Grid rows per joint call when scoring cell by cell (bounded memory: rows x width floats). */
const LATTICE_ROWS_PER_CALL = 2048;

function isDecoderJoint(f: OnnxFileFacts): boolean {
  return (
    hasInputs(f, ['encoder_outputs', 'targets', 'target_length']) &&
    f.inputs.filter((i) => /state/i.test(i.name)).length === 2
  );
}

/** NeMo export pairs: encoder-X.onnx with decoder_joint-X.onnx (same X) when there are several. */
function nemoPair(facts: DirectoryFacts): { encoder?: string; decoderJoint?: string } {
  const encoders = onnxWhere(facts, (f) => isNemoEncoder(f));
  const joints = onnxWhere(facts, (f) => isDecoderJoint(f));
  const decoderJoint = preferFullPrecision(joints);
  if (!decoderJoint) return { encoder: preferFullPrecision(encoders) };
  const suffix = decoderJoint.replace(/^decoder_joint-/, '');
  const encoder = encoders.find((name) => name === `encoder-${suffix}`) ?? preferFullPrecision(encoders);
  return { ...(encoder ? { encoder } : {}), decoderJoint };
}

/** The decoder+joint network: one call per search step (prediction network and joint together). */
function decoderJointNetwork(
  sessions: EngineSessions,
  file: string,
  f: OnnxFileFacts,
  encoder: OnnxFileFacts,
  blankId: number,
  latticeByCells: boolean,
): { network: TransducerNetwork; describe: string } {
  const byName = (name: string, fallback: number): OnnxValueInfo =>
    f.inputs.find((i) => i.name === name) ?? f.inputs[fallback]!;
  const [encInfo, targetsInfo, lengthInfo] = [
    byName('encoder_outputs', 0),
    byName('targets', 1),
    byName('target_length', 2),
  ];
  const lstm = lstmPrediction(f, declaredFromMetadata(encoder), targetsInfo, lengthInfo);
  const { stateSize, layers, hidden } = lstm;
  const outName = f.outputs[0]!.name;
  const stateOuts = f.outputs.slice(-2).map((o) => o.name);
  // NeMo declares encoder_outputs [B, D, T] and targets [B, U] with free T and U: the whole lattice fits one call.
  const wholeLattice = !latticeByCells && fixedDim(encInfo, 2) === null && fixedDim(targetsInfo, 1) === null;
  const call = async (
    frames: Float32Array,
    labels: Int32Array,
    rows: Float32Array[],
    n: number,
    encoderDim: number,
  ): Promise<StatefulStepResult> => {
    const feeds: Record<string, ort.Tensor> = {
      [encInfo.name]: new ort.Tensor('float32', frames, [n, encoderDim, 1]),
      ...lstm.stepFeeds(labels, rows, n),
    };
    const out = await sessions.run(
      1,
      feeds,
      () =>
        `${file} given encoder_outputs [${n}, ${encoderDim}, 1], targets [${n}, 1], states [${layers}, ${n}, ${hidden}]`,
    );
    return {
      logits: (out[outName] as ort.Tensor).data as Float32Array,
      states: stateOuts.map((name) =>
        stateRowsFromLayerMajor((out[name] as ort.Tensor).data as Float32Array, layers, n, hidden),
      ),
    };
  };
  const step = async (
    frames: Float32Array,
    labels: Int32Array,
    rows: Float32Array[],
    n: number,
  ): Promise<StatefulStepResult> => {
    const encoderDim = frames.length / n;
    if (!lstm.rowByRow) return call(frames, labels, rows, n, encoderDim);
    const parts: StatefulStepResult[] = [];
    for (let r = 0; r < n; r++) {
      const row = rows.map((s) => s.slice(r * stateSize, (r + 1) * stateSize));
      parts.push(
        await call(frames.slice(r * encoderDim, (r + 1) * encoderDim), labels.slice(r, r + 1), row, 1, encoderDim),
      );
    }
    return {
      logits: concat(parts.map((p) => p.logits)),
      states: [0, 1].map((i) => concat(parts.map((p) => p.states[i]!))),
    };
  };
  const network: TransducerNetwork = {
    stateSizes: [stateSize, stateSize],
    step,
    async lattice(frames, count, targets, width) {
      const encoderDim = frames.length / count;
      const columns = targets.length + 1;
      const labels = [blankId, ...targets];
      if (wholeLattice) {
        // One call per chunk of frames: encoder_outputs [1, D, T] and targets [1, U + 1] = [blank, y_1..y_U]
        // from zero states; the LSTM reads the targets in order, so output [1, T, U + 1, W] is the lattice.
        const parts: Float32Array[] = [];
        for (const [start, end] of frameChunks(count, columns, width)) {
          const chunk = framesToBDT(frames.subarray(start * encoderDim, end * encoderDim), end - start, encoderDim);
          const feeds: Record<string, ort.Tensor> = {
            [encInfo.name]: new ort.Tensor('float32', chunk, [1, encoderDim, end - start]),
            ...lstm.sequenceFeeds(labels),
          };
          const out = await sessions.run(
            1,
            feeds,
            () => `${file} given encoder_outputs [1, ${encoderDim}, ${end - start}], targets [1, ${columns}]`,
          );
          parts.push((out[outName] as ort.Tensor).data as Float32Array);
        }
        return concat(parts);
      }
      // Row by row: the state before each target (s_0 = zeros with label blank, s_u = state after label u - 1), then a grid of single cells.
      const before: Float32Array[][] = [[new Float32Array(stateSize), new Float32Array(stateSize)]];
      for (let u = 1; u < columns; u++) {
        const result = await step(frames.subarray(0, encoderDim), Int32Array.of(labels[u - 1]!), before[u - 1]!, 1);
        before.push(result.states);
      }
      const total = count * columns;
      const parts: Float32Array[] = [];
      for (let start = 0; start < total; start += LATTICE_ROWS_PER_CALL) {
        const rows = Math.min(LATTICE_ROWS_PER_CALL, total - start);
        const gridFrames = new Float32Array(rows * encoderDim);
        const gridLabels = new Int32Array(rows);
        const gridStates = [new Float32Array(rows * stateSize), new Float32Array(rows * stateSize)];
        for (let r = 0; r < rows; r++) {
          const t = Math.floor((start + r) / columns);
          const u = (start + r) % columns;
          gridFrames.set(frames.subarray(t * encoderDim, (t + 1) * encoderDim), r * encoderDim);
          gridLabels[r] = labels[u]!;
          gridStates[0]!.set(before[u]![0]!, r * stateSize);
          gridStates[1]!.set(before[u]![1]!, r * stateSize);
        }
        parts.push((await step(gridFrames, gridLabels, gridStates, rows)).logits);
      }
      return concat(parts);
    },
  };
  return { network, describe: lstm.describe() };
}

/** Loads the NeMo export layout; `latticeByCells` scores cell by cell even where one call would do (the fallback path, for tests). */
export async function loadNemoTransducer(
  facts: DirectoryFacts,
  because: string[],
  options: LoadModelOptions,
  latticeByCells = false,
): Promise<Engine> {
  const { encoder, decoderJoint } = nemoPair(facts);
  const encoderFacts = facts.onnx.get(encoder!)!;
  const jointFacts = facts.onnx.get(decoderJoint!)!;
  const vocabName = vocabularyFile(facts)!;
  const vocabulary = await loadVocabulary(join(facts.dir, vocabName), 'last');
  const detectedBecause = [...because];
  const frontend = nemoFrontend(encoderFacts, options, detectedBecause);
  return createTransducerEngine(
    {
      family: 'nemo-transducer',
      dir: facts.dir,
      modelFiles: [encoder!, decoderJoint!],
      otherFiles: [vocabName],
      vocabularyFile: vocabName,
      frontend,
      vocabulary,
      detectedBecause,
      open: (sessions) =>
        nemoTransducerAdapter(
          encoderFacts,
          encoder!,
          sessions,
          options,
          decoderJointNetwork(sessions, decoderJoint!, jointFacts, encoderFacts, vocabulary.blankId, latticeByCells),
        ),
    },
    options,
  );
}

export const nemoTransducer: FamilyDefinition = {
  name: 'nemo-transducer',
  summary:
    'NeMo RNNT/TDT export (model.export): encoder-x.onnx + decoder_joint-x.onnx, with tokens.txt or NeMo vocab.txt',
  detect(facts: DirectoryFacts): Detection {
    const missing: string[] = [];
    if (facts.sidecar) missing.push(`${SIDECAR_NAME} present (the sidecar family takes precedence)`);
    const { encoder, decoderJoint } = nemoPair(facts);
    if (!encoder)
      missing.push(
        'an encoder .onnx (inputs audio_signal, length; outputs outputs, encoded_lengths), e.g. encoder-model.onnx',
      );
    if (!decoderJoint)
      missing.push(
        'a decoder_joint .onnx (inputs encoder_outputs, targets, target_length, input_states_1, input_states_2), e.g. decoder_joint-model.onnx',
      );
    const vocab = vocabularyFile(facts);
    if (!vocab)
      missing.push(
        'tokens.txt or vocab.txt (NeMo keeps the tokenizer in the .nemo archive: extract vocab.txt, or write tokens.txt)',
      );
    if (missing.length > 0) return { ok: false, missing };
    return {
      ok: true,
      because: [
        `${encoder}: NeMo encoder export (audio_signal, length -> outputs, encoded_lengths)`,
        `${decoderJoint}: NeMo decoder+joint export (targets, 2 LSTM states)`,
        `${vocab} present; blank = last id`,
      ],
    };
  },
  load: (facts, because, options) => loadNemoTransducer(facts, because, options),
};
