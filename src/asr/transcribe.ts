/**
 * transcribeFiles: audio files in, one row per utterance out.
 *
 * Pipeline: every WAV header is probed first (lengths for planning; bad files
 * found before any work), utterances are batched by length (batching.ts), and
 * while ONNX Runtime runs batch k (session.run is asynchronous and runs off the
 * main thread) the main thread loads and computes the features of batch k + 1,
 * so the accelerator does not wait on feature extraction.
 * Rows come in processing order (longest utterances first), each with its id.
 */
import { loadAudio, type FeatureMatrix } from '../audio/index.ts';
import { RoteError } from '../util/errors.ts';
import { ctcForcedLogLikelihood, ctcMinimumFrames } from './ctc.ts';
import { DEFAULT_BATCH_FRAMES, padFeatures, planBatches } from './batching.ts';
import type { Engine } from './families/types.ts';
import { engineOf, type AsrModel } from './model.ts';
import { detokenize, tokenizeReference } from './vocabulary.ts';
import { probeWav } from './wav-probe.ts';

export interface TranscribeItem {
  id: string;
  path: string;
  /** Reference transcript: when given (and the model is CTC), the row carries its forced score. */
  reference?: string;
}

export interface ReferenceScore {
  /** ln P(reference | audio) under CTC (sum over all alignments). */
  logLikelihood: number;
  /** Reference length in model tokens and in characters (spaces between words included). */
  tokens: number;
  characters: number;
  /** logLikelihood / tokens and / characters (negate for a per-token / per-character NLL). */
  perToken: number;
  perCharacter: number;
}

export interface TranscriptionRow {
  id: string;
  path: string;
  hypothesis: string;
  tokenIds: number[];
  /** Duration of the file's audio in seconds. */
  durationSec: number;
  /** Feature frames given to the model. */
  frames: number;
  /** null for transducers, items without a reference, or a reference that cannot be aligned (see notes). */
  referenceScore: ReferenceScore | null;
  /** What was done to the input (resampled, downmixed) and to the reference (dropped characters). */
  notes: string[];
}

export interface SkippedItem {
  id: string;
  path: string;
  reason: string;
}

export interface TranscribeOptions {
  /** Padded feature frames per batch (batch size x longest utterance); default DEFAULT_BATCH_FRAMES. */
  batchFrames?: number;
  /** Skip unreadable / empty audio (reported through onSkip) instead of failing. */
  skipBad?: boolean;
  onProgress?: (done: number, total: number) => void;
  onSkip?: (skipped: SkippedItem) => void;
}

