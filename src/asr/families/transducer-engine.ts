/**
 * The transducer base: every transducer layout is an encoder plus a prediction
 * network and joint, run by one greedy search (transducer-stateful.ts: RNNT, and TDT
 * with its durations) and scored by one teacher-forced forward (transducer-score.ts).
 * A layout (nemo-transducer.ts, sherpa-nemo-transducer.ts, sherpa-transducer.ts) gives
 * a TransducerAdapter: `encode` a padded batch, `step` the networks on search rows,
 * and build one utterance's T x (U + 1) joint `lattice`. This file probes the export
 * (subsampling when not recorded; the joint's width, which tells RNNT from TDT),
 * decodes and scores.
 */
import { RoteError } from '../../util/errors.ts';
import { openEngine, type EncoderOutput, type EngineSessions, type EngineSetup } from '../engine.ts';
import type { RuntimeOptions } from '../runtime.ts';
import { rnntForcedLogLikelihood, tdtForcedLogLikelihood } from '../transducer-score.ts';
import { statefulTransducerGreedy, type StatefulTransducerNetwork } from '../transducer-stateful.ts';
import type { Engine, FeatureBatch, UtteranceOutput } from './types.ts';

export interface TransducerNetwork extends StatefulTransducerNetwork {
  /**
   * Joint outputs over one utterance's grid: frames [count, encoderDim] against the
   * prediction network after blank, y_1, ..., y_U; returns [count, U + 1, width] row-major.
   */
  lattice(frames: Float32Array, count: number, targets: number[], width: number): Promise<Float32Array>;
}

export interface TransducerAdapter {
  encode(batch: FeatureBatch): Promise<EncoderOutput>;
  network: TransducerNetwork;
  /** Subsampling the export records; null: measured by a probe run on PROBE_FRAMES zero frames. */
  subsampling: number | null;
  /**
   * TDT durations: 'none' for layouts that have no duration outputs (a joint wider than the
   * vocabulary is then an error); else those the export records, or null to read up to
   * MAX_ASSUMED_DURATIONS extra joint outputs as durations 0..N-1.
   */
  durations: number[] | null | 'none';
  maxSymbolsPerFrame: { rnnt: number; tdt: number };
  /** A token read as blank by the search (sherpa-onnx's <unk> for icefall models). */
  unkId?: number;
  /** One line for the detection reasons: the search and the prediction network, given the symbols per frame. */
  describeSearch(maxSymbolsPerFrame: number): string;
}

export interface TransducerLayout extends EngineSetup {
  /** The vocabulary file, for errors when it does not match the joint. */
  vocabularyFile: string;
  open(sessions: EngineSessions): TransducerAdapter | Promise<TransducerAdapter>;
}

const PROBE_FRAMES = 256;

/**
 * A TDT export does not record its durations; NeMo's TDT configs (Parakeet: [0, 1, 2, 3, 4])
 * use 0..N-1, which is what sherpa-onnx assumes too. Up to this many extra joint outputs are
 * read that way; more is taken for a vocabulary that does not belong to the model.
 */
export const MAX_ASSUMED_DURATIONS = 8;

/** Joint outputs per lattice call at most (frames are split into chunks beyond it): 16 M floats, 64 MB. */
export const LATTICE_VALUES_PER_CALL = 16 * 1024 * 1024;

/** Frame chunks [start, end) so that frames x columns x width stays under LATTICE_VALUES_PER_CALL. */
export function frameChunks(count: number, columns: number, width: number): [number, number][] {
  const size = Math.max(1, Math.floor(LATTICE_VALUES_PER_CALL / Math.max(1, columns * width)));
  const chunks: [number, number][] = [];
  for (let start = 0; start < count; start += size) chunks.push([start, Math.min(count, start + size)]);
  return chunks;
}

export function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Float32Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Rows `rows` of a [n, size] row-major array. */
export function pickRows(values: Float32Array, rows: number[], size: number): Float32Array {
  const out = new Float32Array(rows.length * size);
  rows.forEach((r, j) => out.set(values.subarray(r * size, (r + 1) * size), j * size));
  return out;
}

