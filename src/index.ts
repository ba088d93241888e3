/**
 * rote's public API: one module per stage of the data path (each stage's index.ts).
 */
export { TOOL_VERSION } from './util/version.ts';
export { RoteError } from './util/errors.ts';
export { OptionError, resolveOption, type OptionSpec, type OptionValueKind } from './util/options.ts';
export * from './canary/types.ts';
export * from './canary/index.ts';
export * from './manifest/index.ts';
export * from './audio/index.ts';
export * from './asr/index.ts';
export * from './audit/index.ts';
