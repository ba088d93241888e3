/**
 * One engine for NeMo transducers (RNNT and TDT with an LSTM prediction network),
 * whichever way they were exported:
 * - 'decoder-joint': NeMo's own `model.export()` (decoder_joint-x.onnx: encoder_outputs
 *   [B, D, 1], targets [B, 1] int32, target_length [B], input_states_1/2 [L, B, H] ->
 *   outputs [B, 1, 1, W] raw logits, prednet_lengths, output_states_1/2);
 * - 'split': sherpa-onnx's (decoder.onnx: targets, target_length, 2 states -> outputs
 *   [B, H', 1], prednet_lengths, 2 states; joiner.onnx: encoder_outputs [B, D, T],
 *   decoder_outputs [B, H', U] -> outputs [B, T, U, W]).
 * Both share the encoder (audio_signal [B, F, T] + length -> outputs [B, D, T'] +
 * encoded_lengths), the blank as the last token class, and the search
 * (transducer-stateful.ts). A state input whose batch axis is fixed at 1 (some
 * sherpa-onnx exports) makes the prediction network run one row at a time.
 * The teacher-forced score builds the whole T x (U + 1) lattice with batched joint
 * calls and runs the RNNT or TDT forward algorithm on it (transducer-score.ts).
 */
import { join } from 'node:path';
import { createFrontend, type FrontendSpec } from '../../audio/index.ts';
import { RoteError } from '../../util/errors.ts';
import { sha256File } from '../../util/hash.ts';
import { describeValueInfo, type OnnxFileFacts, type OnnxValueInfo } from '../onnx-file.ts';
import { createSessions, ort, RunClock, type RuntimeOptions } from '../runtime.ts';
import { rnntForcedLogLikelihood, tdtForcedLogLikelihood } from '../transducer-score.ts';
import {
  stateRowsFromLayerMajor,
  stateRowsToLayerMajor,
  statefulTransducerGreedy,
  type StatefulStepResult,
  type StatefulTransducerNetwork,
} from '../transducer-stateful.ts';
import type { Vocabulary } from '../vocabulary.ts';
import type { Engine, FamilyName, FeatureBatch, UtteranceOutput } from './types.ts';

export type NemoTransducerNetworkFiles =
  | { kind: 'decoder-joint'; file: string; facts: OnnxFileFacts }
  | { kind: 'split'; decoderFile: string; decoder: OnnxFileFacts; joinerFile: string; joiner: OnnxFileFacts };

export interface NemoTransducerConfig {
  family: FamilyName;
  dir: string;
  encoderFile: string;
  encoder: OnnxFileFacts;
  network: NemoTransducerNetworkFiles;
  vocabulary: Vocabulary;
  vocabularyFile: string;
  frontend: FrontendSpec;
  /** Metadata values when the export records them (sherpa-onnx), else null. */
  declared: { layers: number | null; hidden: number | null; subsampling: number | null; durations: number[] | null };
  /** Symbols per frame at most, by the kind of joint the probe finds. */
  maxSymbolsPerFrame: { rnnt: number; tdt: number };
  detectedBecause: string[];
  /** Score cell by cell even where the export would take the whole lattice in one call (the fallback path, for tests). */
  latticeByCells?: boolean;
}

/** Grid rows per joint call when scoring cell by cell (bounded memory: rows x width floats). */
export const LATTICE_ROWS_PER_CALL = 2048;
/** Joint outputs per lattice call at most (frames are split into chunks beyond it): 16 M floats, 64 MB. */
export const LATTICE_VALUES_PER_CALL = 16 * 1024 * 1024;

/** Frame chunks [start, end) so that frames x columns x width stays under LATTICE_VALUES_PER_CALL. */
function frameChunks(count: number, columns: number, width: number): [number, number][] {
  const size = Math.max(1, Math.floor(LATTICE_VALUES_PER_CALL / Math.max(1, columns * width)));
  const chunks: [number, number][] = [];
  for (let start = 0; start < count; start += size) chunks.push([start, Math.min(count, start + size)]);
  return chunks;
}
/**
 * A TDT export does not record its durations; NeMo's TDT configs (Parakeet: [0, 1, 2, 3, 4])
 * use 0..N-1, which is what sherpa-onnx assumes too. Up to this many extra joint outputs are
 * read that way; more is taken for a vocabulary that does not belong to the model.
 */
