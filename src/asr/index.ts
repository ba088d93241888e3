/**
 * The ASR stage (inference): ONNX Runtime sessions, the engine skeleton, model families
 * (NeMo CTC, sherpa-onnx CTC and transducer, NeMo RNNT/TDT in NeMo's and sherpa-onnx's
 * layouts, sidecar-described CTC), batching, decoding and vocabularies. The CUDA names
 * below are re-exported from src/setup, which finds and installs the provider.
 */
export type { ProviderChoice, ProviderName, ProviderReport, RuntimeOptions } from './runtime.ts';
export {
  AUTO_ORDER,
  PROVIDER_CHOICES,
  PROVIDER_NAMES,
  CUDA_PROVIDER_LIBRARIES,
  describeProviderReport,
  missingCudaProviderLibraries,
  ortBinaryDir,
  SETUP_CUDA_COMMAND,
} from './runtime.ts';
export {
  CUDA_PROVIDER_PACKAGE,
  cudaLibraryReport,
  loaderPathAdditions,
  type CudaLibraryReport,
  type LibraryLocation,
} from '../setup/cuda.ts';
export type { FamilyName, LoadModelOptions, ModelInfo } from './families/types.ts';
export { FAMILIES } from './families/registry.ts';
export { parseSidecar, type SidecarSpec } from './families/sidecar-ctc.ts';
export { loadModel, detectModel, type AsrModel } from './model.ts';
export {
  transcribeFiles,
  sessionRunTime,
  type ReferenceScore,
  type SkippedItem,
  type TranscribeItem,
  type TranscribeOptions,
  type TranscribeStats,
  type TranscriptionRow,
} from './transcribe.ts';
export { defaultFeatureWorkers } from './feature-pool.ts';
export { FeatureCache } from './feature-cache.ts';
export {
  featureFramesOfWav,
  referenceFrameBudget,
  TRANSDUCER_SYMBOLS_PER_FRAME,
  type FrameBudget,
} from './feasibility.ts';
export { ctcGreedy, ctcForcedLogLikelihood, ctcMinimumFrames, logSoftmaxRows } from './ctc.ts';
export { transducerGreedy, type TransducerGreedyOptions, type TransducerNetworks } from './transducer-greedy.ts';
export {
  statefulTransducerGreedy,
  type StatefulGreedyOptions,
  type StatefulTransducerNetwork,
} from './transducer-stateful.ts';
export { rnntForcedLogLikelihood, tdtForcedLogLikelihood } from './transducer-score.ts';
export {
  buildVocabulary,
  detokenize,
  loadVocabulary,
  parseTokenFile,
  tokenizeReference,
  type ReferenceTokens,
  type Vocabulary,
  type VocabularyKind,
} from './vocabulary.ts';
export {
  DEFAULT_BATCH_FRAMES,
  DEFAULT_CPU_BATCH_FRAMES,
  DEFAULT_MAX_DURATION_SEC,
  defaultBatchFrames,
  describeMemoryBudget,
  MAX_BATCH_SIZE,
  padFeatures,
  planBatches,
} from './batching.ts';
export {
  readOnnxFile,
  readOnnxBytes,
  withMetadata,
  describeValueInfo,
  type OnnxExternalFile,
  type OnnxFileFacts,
  type OnnxValueInfo,
  type OnnxDim,
} from './onnx-file.ts';
export { externalDataPath, externalDataStatus, type ExternalDataStatus } from './external-data.ts';
export {
  itemsFromPaths,
  readCanarySetItems,
  readListFile,
  writeTranscriptions,
  type TranscribeFileSummary,
  type WriteTranscriptionsOptions,
} from './transcribe-file.ts';
export { TRANSCRIBE_OPTION_SPECS } from './options.ts';
