/**
 * The canary-set files this stage needs, read through src/canary's readers
 * (one validating reader in the code base): the for-training part for inject
 * (all a training team has) and the full set for verify. The receipt also
 * needs the sha256 of the file as stored, which those readers do not return,
 * so the file is hashed before and after the reader reads it: equal hashes
 * mean the reader saw exactly those bytes.
 * (For the lead: a `parseTrainingCanaries(bytes, path)` / `parseCanarySet`
 * export in src/canary/read.ts would let this read the file once.)
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RoteError } from '../util/errors.ts';
import { sha256Hex } from '../util/hash.ts';
import { readCanarySet, readTrainingCanaries } from '../canary/read.ts';
import type { CanarySet, TrainingCanaryList } from '../canary/types.ts';

export interface LoadedTrainingList {
  /** The for-training directory (audio paths are relative to it). */
  dir: string;
  list: TrainingCanaryList;
  /** sha256 of for-training/canaries.json as stored. */
  sha256: string;
}

export interface LoadedCanarySet {
  dir: string;
  set: CanarySet;
  /** sha256 of canary-set.json as stored. */
  sha256: string;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Runs `read` (which reads `file`) and returns its result with the sha256 of the bytes it read. */
async function readHashed<T>(file: string, read: () => Promise<T>): Promise<{ value: T; sha256: string }> {
  const hash = async (): Promise<string> => sha256Hex(await readFile(file));
  const before = await hash();
  const value = await read();
  if ((await hash()) !== before) throw new RoteError(`${file}: changed while rote was reading it; try again`);
  return { value, sha256: before };
}

/** Accepts a canary-set directory or its for-training/ directory. */
export async function loadTrainingList(path: string): Promise<LoadedTrainingList> {
  // The same choice as readTrainingCanaries, plus a set directory that lacks canary-set.json.
  const candidates = [resolve(path, 'for-training'), resolve(path)];
  if (!(await isFile(resolve(path, 'canary-set.json')))) candidates.reverse();
  for (const dir of candidates) {
    const file = join(dir, 'canaries.json');
    if (!(await isFile(file))) continue;
    const { value, sha256 } = await readHashed(file, () => readTrainingCanaries(dir));
    return { dir, list: value, sha256 };
  }
  throw new RoteError(
    `${path}: no canary list found (looked for ${candidates.map((dir) => join(dir, 'canaries.json')).join(' and ')}); pass a canary-set directory or its for-training/ directory`,
  );
}

/** The auditor's full set (held-out canaries included), from a canary-set directory. */
export async function loadFullCanarySet(path: string): Promise<LoadedCanarySet> {
  const file = resolve(path, 'canary-set.json');
  if (!(await isFile(file))) {
    const hint = (await isFile(join(path, 'canaries.json')))
      ? ' (this is a for-training directory: verify needs the full set, which lists the held-out canaries)'
      : '';
    throw new RoteError(`${path}: no canary-set.json${hint}; pass the canary-set directory written by rote generate`);
  }
  const { value, sha256 } = await readHashed(file, () => readCanarySet(resolve(path)));
  return { dir: resolve(path), set: value, sha256 };
}
