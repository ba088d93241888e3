/**
 * One utterance's features from its file: load (downmix, resample), compute,
 * check. The same function runs on the main thread (featureWorkers 0) and in
 * the feature workers (feature-worker.ts), so both give identical features.
 */
import { loadAudioSync, type FeatureMatrix, type Frontend } from '../audio/index.ts';
import { RoteError } from '../util/errors.ts';

export interface ExtractedFeatures {
  matrix: FeatureMatrix;
  /** Seconds of audio at the frontend's sample rate. */
  durationSec: number;
  /** What was done to the input (resampled, downmixed). */
  notes: string[];
}

/** Synchronous: reading a small WAV in one call costs less than a thread-pool round trip (see readWavSync). */
export function extractFeatures(frontend: Frontend, path: string): ExtractedFeatures {
  const audio = loadAudioSync(path, frontend.sampleRate);
  if (audio.samples.length === 0) throw new RoteError(`${path}: WAV file holds no samples`);
  const matrix = frontend.compute(audio.samples);
  if (matrix.numFrames === 0)
    throw new RoteError(`${path}: too short for one feature frame (${audio.samples.length} samples)`);
  return { matrix, durationSec: audio.samples.length / audio.sampleRate, notes: [...audio.notes] };
}
