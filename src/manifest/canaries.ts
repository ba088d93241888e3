/**
 * The canary-set files this stage needs, read through src/canary/canary-set.ts (the one module that
 * owns the set's layout): the for-training part for inject (all a training team has) and the full
 * set for verify, each with the sha256 of the bytes it was parsed from (for the receipt).
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { RoteError } from '../util/errors.ts';
import { explainLinkLoop } from '../util/output-guard.ts';
import { canarySetPaths, isTrainingDirectory, openCanarySet, openTrainingCanaries } from '../canary/canary-set.ts';
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
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw explainLinkLoop(error, path);
    return false;
  }
}

/** Accepts a canary-set directory or its for-training/ directory. */
export async function loadTrainingList(path: string): Promise<LoadedTrainingList> {
  const opened = await openTrainingCanaries(path);
  return { dir: opened.dir, list: opened.list, sha256: opened.hash };
}

/** The auditor's full set (held-out canaries included), from a canary-set directory. */
export async function loadFullCanarySet(path: string): Promise<LoadedCanarySet> {
  if (!(await isFile(canarySetPaths(resolve(path)).setFile))) {
    const hint = (await isTrainingDirectory(path))
      ? ' (this is a for-training directory: verify needs the full set, which lists the held-out canaries)'
      : '';
    throw new RoteError(`${path}: no canary-set.json${hint}; pass the canary-set directory written by rote generate`);
  }
  const opened = await openCanarySet(resolve(path));
  return { dir: opened.dir, set: opened.set, sha256: opened.hash };
}
