/**
 * Reading the canary-set files this stage needs: the for-training part for
 * inject (all a training team has) and the full set for verify.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RoteError } from '../util/errors.ts';
import { sha256Hex } from '../util/hash.ts';
import { CANARY_SET_FORMAT, type CanarySet, type TrainingCanaryList } from '../canary/types.ts';

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
  sha256: string;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function readJson(path: string): Promise<{ value: unknown; sha256: string }> {
  const bytes = await readFile(path);
  try {
    return { value: JSON.parse(bytes.toString('utf8')), sha256: sha256Hex(bytes) };
  } catch (error) {
    throw new RoteError(`${path}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

/** Accepts a canary-set directory or its for-training/ directory. */
export async function loadTrainingList(path: string): Promise<LoadedTrainingList> {
  const candidates = [resolve(path, 'canaries.json'), resolve(path, 'for-training', 'canaries.json')];
  for (const candidate of candidates) {
    if (!(await isFile(candidate))) continue;
    const { value, sha256 } = await readJson(candidate);
    const list = value as TrainingCanaryList;
    if (list?.format !== CANARY_SET_FORMAT || typeof list.setId !== 'string' || !Array.isArray(list.canaries) || !(list.sampleRate > 0)) {
      throw new RoteError(`${candidate}: not a rote training canary list (format ${CANARY_SET_FORMAT} with setId, sampleRate, canaries)`);
    }
    list.canaries.forEach((canary, index) => {
      if (typeof canary?.id !== 'string' || typeof canary.text !== 'string' || typeof canary.audio !== 'string' || !Number.isInteger(canary.repetitions) || canary.repetitions < 1) {
        throw new RoteError(`${candidate}: canaries[${index}] needs id, text, audio and a positive integer repetitions`);
      }
    });
    return { dir: resolve(candidate, '..'), list, sha256 };
  }
  throw new RoteError(`${path}: no canary list found (looked for ${candidates.join(' and ')}); pass a canary-set directory or its for-training/ directory`);
}

/** The auditor's full set (held-out canaries included), from a canary-set directory. */
export async function loadFullCanarySet(path: string): Promise<LoadedCanarySet> {
  const file = resolve(path, 'canary-set.json');
  if (!(await isFile(file))) {
    const hint = (await isFile(join(path, 'canaries.json'))) ? ' (this is a for-training directory: verify needs the full set, which lists the held-out canaries)' : '';
    throw new RoteError(`${path}: no canary-set.json${hint}; pass the canary-set directory written by rote generate`);
  }
  const { value, sha256 } = await readJson(file);
  const set = value as CanarySet;
  if (set?.format !== CANARY_SET_FORMAT || typeof set.setId !== 'string' || !Array.isArray(set.canaries)) {
    throw new RoteError(`${file}: not a rote canary set (format ${CANARY_SET_FORMAT} with setId and canaries)`);
  }
  return { dir: resolve(path), set, sha256 };
}
