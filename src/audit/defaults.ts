import type { AuditProvider } from './types.ts';

/** Defaults of audit() and `rote audit`; a light module, so the CLI can show them without loading the stage. */
export const AUDIT_DEFAULTS = {
  alpha: 0.01,
  confidence: 0.95,
  bootstrapResamples: 2000,
  seed: 'rote-audit',
  provider: 'auto' as AuditProvider,
};
