/**
 * rote's public API: one module per stage of the data path (each stage's index.ts).
 */
export { TOOL_VERSION } from './util/version.ts';
export { RoteError } from './util/errors.ts';
export * from './canary/types.ts';
