/**
 * The manifest stage: training-manifest adapters, streaming canary injection
 * and receipt-free verification.
 */
export { injectCanaries, receiptPathFor, type InjectOptions } from './inject.ts';
export { verifyInjection, type VerifyOptions, type VerifyProgress } from './verify.ts';
export { VERIFY_EXIT_CODES, verifyExitCode } from './exit-codes.ts';
export { detectManifestFormat, detectFileFormat, expandManifestPaths } from './detect.ts';
export { RECORD_ADAPTERS, adapterFor } from './formats/index.ts';
export { isKaldiDir, kaldiUtterances } from './formats/kaldi.ts';
export { iterateRecords, scanBatches, scanRecords } from './stream/lines.ts';
export { normalizeText } from './ids.ts';
export { readManifest } from './read.ts';
export * from './types.ts';
