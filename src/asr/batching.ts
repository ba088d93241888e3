/**
 * Batching: utterances sorted by length (longest first), grouped so that each
 * batch's padded size (batch size x longest utterance, in feature frames) stays
 * within a budget, then padded with zeros into one [batch, frames, bins] array.
 * Pure functions.
 */
import type { FeatureMatrix, Frontend } from '../audio/index.ts';
import type { FeatureBatch } from './families/types.ts';

/** Default padded feature frames per batch on GPU providers: 100 s of audio at a 10 ms hop. */
export const DEFAULT_BATCH_FRAMES = 10000;
/**
 * Default on the CPU provider: 25 s. Smaller batches stay in the CPU caches;
 * on 2 cores (scripts/bench/RESULTS.md, transcribe) session.run took ~15%
 * less time than at 10000 frames, and far less than unbatched.
 */
export const DEFAULT_CPU_BATCH_FRAMES = 2500;

/**
 * Windows per batch, at least, by default for a model that reads a fixed window (Whisper: every
 * utterance is padded to 30 s, 3000 frames, more than the CPU budget). The cached decoder steps
 * then run once per batch instead of once per canary; the encoder costs the same per window, and
 * memory grows with the batch. On 2 cores (scripts/bench/RESULTS.md, whisper; whisper-tiny's
 * size) 1, 2, 4 and 8 windows per batch transcribed 2.36, 2.85, 2.95 and 3.12 files/s, with a
 * peak memory of 1.2 GB at 1, 2.1 at 4 and 2.6 at 8.
 */
export const DEFAULT_WINDOWS_PER_BATCH = 4;

/**
 * The default budget on `provider`; `windowFrames` is the fixed window of a model that pads every
 * utterance to one (fixedWindowFrames), 0 for the others.
 */
export function defaultBatchFrames(provider: string, windowFrames = 0): number {
  const base = provider === 'cpu' ? DEFAULT_CPU_BATCH_FRAMES : DEFAULT_BATCH_FRAMES;
  return Math.max(base, DEFAULT_WINDOWS_PER_BATCH * windowFrames);
}

/** The frames of the fixed window a frontend pads every utterance to (Whisper's log-mel: 3000), 0 when frames grow with the audio. */
export function fixedWindowFrames(frontend: Frontend): number {
  const frames = frontend.framesFor(frontend.sampleRate);
  return frames === frontend.framesFor(2 * frontend.sampleRate) ? frames : 0;
}

/**
 * Feature frames per 10 ms of audio, what a budget in 10 ms frames is scaled by: 1 for the
 * filterbanks (10 ms hop), 160 for a 16 kHz waveform. A fixed-window frontend's frames do not
 * grow with the audio; Whisper's are 10 ms frames (hop 160 at 16 kHz), counted as 1.
 */
export function framesPer10ms(frontend: Frontend): number {
  const perSecond = frontend.framesFor(2 * frontend.sampleRate) - frontend.framesFor(frontend.sampleRate);
  return Math.max(1, Math.round(perSecond / 100));
}
/**
 * Longest utterance transcribed by default, in seconds. Attention memory grows with the square of the length:
 * peak resident memory of \`rote transcribe\` with the 3M-parameter reference Conformer-CTC (models/baseline, cpu,
 * 1 thread, one utterance of pink noise; /usr/bin/time, see docs/reliability.md) was 0.17 GB at 10 s, 0.24 GB at
 * 30 s, 0.49 GB at 60 s and 1.41 GB at 120 s (about 0.14 + 0.00093 T + 0.00008 T^2 GB), so 600 s would need ~30 GB.
 * Canaries are a few seconds long; corpus utterances rarely exceed 35 s.
 */
export const DEFAULT_MAX_DURATION_SEC = 60;

/**
 * The memory budget in words, for --help: padded frames per batch bound the memory that grows with length,
 * the longest utterance bounds the memory that grows with its square.
 */
export function describeMemoryBudget(): string {
  return (
    'memory budget: a batch holds at most --batch-frames padded feature frames (an utterance longer than that runs alone), ' +
    `and no utterance is longer than --max-duration (default ${DEFAULT_MAX_DURATION_SEC} s; attention memory grows with the square of the length). ` +
    'Measured peak memory with the 3M-parameter reference Conformer on cpu: 0.24 GB at 30 s, 0.49 GB at 60 s, 1.4 GB at 120 s; larger models need more'
  );
}

/** Upper bound on utterances per batch, whatever the budget. */
export const MAX_BATCH_SIZE = 256;

/**
 * Groups utterance indices into batches. `frames[i]` is utterance i's feature
 * frame count. Longest first; a batch grows while (size + 1) x its longest
 * utterance fits in `batchFrames` (an utterance longer than the budget gets a
 * batch of its own). Every index appears exactly once.
 */
export function planBatches(frames: readonly number[], batchFrames: number, maxBatchSize = MAX_BATCH_SIZE): number[][] {
  if (!(batchFrames > 0)) throw new RangeError(`batchFrames must be positive, got ${batchFrames}`);
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1)
    throw new RangeError(`maxBatchSize must be a positive integer, got ${maxBatchSize}`);
  const order = frames.map((_, i) => i).sort((a, b) => frames[b]! - frames[a]! || a - b);
  const batches: number[][] = [];
  let current: number[] = [];
  let longest = 0;
  for (const index of order) {
    const length = Math.max(1, frames[index]!);
    const newLongest = Math.max(longest, length);
    if (current.length > 0 && ((current.length + 1) * newLongest > batchFrames || current.length >= maxBatchSize)) {
      batches.push(current);
      current = [];
      longest = 0;
    }
    current.push(index);
    longest = Math.max(longest, length);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Pads feature matrices (same numBins) into one zero-padded batch. */
export function padFeatures(matrices: readonly FeatureMatrix[]): FeatureBatch {
  if (matrices.length === 0) throw new RangeError('padFeatures needs at least one matrix');
  const numBins = matrices[0]!.numBins;
  const maxFrames = Math.max(1, ...matrices.map((m) => m.numFrames));
  const features = new Float32Array(matrices.length * maxFrames * numBins);
  matrices.forEach((m, b) => {
    if (m.numBins !== numBins) throw new RangeError(`matrix ${b} has ${m.numBins} bins, expected ${numBins}`);
    features.set(m.data.subarray(0, m.numFrames * numBins), b * maxFrames * numBins);
  });
  return { features, frames: matrices.map((m) => m.numFrames), maxFrames, numBins };
}
