/**
 * Audio file loading for recognition: WAV through wav.ts, channels
 * averaged to mono, resampled to the frontend's rate, with a note for each
 * conversion so reports can say what was done to the input.
 */
import { readWav, readWavSync, type DecodedAudio } from './wav.ts';
import { resample } from './resample.ts';

export interface LoadedAudio {
  /** Mono samples in [-1, 1] at `sampleRate`. */
  samples: Float32Array;
  sampleRate: number;
  /** e.g. "downmixed 2 channels", "resampled 22050 -> 16000 Hz"; empty when the file was used as is. */
  notes: string[];
}

export async function loadAudio(path: string, targetRate: number): Promise<LoadedAudio> {
  return toTarget(await readWav(path), targetRate);
}

/** loadAudio with a synchronous read (see readWavSync): for recognition loops over many small files. */
export function loadAudioSync(path: string, targetRate: number): LoadedAudio {
  return toTarget(readWavSync(path), targetRate);
}

function toTarget(decoded: DecodedAudio, targetRate: number): LoadedAudio {
  const notes: string[] = [];
  if (decoded.channels > 1) notes.push(`downmixed ${decoded.channels} channels`);
  let samples = decoded.samples;
  if (decoded.sampleRate !== targetRate) {
    samples = resample(samples, decoded.sampleRate, targetRate);
    notes.push(`resampled ${decoded.sampleRate} -> ${targetRate} Hz`);
  }
  return { samples, sampleRate: targetRate, notes };
}
