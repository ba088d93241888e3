/**
 * The words of a report shared by the pipeline that writes it, compare and the renderers: group names,
 * p-values as printed, the normalization and the score-coverage line.
 */
import type { ScoreCoverage, ScoreName } from './types.ts';

export const NORMALIZATION_DESCRIPTION =
  'NFKC, lower case, apostrophes deleted, other punctuation and symbols (Unicode P, S) replaced by spaces, white space collapsed; CER over characters including spaces, WER over words; Levenshtein distance / reference length';

export function groupLabel(repetitions: number | null): string {
  if (repetitions === null) return 'held-out';
  return `${repetitions} repetition${repetitions === 1 ? '' : 's'}`;
}

export function formatP(p: number): string {
  if (p === 0) return '0';
  if (p < 1e-3) return p.toExponential(1);
  return p < 0.1 ? p.toFixed(4) : p.toFixed(2);
}

/** One line per score that had to leave canaries out, or was left out. */
export function coverageLine(entry: ScoreCoverage): string {
  return entry.note ?? `${entry.label}: all ${entry.canaries} canaries`;
}

/**
 * The name of each score's stream of seeded random draws (bootstrap forks). The model score's stream keeps
 * the name it had in reports of schema version 2 (`ctcScore`), so the same seed and rows give the same
 * intervals as before the rename, and numbers published from earlier runs can be reproduced.
 */
export const RANDOM_STREAM: Record<ScoreName, string> = { cer: 'cer', modelScore: 'ctcScore' };
