/**
 * The two scores an audit tests per canary: CER, and the model's reference score (negative
 * log-likelihood of the canary text per character, kept under the JSON key `modelScore`, `ctcScore` in reports of schema version 2): CTC forced
 * for CTC models, teacher-forced for transducers. What the model score is called, and which rows have it.
 */
import type { CanaryRow, ComparisonModel, ModelRecord, ReferenceScoreKind, ScoreName } from './types.ts';

const SCORE_KIND_LABELS: Record<ReferenceScoreKind, string> = {
  ctc: 'CTC score',
  rnnt: 'RNNT score',
  tdt: 'TDT score',
  transducer: 'transducer score',
  decoder: 'decoder score',
};

/** What the model's reference score is called: 'CTC score', 'RNNT score', 'TDT score', 'transducer score' or 'decoder score'. */
export function modelScoreLabel(model: Pick<ModelRecord, 'isCtc' | 'scoreKind'>): string {
  return SCORE_KIND_LABELS[model.scoreKind ?? (model.isCtc ? 'ctc' : 'transducer')];
}

/** The name of `score` for this model: 'CER' or the model score's name. */
export function scoreLabel(model: Pick<ModelRecord, 'isCtc' | 'scoreKind'>, score: ScoreName): string {
  return score === 'cer' ? 'CER' : modelScoreLabel(model);
}

/** Whether a row has `score` (CER always; the model score where it is a finite number). */
export function hasScore(row: CanaryRow, score: ScoreName): boolean {
  return score === 'cer' || (row.modelScore !== null && Number.isFinite(row.modelScore));
}

/** The model score of a pair of models: its name when both models have the same kind, else both names. */
export function pairScoreLabel(baseline: string, other: string): string {
  return baseline === other ? baseline : `model score (${baseline} / ${other})`;
}

/** A compared model's score name; comparisons written by older rotes lack it. */
export function comparisonScoreLabel(model: Pick<ComparisonModel, 'scoreLabel'>): string {
  return model.scoreLabel ?? 'model score';
}
