import type { ProviderChoice } from '../setup/providers.ts';

/** Defaults of audit() and `rote audit`; a light module, so the CLI can show them without loading the stage. */
export const AUDIT_DEFAULTS = {
  alpha: 0.01,
  confidence: 0.95,
  bootstrapResamples: 2000,
  seed: 'rote-audit',
  provider: 'auto' as ProviderChoice,
};

/** Defaults of the one-run ε lower bound (sets generated with --membership bernoulli): δ and the confidence of the bound. */
export const EPSILON_DEFAULTS = {
  delta: 1e-5,
  confidence: 0.95,
};

/**
 * An audit that detects nothing is inconclusive when more than this share of
 * its canaries cannot be recognized by the model at all (too fast for its
 * output frame rate): with them lost, "no memorization detected" would be a
 * false all-clear.
 */
export const INFEASIBLE_LIMIT = 0.1;

/** Exit codes of `rote audit` and `rote check-canaries` beyond 0 (done) and 2 (bad input). */
export const AUDIT_EXIT_CODES = {
  /** The audit refuses to conclude (verdict status 'inconclusive'); check-canaries: the set is not usable with this model. */
  inconclusive: 5,
} as const;