export const MAX_ASSUMED_DURATIONS = 8;

function fixedDim(info: OnnxValueInfo | undefined, axis: number): number | null {
  const dim = info?.shape?.[axis];
  return dim && dim.value !== null && dim.value > 0 ? dim.value : null;
}

function stateInputs(facts: OnnxFileFacts): OnnxValueInfo[] {
  return facts.inputs.filter((i) => /state/i.test(i.name) || i.name.startsWith('onnx::LSTM'));
}

interface Network extends StatefulTransducerNetwork {
  lattice(frames: Float32Array, count: number, targets: number[]): Promise<Float32Array>;
  release(): Promise<void>;
}

/** An integer input as the model declares it: int64 (ONNX elem type 7) or int32 (NeMo's targets). */
function integerTensor(info: OnnxValueInfo | undefined, values: Int32Array | number[], dims: number[]): ort.Tensor {
  if (info?.elemType === 7) return new ort.Tensor('int64', BigInt64Array.from(Array.from(values, BigInt)), dims);
  return new ort.Tensor('int32', Int32Array.from(values), dims);
}

export async function createNemoTransducerEngine(
  config: NemoTransducerConfig,
  options: RuntimeOptions,
): Promise<Engine> {
  const { encoder, network: files, vocabulary } = config;
  const frontend = createFrontend(config.frontend);
  const audio = encoder.inputs.find((i) => i.name === 'audio_signal') ?? encoder.inputs[0];
  const lengthsInput = encoder.inputs.find((i) => i.name === 'length') ?? encoder.inputs.find((i) => i !== audio);
  if (encoder.inputs.length > 2) {
    throw new RoteError(
      `${encoder.path}: the encoder takes ${encoder.inputs.map((i) => i.name).join(', ')}: a cache-aware streaming export, which rote does not run; export the model for offline use (audio_signal and length only)`,
    );
  }
  if (!audio || !lengthsInput || encoder.outputs.length < 2) {
    throw new RoteError(
      `${encoder.path}: model input mismatch: rote feeds audio_signal [B, ${frontend.numBins}, T] float32 and length [B] int64 and reads outputs [B, D, T'] and encoded_lengths; the model declares inputs ${encoder.inputs.map(describeValueInfo).join(', ')} and outputs ${encoder.outputs.map(describeValueInfo).join(', ')}`,
    );
  }
  const bins = fixedDim(audio, 1);
  if (bins !== null && bins !== frontend.numBins) {
    throw new RoteError(
      `${encoder.path}: model input mismatch: ${describeValueInfo(audio)} wants ${bins} feature bins, the frontend makes ${frontend.numBins}`,
    );
  }
  const stateFacts = files.kind === 'decoder-joint' ? files.facts : files.decoder;
  const states = stateInputs(stateFacts);
  if (states.length !== 2) {
    throw new RoteError(
      `${stateFacts.path}: expected two LSTM state inputs [layers, batch, hidden] (NeMo's prediction network); the model declares ${stateFacts.inputs.map(describeValueInfo).join(', ')}`,
    );
  }
  const layers = fixedDim(states[0], 0) ?? config.declared.layers;
  const hidden = fixedDim(states[0], 2) ?? config.declared.hidden;
  if (layers === null || hidden === null) {
    throw new RoteError(
      `${stateFacts.path}: the state input ${describeValueInfo(states[0]!)} does not fix its layers and hidden size, and no pred_rnn_layers / pred_hidden metadata gives them`,
    );
  }
  const rowByRow = states.some((s) => fixedDim(s, 1) === 1);
  const stateSize = layers * hidden;
  /** Prediction-network inputs for a search step: per row its last label (length 1) and its states. */
  const stepFeeds = (
    targetsInfo: OnnxValueInfo,
    lengthInfo: OnnxValueInfo,
    labels: Int32Array,
    rows: Float32Array[],
    n: number,
  ): Record<string, ort.Tensor> => {
    const feeds: Record<string, ort.Tensor> = {
      [targetsInfo.name]: integerTensor(targetsInfo, labels, [n, 1]),
      [lengthInfo.name]: integerTensor(lengthInfo, new Int32Array(n).fill(1), [n]),
    };
    states.forEach((s, i) => {
      feeds[s.name] = new ort.Tensor('float32', stateRowsToLayerMajor(rows[i]!, layers, n, hidden), [
        layers,
        n,
        hidden,
      ]);
    });
    return feeds;
  };
  /** Prediction-network inputs for a lattice: one utterance's labels [1, U + 1] from zero states. */
  const sequenceFeeds = (
    targetsInfo: OnnxValueInfo,
    lengthInfo: OnnxValueInfo,
    labels: number[],
  ): Record<string, ort.Tensor> => {
    const feeds: Record<string, ort.Tensor> = {
      [targetsInfo.name]: integerTensor(targetsInfo, labels, [1, labels.length]),
      [lengthInfo.name]: integerTensor(lengthInfo, [labels.length], [1]),
    };
    states.forEach((st) => {
      feeds[st.name] = new ort.Tensor('float32', new Float32Array(stateSize), [layers, 1, hidden]);
    });
    return feeds;
  };

  const paths = [
    config.encoderFile,
    ...(files.kind === 'decoder-joint' ? [files.file] : [files.decoderFile, files.joinerFile]),
  ].map((n) => join(config.dir, n));
  const { sessions, report } = await createSessions(paths, options);
  const clock = new RunClock();
  const encoderSession = sessions[0]!;
  const release = async (): Promise<void> => {
    await Promise.all(sessions.map((s) => s.release()));
  };

  let network: Network;
  if (files.kind === 'decoder-joint') {
    const session = sessions[1]!;
    const f = files.facts;
    const byName = (name: string, fallback: number): OnnxValueInfo =>
      f.inputs.find((i) => i.name === name) ?? f.inputs[fallback]!;
    const [encInfo, targetsInfo, lengthInfo] = [
      byName('encoder_outputs', 0),
      byName('targets', 1),
      byName('target_length', 2),
    ];
    const encIn = encInfo.name;
    const outName = f.outputs[0]!.name;
    const stateOuts = f.outputs.slice(-2).map((o) => o.name);
    // NeMo declares encoder_outputs [B, D, T] and targets [B, U] with free T and U: the whole lattice fits one call.
    const wholeLattice = !config.latticeByCells && fixedDim(encInfo, 2) === null && fixedDim(targetsInfo, 1) === null;
    const call = async (
      frames: Float32Array,
      labels: Int32Array,
      rows: Float32Array[],
      n: number,
      encoderDim: number,
    ): Promise<StatefulStepResult> => {
      const feeds: Record<string, ort.Tensor> = {
        [encIn]: new ort.Tensor('float32', frames, [n, encoderDim, 1]),
        ...stepFeeds(targetsInfo, lengthInfo, labels, rows, n),
      };
      const out = await clock.run(
        session,
        feeds,
        () =>
          `${files.file} given encoder_outputs [${n}, ${encoderDim}, 1], targets [${n}, 1], states [${layers}, ${n}, ${hidden}]`,
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
      if (!rowByRow) return call(frames, labels, rows, n, encoderDim);
      const parts: StatefulStepResult[] = [];
      for (let r = 0; r < n; r++) {
        parts.push(
          await call(
            frames.slice(r * encoderDim, (r + 1) * encoderDim),
            labels.slice(r, r + 1),
            rows.map((s) => s.slice(r * stateSize, (r + 1) * stateSize)),
            1,
            encoderDim,
          ),
        );
      }
      return joinRows(parts);
    };
    network = {
      stateSizes: [stateSize, stateSize],
      step,
      async lattice(frames, count, targets) {
        const encoderDim = frames.length / count;
        const columns = targets.length + 1;
        const labels = [vocabulary.blankId, ...targets];
        if (wholeLattice) {
          // One call per chunk of frames: encoder_outputs [1, D, T] and targets [1, U + 1] = [blank, y_1..y_U]
          // from zero states; the LSTM reads the targets in order, so output [1, T, U + 1, W] is the lattice.
          const parts: Float32Array[] = [];
          for (const [start, end] of frameChunks(count, columns, width)) {
            const feeds: Record<string, ort.Tensor> = {
              [encIn]: new ort.Tensor(
                'float32',
                framesToBDT(frames.subarray(start * encoderDim, end * encoderDim), end - start, encoderDim),
                [1, encoderDim, end - start],
              ),
              ...sequenceFeeds(targetsInfo, lengthInfo, labels),
            };
            const out = await clock.run(
              session,
              feeds,
              () => `${files.file} given encoder_outputs [1, ${encoderDim}, ${end - start}], targets [1, ${columns}]`,
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
      release,
    };
  } else {
    const [decoderSession, joinerSession] = [sessions[1]!, sessions[2]!];
    const d = files.decoder;
    const j = files.joiner;
    const [targetsInfo, lengthInfo] = [
      d.inputs.find((i) => i.name === 'targets') ?? d.inputs[0]!,
      d.inputs.find((i) => i.name === 'target_length') ?? d.inputs[1]!,
    ];
    const decoderOut = d.outputs[0]!.name;
    const stateOuts = d.outputs.slice(-2).map((o) => o.name);
    // targets [B, U] with a free U: the prediction network reads a whole target sequence in one call.
    const sequenceDecoder = !config.latticeByCells && fixedDim(targetsInfo, 1) === null;
    const [joinEnc, joinDec] = [j.inputs[0]!.name, j.inputs[1]!.name];
    const joinOut = j.outputs[0]!.name;
    /** Prediction network on n rows -> outputs [n, H'] and the states after the labels. */
    const predictCall = async (
      labels: Int32Array,
      rows: Float32Array[],
      n: number,
    ): Promise<{ outputs: Float32Array; width: number; states: Float32Array[] }> => {
      const feeds = stepFeeds(targetsInfo, lengthInfo, labels, rows, n);
      const out = await clock.run(
        decoderSession,
        feeds,
        () => `${files.decoderFile} given targets [${n}, 1], states [${layers}, ${n}, ${hidden}]`,
      );
      const g = out[decoderOut] as ort.Tensor;
      return {
        outputs: g.data as Float32Array,
        width: g.dims[1]!,
        states: stateOuts.map((name) =>
          stateRowsFromLayerMajor((out[name] as ort.Tensor).data as Float32Array, layers, n, hidden),
        ),
      };
    };
    const predict = async (
      labels: Int32Array,
      rows: Float32Array[],
      n: number,
    ): Promise<{ outputs: Float32Array; width: number; states: Float32Array[] }> => {
      if (!rowByRow) return predictCall(labels, rows, n);
      const parts: { outputs: Float32Array; width: number; states: Float32Array[] }[] = [];
      for (let r = 0; r < n; r++)
        parts.push(
          await predictCall(
            labels.slice(r, r + 1),
            rows.map((s) => s.slice(r * stateSize, (r + 1) * stateSize)),
            1,
          ),
        );
      return {
        outputs: concat(parts.map((p) => p.outputs)),
        width: parts[0]!.width,
        states: [0, 1].map((i) => concat(parts.map((p) => p.states[i]!))),
      };
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
      const out = await clock.run(
        joinerSession,
        feeds,
        () =>
          `${files.joinerFile} given encoder_outputs [${batch}, ${encoderDim}, ${frames}], decoder_outputs [${batch}, ${predWidth}, ${columns}]`,
      );
      return (out[joinOut] as ort.Tensor).data as Float32Array;
    };
    // The prediction network's output per search row, rerun only after an emission (as sherpa-onnx does).
    let cache = new Map<string, { output: Float32Array; width: number; states: Float32Array[] }>();
    network = {
      stateSizes: [stateSize, stateSize],
      async step(frames, labels, rows, n, keys) {
        const encoderDim = frames.length / n;
        const stale = keys ? [...Array(n).keys()].filter((r) => !cache.has(keys[r]!)) : [...Array(n).keys()];
        const fresh = new Map<number, { output: Float32Array; width: number; states: Float32Array[] }>();
        if (stale.length > 0) {
          const predicted = await predict(
            Int32Array.from(stale, (r) => labels[r]!),
            rows.map((s) => pickRows(s, stale, stateSize)),
            stale.length,
          );
          stale.forEach((r, j) => {
            fresh.set(r, {
              output: predicted.outputs.slice(j * predicted.width, (j + 1) * predicted.width),
              width: predicted.width,
              states: predicted.states.map((s) => s.slice(j * stateSize, (j + 1) * stateSize)),
            });
          });
        }
        const entries = [...Array(n).keys()].map((r) => fresh.get(r) ?? cache.get(keys![r]!)!);
        if (keys) cache = new Map(entries.map((e, r) => [keys[r]!, e]));
        const width = entries[0]!.width;
        // [n, D] and [n, H'] are [n, D, 1] and [n, H', 1] as they lie in memory.
        const logits = await joinCall(frames, encoderDim, 1, concat(entries.map((e) => e.output)), width, 1, n);
        return { logits, states: [0, 1].map((i) => concat(entries.map((e) => e.states[i]!))) };
      },
      async lattice(frames, count, targets) {
        const encoderDim = frames.length / count;
        const columns = targets.length + 1;
        const labels = [vocabulary.blankId, ...targets];
        let decoderBHU: Float32Array;
        let predWidth: number;
        if (sequenceDecoder) {
          // One call: targets [1, U + 1] from zero states -> outputs [1, H', U + 1].
          const feeds = sequenceFeeds(targetsInfo, lengthInfo, labels);
          const g = (
            await clock.run(decoderSession, feeds, () => `${files.decoderFile} given targets [1, ${columns}]`)
          )[decoderOut] as ort.Tensor;
          decoderBHU = g.data as Float32Array;
          predWidth = g.dims[1]!;
        } else {
          let rows: Float32Array[] = [new Float32Array(stateSize), new Float32Array(stateSize)];
          const outputs: Float32Array[] = [];
          predWidth = 0;
          for (let u = 0; u < columns; u++) {
            const predicted = await predict(Int32Array.of(labels[u]!), rows, 1);
            outputs.push(predicted.outputs);
            predWidth = predicted.width;
            rows = predicted.states;
          }
          decoderBHU = new Float32Array(predWidth * columns);
          outputs.forEach((g, u) => {
            for (let k = 0; k < predWidth; k++) decoderBHU[k * columns + u] = g[k]!;
          });
        }
        // joiner: encoder_outputs [1, D, T] and decoder_outputs [1, H', U + 1] -> [1, T, U + 1, W], by chunks of frames.
        const parts: Float32Array[] = [];
        for (const [start, end] of frameChunks(count, columns, width)) {
          parts.push(
            await joinCall(
              framesToBDT(frames.subarray(start * encoderDim, end * encoderDim), end - start, encoderDim),
              encoderDim,
              end - start,
              decoderBHU,
              predWidth,
              columns,
              1,
            ),
          );
        }
        return concat(parts);
      },
      release,
    };
  }

  // A probe through the encoder and one joint step: output width (TDT?) and subsampling.
  const numClasses = vocabulary.pieces.length;
  const encoderNames = {
    audio: audio.name,
    lengths: lengthsInput.name,
    out: encoder.outputs[0]!.name,
    lengths_out: encoder.outputs[1]!.name,
  };
  const lengthsType = lengthsInput.elemType === 6 ? 'int32' : 'int64';
  async function encode(
    features: Float32Array,
    frames: number[],
    maxFrames: number,
    numBins: number,
  ): Promise<{ data: Float32Array; lengths: number[]; maxOut: number; dim: number }> {
    const n = frames.length;
    const bft = new Float32Array(n * numBins * maxFrames);
    for (let b = 0; b < n; b++) {
      const base = b * maxFrames * numBins;
      for (let t = 0; t < frames[b]!; t++)
        for (let f = 0; f < numBins; f++) bft[base + f * maxFrames + t] = features[base + t * numBins + f]!;
    }
    const lengths =
      lengthsType === 'int32'
        ? new ort.Tensor('int32', Int32Array.from(frames), [n])
        : new ort.Tensor('int64', BigInt64Array.from(frames.map(BigInt)), [n]);
    const out = await clock.run(
      encoderSession,
      {
        [encoderNames.audio]: new ort.Tensor('float32', bft, [n, numBins, maxFrames]),
        [encoderNames.lengths]: lengths,
      },
      () => `${config.encoderFile} given audio_signal [${n}, ${numBins}, ${maxFrames}]`,
    );
    const enc = out[encoderNames.out] as ort.Tensor;
    if (enc.dims.length !== 3 || enc.dims[0] !== n)
      throw new RoteError(
        `${encoder.path}: output ${encoderNames.out} has shape [${enc.dims.join(', ')}], expected [${n}, D, T']`,
      );
    const [dim, maxOut] = [enc.dims[1]!, enc.dims[2]!];
    const bdt = enc.data as Float32Array;
    const data = new Float32Array(n * maxOut * dim);
    for (let b = 0; b < n; b++)
      for (let k = 0; k < dim; k++)
        for (let t = 0; t < maxOut; t++) data[(b * maxOut + t) * dim + k] = bdt[(b * dim + k) * maxOut + t]!;
    const declared = Array.from(out[encoderNames.lengths_out]!.data as BigInt64Array | Int32Array, Number);
    return { data, lengths: declared.map((l) => Math.max(0, Math.min(l, maxOut))), maxOut, dim };
  }

  let width: number;
  let subsampling: number;
  try {
    const probeFrames = 256;
    const probe = await encode(
      new Float32Array(probeFrames * frontend.numBins),
      [probeFrames],
      probeFrames,
      frontend.numBins,
    );
    subsampling = config.declared.subsampling ?? Math.round(probeFrames / Math.max(1, probe.lengths[0]!));
    const first = await network.step(
      probe.data.slice(0, probe.dim),
      Int32Array.of(vocabulary.blankId),
      [new Float32Array(stateSize), new Float32Array(stateSize)],
      1,
    );
    width = first.logits.length;
  } catch (error) {
    await release();
    throw error;
  }
  clock.runMs = 0;
  clock.runs = 0;
  if (width < numClasses) {
    await release();
    throw new RoteError(
      `${config.vocabularyFile}: ${numClasses} tokens (blank included) but the joint outputs ${width} classes; use the tokens.txt / vocab.txt of this model`,
    );
  }
  let durations: number[] | null = null;
  const extra = width - numClasses;
  const detectedBecause = [...config.detectedBecause];
  if (extra > 0) {
    durations =
      config.declared.durations ?? (extra <= MAX_ASSUMED_DURATIONS ? Array.from({ length: extra }, (_, i) => i) : null);
    if (!durations || durations.length !== extra) {
      await release();
      throw new RoteError(
        `${config.vocabularyFile}: ${numClasses} tokens (blank included) but the joint outputs ${width} values: ${extra} more than the tokens. ` +
          `A TDT model has its duration logits there (rote reads up to ${MAX_ASSUMED_DURATIONS} as durations 0..N-1, or takes them from encoder metadata "durations"${config.declared.durations ? `, here ${config.declared.durations.length}` : ''}); otherwise the vocabulary file does not belong to this model`,
      );
    }
    detectedBecause.push(
      `TDT: the joint outputs ${width} = ${numClasses} token logits + ${extra} duration logits; durations ${durations.join(', ')}${config.declared.durations ? ' (metadata)' : " (0..N-1 as NeMo's TDT configs; the export does not record them)"}`,
    );
  } else {
    detectedBecause.push(`RNNT: the joint outputs ${width} = ${numClasses} token logits (blank last)`);
  }
  const maxSymbolsPerFrame = durations ? config.maxSymbolsPerFrame.tdt : config.maxSymbolsPerFrame.rnnt;
  detectedBecause.push(
    `greedy search as NeMo (state kept on blank, blank embedded as zeros), at most ${maxSymbolsPerFrame} symbol(s) per frame; ${layers}-layer LSTM prediction network, hidden ${hidden}${rowByRow ? '; a state input fixes batch 1, so the prediction network runs one utterance at a time' : ''}`,
  );
  detectedBecause.push(
    `reference score: teacher-forced ${durations ? 'TDT' : 'RNNT'} log-likelihood over the T x (U + 1) lattice`,
  );

  const fileList = await Promise.all(
    [
      config.encoderFile,
      ...(files.kind === 'decoder-joint' ? [files.file] : [files.decoderFile, files.joinerFile]),
      config.vocabularyFile,
    ].map(async (n) => ({ path: join(config.dir, n), sha256: await sha256File(join(config.dir, n)) })),
  );

  async function run(batch: FeatureBatch, targets?: (number[] | null)[]): Promise<UtteranceOutput[]> {
    const encoded = await encode(batch.features, batch.frames, batch.maxFrames, batch.numBins);
    const tokens = await statefulTransducerGreedy(encoded.data, encoded.lengths, encoded.maxOut, network, {
      blankId: vocabulary.blankId,
      numClasses,
      encoderDim: encoded.dim,
      maxSymbolsPerFrame,
      ...(durations ? { durations } : {}),
    });
    const outputs: UtteranceOutput[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const frames = encoded.lengths[i]!;
      let forcedLogLikelihood: number | null = null;
      const target = targets?.[i];
      if (target && target.length > 0 && frames > 0) {
        const start = i * encoded.maxOut * encoded.dim;
        const lattice = await network.lattice(
          encoded.data.subarray(start, start + frames * encoded.dim),
          frames,
          target,
        );
        forcedLogLikelihood = durations
          ? tdtForcedLogLikelihood(lattice, frames, target, vocabulary.blankId, numClasses, durations, width)
          : rnntForcedLogLikelihood(lattice, frames, target, vocabulary.blankId, numClasses, width);
      }
      outputs.push({ tokenIds: tokens[i]!, logProbs: null, outFrames: frames, forcedLogLikelihood });
    }
    return outputs;
  }

  return {
    info: {
      family: config.family,
      isCtc: false,
      dir: config.dir,
      files: fileList,
      frontend: config.frontend,
      vocabulary: { size: numClasses, blankId: vocabulary.blankId, kind: vocabulary.kind },
      subsampling,
      detectedBecause,
      decoder: durations ? { kind: 'tdt', durations } : { kind: 'rnnt' },
    },
    provider: report,
    frontend,
    vocabulary,
    clock,
    run,
    close: release,
  };
}

function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Float32Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** [T, D] frame-major -> [D, T] (one utterance's encoder output as NeMo's joints take it). */
function framesToBDT(frames: Float32Array, count: number, dim: number): Float32Array {
  const out = new Float32Array(dim * count);
  for (let t = 0; t < count; t++) for (let k = 0; k < dim; k++) out[k * count + t] = frames[t * dim + k]!;
  return out;
}

function pickRows(values: Float32Array, rows: number[], size: number): Float32Array {
  const out = new Float32Array(rows.length * size);
  rows.forEach((r, j) => out.set(values.subarray(r * size, (r + 1) * size), j * size));
  return out;
}

function joinRows(parts: StatefulStepResult[]): StatefulStepResult {
  return {
    logits: concat(parts.map((p) => p.logits)),
    states: parts[0]!.states.map((_, i) => concat(parts.map((p) => p.states[i]!))),
  };
}
