/**
 * The audio stage: loading and resampling, and the feature frontends ASR
 * models were trained with (Kaldi fbank, NeMo mel, sherpa-onnx's NeMo variant).
 */
export type {
  FeatureMatrix,
  KaldiFbankOptions,
  KaldiWindow,
  NemoMelOptions,
  NemoWindow,
  SherpaNemoMelOptions,
} from './features/types.ts';
export {
  KALDI_FBANK_DEFAULTS,
  NEMO_MEL_DEFAULTS,
  NEMO_2_5_CONVENTIONS,
  SHERPA_NEMO_MEL_DEFAULTS,
  SHERPA_WENET_FBANK,
  WENET_FBANK,
} from './features/types.ts';
export type { Frontend, FrontendSpec } from './features/frontend.ts';
export {
  createFrontend,
  kaldiFbank,
  nemoMel,
  sherpaNemoMel,
  whisperLogMel,
  FRONTEND_TYPES,
} from './features/frontend.ts';
export { resample } from './resample.ts';
export { loadAudio, loadAudioSync, type LoadedAudio } from './load.ts';
