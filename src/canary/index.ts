/**
 * Stage `canary`: seeded canary text, TTS (embedded espeak-ng wasm or an
 * external command), speed-up, and the canary-set format (see types.ts).
 */
export * from './types.ts';
export { generateCanarySet, type GenerateResult } from './generate.ts';
export { importCanarySet, parseCanaryList, type ImportCanariesOptions, type ImportResult } from './import.ts';
export {
  GENERATE_DEFAULTS,
  GENERATE_OPTION_SPECS,
  IMPORT_OPTION_SPECS,
  RECOMMENDED_MIN_HOLDOUT,
  resolveGenerateOptions,
  type GenerateOptionSpec,
  type OptionValueKind,
  type GenerateOptions,
  type GenerateProgress,
  type ResolvedGenerateOptions,
} from './options.ts';
export {
  canarySetPaths,
  openCanarySet,
  openTrainingCanaries,
  readCanarySet,
  readCanaryTexts,
  readTrainingCanaries,
  verifyCanaryAudio,
  type CanarySetPaths,
  type OpenedCanarySet,
  type OpenedTrainingCanaries,
} from './canary-set.ts';
export {
  synthesizeSpeech,
  EspeakEngine,
  getEspeakEngine,
  compileEspeakModule,
  ESPEAK_ENGINE_NAME,
  ESPEAK_SAMPLE_RATE,
  ESPEAK_WASM_VERSION,
  type SpeechOptions,
  type SynthesizedSpeech,
} from './espeak.ts';
export { synthesizeMany, SpeechSynthesisPool, defaultConcurrency, type SpeechItem } from './synthesis-pool.ts';
export { synthesizeWithCommand, shellQuote, COMMAND_PLACEHOLDERS } from './command-tts.ts';
export { speedUp, speedUpMany, type SpeedUpOptions } from './speedup.ts';
export { designLowPass, filterZeroPhase, antiAliasDesign, type LowPassDesign } from './speedup-resample.ts';
export { makeCanaryTexts, maxDistinctCanaries, type CanaryTextOptions } from './text.ts';
export { unscorableText } from './text-rules.ts';
export { loadWordList, loadExcludedWords, DEFAULT_WORDLIST_PATH, type WordList } from './words.ts';
export {
  DEFAULT_VOICES,
  ESPEAK_ENGLISH_BASES,
  ESPEAK_VARIANTS,
  listEspeakVoices,
  validateEspeakVoice,
  describeVoices,
} from './voices.ts';
export { canaryId, canonicalJson, computeSetId } from './canonical.ts';