export async function createTransducerEngine(layout: TransducerLayout, options: RuntimeOptions): Promise<Engine> {
  return openEngine(layout, options, async (sessions) => {
    const adapter = await layout.open(sessions);
    const { network } = adapter;
    const { vocabulary } = sessions;
    const numClasses = vocabulary.pieces.length;
    const numBins = sessions.frontend.numBins;
    // A probe through the encoder and one joint step: subsampling, and the joint's width (TDT?).
    const probe = await adapter.encode({
      features: new Float32Array(PROBE_FRAMES * numBins),
      frames: [PROBE_FRAMES],
      maxFrames: PROBE_FRAMES,
      numBins,
    });
    const subsampling = adapter.subsampling ?? Math.round(PROBE_FRAMES / Math.max(1, probe.lengths[0]!));
    const first = await network.step(
      probe.data.slice(0, probe.dim),
      Int32Array.of(vocabulary.blankId),
      network.stateSizes.map((size) => new Float32Array(size)),
      1,
    );
    const width = first.logits.length;
    const durations = tdtDurations(layout, adapter, width, numClasses);
    const because: string[] = [];
    if (adapter.durations !== 'none') {
      const extra = width - numClasses;
      because.push(
        durations
          ? `TDT: the joint outputs ${width} = ${numClasses} token logits + ${extra} duration logits; durations ${durations.join(', ')}${adapter.durations ? ' (metadata)' : " (0..N-1 as NeMo's TDT configs; the export does not record them)"}`
          : `RNNT: the joint outputs ${width} = ${numClasses} token logits (blank last)`,
      );
    }
    const maxSymbolsPerFrame = durations ? adapter.maxSymbolsPerFrame.tdt : adapter.maxSymbolsPerFrame.rnnt;
    because.push(adapter.describeSearch(maxSymbolsPerFrame));
    because.push(
      `reference score: teacher-forced ${durations ? 'TDT' : 'RNNT'} log-likelihood over the T x (U + 1) lattice`,
    );

    async function run(batch: FeatureBatch, targets?: (number[] | null)[]): Promise<UtteranceOutput[]> {
      const encoded = await adapter.encode(batch);
      const tokens = await statefulTransducerGreedy(encoded.data, encoded.lengths, encoded.maxOut, network, {
        blankId: vocabulary.blankId,
        numClasses,
        encoderDim: encoded.dim,
        maxSymbolsPerFrame,
        ...(durations ? { durations } : {}),
        ...(adapter.unkId !== undefined ? { unkId: adapter.unkId } : {}),
      });
      const outputs: UtteranceOutput[] = [];
      for (let i = 0; i < tokens.length; i++) {
        const frames = encoded.lengths[i]!;
        let forcedLogLikelihood: number | null = null;
        const target = targets?.[i];
        if (target && target.length > 0 && frames > 0) {
          const start = i * encoded.maxOut * encoded.dim;
          const frameData = encoded.data.subarray(start, start + frames * encoded.dim);
          const lattice = await network.lattice(frameData, frames, target, width);
          forcedLogLikelihood = durations
            ? tdtForcedLogLikelihood(lattice, frames, target, vocabulary.blankId, numClasses, durations, width)
            : rnntForcedLogLikelihood(lattice, frames, target, vocabulary.blankId, numClasses, width);
        }
        outputs.push({ tokenIds: tokens[i]!, logProbs: null, outFrames: frames, forcedLogLikelihood });
      }
      return outputs;
    }

    return {
      kind: 'transducer' as const,
      subsampling,
      because,
      // ModelInfo.decoder names NeMo's stateful RNNT / TDT; a stateless (icefall) transducer has none.
      ...(adapter.durations === 'none'
        ? {}
        : { decoder: durations ? { kind: 'tdt' as const, durations } : { kind: 'rnnt' as const } }),
      run,
    };
  });
}

/** The TDT durations a joint of this width holds, null for RNNT; a RoteError when the width does not fit. */
function tdtDurations(
  layout: TransducerLayout,
  adapter: TransducerAdapter,
  width: number,
  numClasses: number,
): number[] | null {
  const extra = width - numClasses;
  if (extra === 0) return null;
  if (extra < 0 || adapter.durations === 'none') {
    throw new RoteError(
      `${layout.vocabularyFile}: ${numClasses} tokens (blank included) but the joint outputs ${width} classes; use the tokens.txt / vocab.txt of this model`,
    );
  }
  const declared = adapter.durations;
  const durations = declared ?? (extra <= MAX_ASSUMED_DURATIONS ? Array.from({ length: extra }, (_, i) => i) : null);
  if (!durations || durations.length !== extra) {
    throw new RoteError(
      `${layout.vocabularyFile}: ${numClasses} tokens (blank included) but the joint outputs ${width} values: ${extra} more than the tokens. ` +
        `A TDT model has its duration logits there (rote reads up to ${MAX_ASSUMED_DURATIONS} as durations 0..N-1, or takes them from encoder metadata "durations"${declared ? `, here ${declared.length}` : ''}); otherwise the vocabulary file does not belong to this model`,
    );
  }
  return durations;
}
