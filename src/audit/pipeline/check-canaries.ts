/**
 * checkCanaries(): before anyone trains, can this model (or one of the same
 * architecture: frontend, subsampling, vocabulary) emit every canary of a set
 * at all (enough output frames for each text, and a vocabulary that holds
 * every character of the texts), and can the default audit and comparison reach alpha with the set's
 * group sizes? Reads WAV headers only; runs no inference.
 */
import { join } from 'node:path';
import { readCanarySet, unscorableText } from '../../canary/index.ts';
import { featureFramesOfWav, loadModel, referenceFrameBudget, type FrameBudget } from '../../asr/index.ts';
import { resolveOptions, type OptionsOf } from '../../util/options.ts';
import { INFEASIBLE_LIMIT } from '../defaults.ts';
import { CHECK_CANARIES_OPTION_SPECS } from '../options.ts';
import { designWarnings } from '../stats/power.ts';

/** canaries, model, provider and alpha (CHECK_CANARIES_OPTION_SPECS: types, defaults and help there). */
export type CheckCanariesOptions = OptionsOf<typeof CHECK_CANARIES_OPTION_SPECS>;

export interface CanaryCheck {
  id: string;
  repetitions: number | null;
  /** Not feasible when the text has nothing to score (empty after the audit's normalization). */
  budget: FrameBudget;
  /** The text is empty after the audit's normalization: no CER, never recognizable; counted infeasible. */
  unscorable: boolean;
}

export interface CanaryCheckReport {
  setId: string;
  modelDir: string;
  family: string;
  subsampling: number;
  canaries: CanaryCheck[];
  infeasible: number;
  /** Of the infeasible: canaries whose text has nothing to score. */
  unscorable: number;
  /** Share of canaries above which an audit that detects nothing is inconclusive. */
  limit: number;
  /** True when the set is usable with this model: infeasible canaries within the limit. */
  usable: boolean;
  /** Characters of canary texts the model's vocabulary cannot emit (their canaries are infeasible), in order of appearance. */
  missingCharacters: string[];
  /** Canaries infeasible because of missing characters (the others lack output frames). */
  unemittable: number;
  /** The largest neededFrames / outputFrames of any canary (above 1: infeasible). */
  tightest: number;
  byGroup: { repetitions: number | null; count: number; infeasible: number; tightest: number }[];
  /** The design's power warnings (see power.ts): tests of the default audit or compare that cannot reach alpha. */
  powerWarnings: string[];
}

export async function checkCanaries(options: CheckCanariesOptions): Promise<CanaryCheckReport> {
  const { provider, alpha } = resolveOptions(CHECK_CANARIES_OPTION_SPECS, options);
  const set = await readCanarySet(options.canaries);
  // The set's language reaches models told it in their prompt (Whisper), as in the audit.
  const model = await loadModel(options.model, {
    provider,
    ...(set.parameters.language ? { language: set.parameters.language } : {}),
  });
  try {
    const canaries: CanaryCheck[] = set.canaries.map((canary) => {
      const budget = referenceFrameBudget(
        model,
        canary.text,
        featureFramesOfWav(model, join(options.canaries, canary.audio)),
      );
      const unscorable = unscorableText(canary.text);
      return {
        id: canary.id,
        repetitions: canary.repetitions,
        budget: unscorable ? { ...budget, feasible: false } : budget,
        unscorable,
      };
    });
    const ratio = (check: CanaryCheck) => check.budget.neededFrames / Math.max(1, check.budget.outputFrames);
    const keys = [...new Set(canaries.map((check) => check.repetitions))].sort((a, b) =>
      a === null ? -1 : b === null ? 1 : a - b,
    );
    const infeasible = canaries.filter((check) => !check.budget.feasible).length;
    const inserted = set.canaries.filter((canary) => canary.repetitions !== null);
    const groups = set.parameters.repetitions.length;
    return {
      setId: set.setId,
      modelDir: options.model,
      family: model.info.family,
      subsampling: model.info.subsampling,
      canaries,
      infeasible,
      unscorable: canaries.filter((check) => check.unscorable).length,
      missingCharacters: [...new Set(canaries.flatMap((check) => check.budget.missingCharacters))],
      unemittable: canaries.filter((check) => check.budget.missingCharacters.length > 0).length,
      limit: INFEASIBLE_LIMIT,
      usable: infeasible <= INFEASIBLE_LIMIT * canaries.length,
      tightest: Math.max(...canaries.map(ratio)),
      byGroup: keys.map((repetitions) => {
        const members = canaries.filter((check) => check.repetitions === repetitions);
        return {
          repetitions,
          count: members.length,
          infeasible: members.filter((check) => !check.budget.feasible).length,
          tightest: Math.max(...members.map(ratio)),
        };
      }),
      powerWarnings: designWarnings({
        perGroup: Math.min(
          ...set.parameters.repetitions.map((r) => inserted.filter((canary) => canary.repetitions === r).length),
        ),
        groups,
        holdout: set.canaries.length - inserted.length,
        scores: model.info.isCtc ? 2 : 1,
        alpha,
      }),
    };
  } finally {
    await model.close();
  }
}
