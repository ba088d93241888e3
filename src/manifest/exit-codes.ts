/**
 * Exit codes of `rote verify` beyond 0 (all as intended) and 2 (bad input), kept in the library as
 * AUDIT_EXIT_CODES are (src/audit/defaults.ts): a light module, so the CLI's help can name them.
 */
import type { VerificationReport } from './types.ts';

export const VERIFY_EXIT_CODES = {
  /** A held-out canary is in the manifest. */
  leak: 3,
  /** An inserted canary is there a different number of times than intended, or its audio was changed. */
  countMismatchOrTampered: 4,
  /** Canary audio could not be read and --allow-unverifiable was not given. */
  unverifiable: 5,
} as const;

/** The exit status of `rote verify` for a report: the most serious finding wins. */
export function verifyExitCode(report: VerificationReport): number {
  if (report.leaks.length > 0) return VERIFY_EXIT_CODES.leak;
  if (report.countMismatches.length > 0 || report.tampered.length > 0) return VERIFY_EXIT_CODES.countMismatchOrTampered;
  if (!report.ok) return VERIFY_EXIT_CODES.unverifiable;
  return 0;
}
