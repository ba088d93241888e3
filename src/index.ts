/**
 * rote's public API: one module per stage of the data path.
 */
export * from './canary/index.ts';
export { TOOL_VERSION } from './util/version.ts';
export { RoteError } from './util/errors.ts';
