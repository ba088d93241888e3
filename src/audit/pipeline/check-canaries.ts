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
  /** False for attention encoder-decoders: their decoder emits tokens with no limit per output frame. */
  frameLimited: boolean;
  /**
   * The largest neededFrames / outputFrames of any canary whose text holds a character the model can emit (above 1:
   * infeasible; 0 when not frameLimited); null when no canary's text does (the frame budget of an empty token
   * sequence means nothing).
   */
  tightest: number | null;
  byGroup: {
    repetitions: number | null;
    count: number;
    infeasible: number;
    /** Canaries of the group with characters the vocabulary cannot emit. */
    unemittable: number;
    /** Characters of the group's texts the vocabulary cannot emit, in order of appearance. */
    missingCharacters: string[];
    /** As the report's tightest, over the group's canaries (null: none holds a character the model can emit). */
    tightest: number | null;
  }[];
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
    // A text the model emits no token of needs 0 frames: its ratio would read as the easiest fit, so it is left out.
    const tightest = (checks: CanaryCheck[]) => {
      const ratios = checks.filter((check) => check.budget.tokens > 0).map(ratio);
      return ratios.length > 0 ? Math.max(...ratios) : null;
    };
    const missingOf = (checks: CanaryCheck[]) => [
      ...new Set(checks.flatMap((check) => check.budget.missingCharacters)),
    ];
    const unemittable = (checks: CanaryCheck[]) =>
      checks.filter((check) => check.budget.missingCharacters.length > 0).length;
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
      missingCharacters: missingOf(canaries),
      unemittable: unemittable(canaries),
      limit: INFEASIBLE_LIMIT,
      usable: infeasible <= INFEASIBLE_LIMIT * canaries.length,
      frameLimited: model.info.decoder?.kind !== 'encoder-decoder',
      tightest: tightest(canaries),
      byGroup: keys.map((repetitions) => {
        const members = canaries.filter((check) => check.repetitions === repetitions);
        return {
          repetitions,
          count: members.length,
          infeasible: members.filter((check) => !check.budget.feasible).length,
          unemittable: unemittable(members),
          missingCharacters: missingOf(members),
          tightest: tightest(members),
        };
      }),
      powerWarnings: designWarnings({
        perGroup: Math.min(
          ...set.parameters.repetitions.map((r) => inserted.filter((canary) => canary.repetitions === r).length),
        ),
        groups,
        holdout: set.canaries.length - inserted.length,
        // CER, and the model score where the family has one (CTC, NeMo transducers, encoder-decoders).
        scores: model.info.isCtc || model.info.decoder ? 2 : 1,
        alpha,
      }),
    };
  } finally {
    await model.close();
  }
}