interface Prepared {
  items: TranscribeItem[];
  matrices: FeatureMatrix[];
  durations: number[];
  notes: string[][];
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Seconds spent inside session.run by this model so far, and how many runs. */
export function sessionRunTime(model: AsrModel): { seconds: number; runs: number } {
  const clock = engineOf(model).clock;
  return { seconds: clock.runMs / 1000, runs: clock.runs };
}

function scoreReference(engine: Engine, logProbs: Float32Array, outFrames: number, reference: string, notes: string[]): ReferenceScore | null {
  const tokens = tokenizeReference(engine.vocabulary, reference);
  notes.push(...tokens.notes);
  if (tokens.ids.length === 0) {
    notes.push('reference has no tokens in the model vocabulary; no score');
    return null;
  }
  const needed = ctcMinimumFrames(tokens.ids);
  if (needed > outFrames) {
    notes.push(`reference needs at least ${needed} output frames, the utterance has ${outFrames}; no score`);
    return null;
  }
  const vocabSize = engine.vocabulary.pieces.length;
  const logLikelihood = ctcForcedLogLikelihood(logProbs, outFrames, vocabSize, tokens.ids, engine.vocabulary.blankId);
  return {
    logLikelihood,
    tokens: tokens.ids.length,
    characters: tokens.characters,
    perToken: logLikelihood / tokens.ids.length,
    perCharacter: tokens.characters > 0 ? logLikelihood / tokens.characters : logLikelihood,
  };
}

export async function* transcribeFiles(model: AsrModel, items: TranscribeItem[], options: TranscribeOptions = {}): AsyncGenerator<TranscriptionRow> {
  const engine = engineOf(model);
  const batchFrames = options.batchFrames ?? DEFAULT_BATCH_FRAMES;
  if (!Number.isInteger(batchFrames) || batchFrames < 1) throw new RoteError(`--batch-frames must be a positive integer, got ${batchFrames}`);
  const { frontend } = engine;
  const total = items.length;
  let done = 0;
  const skip = (item: TranscribeItem, error: unknown): void => {
    if (!options.skipBad) throw error instanceof RoteError ? error : new RoteError(`${item.path}: ${errorMessage(error)}`, { cause: error });
    done++;
    options.onSkip?.({ id: item.id, path: item.path, reason: errorMessage(error) });
    options.onProgress?.(done, total);
  };

  // 1. Probe every header: lengths for planning, and bad files found up front.
  const usable: TranscribeItem[] = [];
  const estimatedFrames: number[] = [];
  for (const item of items) {
    try {
      const header = await probeWav(item.path);
      if (header.numSamples === 0) throw new RoteError(`${item.path}: WAV file holds no samples`);
      usable.push(item);
      estimatedFrames.push(frontend.framesFor(Math.round((header.numSamples * frontend.sampleRate) / header.sampleRate)));
    } catch (error) {
      skip(item, error);
    }
  }
  const batches = planBatches(estimatedFrames, batchFrames, engine.padSensitive ? 1 : undefined);

  // 2. Features of one batch (file reads are async; the DSP runs on this thread).
  const prepare = async (indices: number[]): Promise<Prepared> => {
    const prepared: Prepared = { items: [], matrices: [], durations: [], notes: [] };
    for (const index of indices) {
      const item = usable[index]!;
      try {
        const audio = await loadAudio(item.path, frontend.sampleRate);
        if (audio.samples.length === 0) throw new RoteError(`${item.path}: WAV file holds no samples`);
        const matrix = frontend.compute(audio.samples);
        if (matrix.numFrames === 0) throw new RoteError(`${item.path}: too short for one feature frame (${audio.samples.length} samples)`);
        prepared.items.push(item);
        prepared.matrices.push(matrix);
        prepared.durations.push(audio.samples.length / audio.sampleRate);
        prepared.notes.push([...audio.notes]);
      } catch (error) {
        skip(item, error);
      }
    }
    return prepared;
  };

  // 3. Run batch k while batch k + 1 is prepared.
  let next: Promise<Prepared> | null = batches.length > 0 ? prepare(batches[0]!) : null;
  for (let k = 0; k < batches.length; k++) {
    const current = await next!;
    if (current.items.length === 0) {
      next = k + 1 < batches.length ? prepare(batches[k + 1]!) : null;
      continue;
    }
    const running = engine.run(padFeatures(current.matrices));
    running.catch(() => undefined); // handled below; avoids an unhandled rejection while preparing
    next = k + 1 < batches.length ? prepare(batches[k + 1]!) : null;
    next?.catch(() => undefined);
    const outputs = await running;
    for (let i = 0; i < current.items.length; i++) {
      const item = current.items[i]!;
      const output = outputs[i]!;
      const notes = current.notes[i]!;
      const referenceScore =
        item.reference !== undefined && output.logProbs ? scoreReference(engine, output.logProbs, output.outFrames, item.reference, notes) : null;
      if (item.reference !== undefined && !output.logProbs) notes.push('reference score needs a CTC model; none for this transducer');
      done++;
      options.onProgress?.(done, total);
      yield {
        id: item.id,
        path: item.path,
        hypothesis: detokenize(engine.vocabulary, output.tokenIds),
        tokenIds: output.tokenIds,
        durationSec: current.durations[i]!,
        frames: current.matrices[i]!.numFrames,
        referenceScore,
        notes,
      };
    }
  }
}
