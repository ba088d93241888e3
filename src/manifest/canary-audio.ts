/**
 * Canary audio for a manifest: placing canary WAVs in the audio dir (copied,
 * hard-linked, or resampled when the corpus rate differs).
 */
import { readFileSync } from 'node:fs';
import { copyFile, constants, link, rename, rm, writeFile } from 'node:fs/promises';
import { RoteError } from '../util/errors.ts';
import { sha256Hex } from '../util/hash.ts';
import { decodeWav, encodeWav16 } from '../audio/wav.ts';
import { resample } from '../audio/resample.ts';
import { writeError } from './write-error.ts';

export interface PreparedCanaryAudio {
  /** WAV bytes at the corpus rate (undefined when the source is used as is). */
  bytes?: Uint8Array;
  sourcePath: string;
  sampleRate: number;
  numSamples: number;
  resampled: boolean;
}

/**
 * Reads a canary's WAV, checks its hash against the set, and resamples it when
 * the corpus rate differs. Synchronous: for a few dozen small files one call
 * each costs less than thread-pool round trips (placing copies, which creates
 * files, is faster in parallel: placeCanaryAudio).
 */
export function prepareCanaryAudio(
  sourcePath: string,
  expectedSha256: string,
  targetRate: number,
): PreparedCanaryAudio {
  let bytes: Buffer;
  try {
    bytes = readFileSync(sourcePath);
  } catch (error) {
    throw new RoteError(
      `${sourcePath}: cannot read canary audio (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      { cause: error },
    );
  }
  if (sha256Hex(bytes) !== expectedSha256) {
    throw new RoteError(
      `${sourcePath}: sha256 differs from the canary list; the canary set was modified, regenerate or restore it`,
    );
  }
  const decoded = decodeWav(bytes, sourcePath);
  if (decoded.sampleRate === targetRate && decoded.channels === 1) {
    return { sourcePath, sampleRate: targetRate, numSamples: decoded.samples.length, resampled: false };
  }
  const samples =
    decoded.sampleRate === targetRate ? decoded.samples : resample(decoded.samples, decoded.sampleRate, targetRate);
  return {
    bytes: encodeWav16(samples, targetRate),
    sourcePath,
    sampleRate: targetRate,
    numSamples: samples.length,
    resampled: true,
  };
}

/**
 * Writes one copy to `target` (never overwriting): the resampled bytes, or the
 * source copied or hard-linked. Returns how it was placed.
 */
export async function placeCanaryAudio(
  prepared: PreparedCanaryAudio,
  target: string,
  linkFiles: boolean,
  firstCopy: string | undefined,
): Promise<'copy' | 'link' | 'resample'> {
  const source = prepared.bytes ? firstCopy : prepared.sourcePath;
  try {
    if (linkFiles && source) {
      try {
        await link(source, target);
        return prepared.bytes ? 'resample' : 'link';
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV' && (error as NodeJS.ErrnoException).code !== 'EPERM')
          throw error;
      }
    }
    if (prepared.bytes) {
      await writeFile(target, prepared.bytes, { flag: 'wx' });
      return 'resample';
    }
    await copyFile(prepared.sourcePath, target, constants.COPYFILE_EXCL);
    return 'copy';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      throw new RoteError(`${target}: already exists; rote never overwrites audio, use an empty --audio-dir`, {
        cause: error,
      });
    throw writeError(
      target,
      error,
      'cannot write canary audio; check that --audio-dir is a writable directory with free space',
    );
  }
}

/**
 * Moves staged copies to their names in the audio dir, never replacing a
 * file (a hard link to the new name, then the staged name goes with its
 * directory). Returns the paths placed so far through `placed`.
 */
export async function publishStagedAudio(moves: Array<{ from: string; to: string }>, placed: string[]): Promise<void> {
  for (const { from, to } of moves) {
    try {
      await link(from, to);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST')
        throw new RoteError(`${to}: already exists; rote never overwrites audio, use an empty --audio-dir`, {
          cause: error,
        });
      // A file system without hard links: a rename (the name was checked free when the ids were drawn).
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP')
        throw writeError(to, error, 'cannot place canary audio; check that --audio-dir is a writable directory');
      await rename(from, to).catch((failure: unknown) => {
        throw writeError(to, failure, 'cannot place canary audio; check that --audio-dir is a writable directory');
      });
    }
    placed.push(to);
  }
}

export async function removeQuietly(paths: string[]): Promise<void> {
  await Promise.all(paths.map((path) => rm(path, { force: true }).catch(() => undefined)));
}
