/**
 * Feature matrices and the option schemas of the frontends, with their
 * defaults and validation (errors name the option and the accepted values).
 */
import { RoteError } from '../../util/errors.ts';

/** Frame-major features: `data[f * numBins + b]`. */
export interface FeatureMatrix {
  data: Float32Array;
  numFrames: number;
  numBins: number;
}

/**
 * Kaldi window names: 'hann' is Kaldi's "hanning" (symmetric, torchaudio's
 * 'hanning'); 'hann-periodic' is kaldi-native-fbank's "hann" (periodic, used by
 * sherpa-onnx's NeMo frontend).
 */
export type KaldiWindow = 'povey' | 'hann' | 'hann-periodic' | 'hamming' | 'rectangular' | 'blackman';

export interface KaldiFbankOptions {
  sampleRate: number;
  frameLengthMs: number;
  frameShiftMs: number;
  numBins: number;
  /** Hz. */
  lowFreq: number;
  /** Hz; <= 0 means Nyquist + highFreq (Kaldi's convention: -400 is 7600 Hz at 16 kHz). */
  highFreq: number;
  preemphasis: number;
  removeDcOffset: boolean;
  window: KaldiWindow;
  /** Gaussian dither stddev (in scaled sample units); 0 disables. Seeded by `ditherSeed`. */
  dither: number;
  ditherSeed: string;
  snipEdges: boolean;
  /** Floor of the energy column (only used with `useEnergy`); 0 disables. */
  energyFloor: number;
  /** Prepend log energy as column 0 (Kaldi's use_energy). */
  useEnergy: boolean;
  /** Energy before pre-emphasis and window (Kaldi's raw_energy). */
  rawEnergy: boolean;
  useLogFbank: boolean;
  usePower: boolean;
  roundToPowerOfTwo: boolean;
  /** Samples are multiplied by this first: 1 for [-1, 1] (icefall, sherpa), 32768 for WeNet. */
  scale: number;
  /** 'kaldi': Kaldi's HTK-scale mel banks; 'librosa-slaney': kaldi-native-fbank's is_librosa banks (Slaney scale and norm). */
  melBanks: 'kaldi' | 'librosa-slaney';
}

export const KALDI_FBANK_DEFAULTS: Readonly<KaldiFbankOptions> = Object.freeze({
  sampleRate: 16000,
  frameLengthMs: 25,
  frameShiftMs: 10,
  numBins: 80,
  lowFreq: 20,
  highFreq: -400,
  preemphasis: 0.97,
  removeDcOffset: true,
  window: 'povey',
  dither: 0,
  ditherSeed: 'rote-dither',
  snipEdges: false,
  energyFloor: 0,
  useEnergy: false,
  rawEnergy: true,
  useLogFbank: true,
  usePower: true,
  roundToPowerOfTwo: true,
  scale: 1,
  melBanks: 'kaldi',
});

export type NemoWindow = 'hann' | 'hamming' | 'blackman' | 'bartlett' | 'none';

export interface NemoMelOptions {
  sampleRate: number;
  nFft: number;
  /** Samples (NeMo's n_window_size: window_size * sample_rate). */
  windowLength: number;
  /** Samples (NeMo's n_window_stride). */
  hopLength: number;
  numBins: number;
  /** 0 disables (NeMo's preemph=None). */
  preemphasis: number;
  lowFreq: number;
  /** Hz; 0 means sampleRate / 2 (NeMo's highfreq=None). */
  highFreq: number;
  /** torch window with periodic=False, zero-padded centered to nFft. */
  window: NemoWindow;
  melNorm: 'slaney' | 'none';
  /** 2 = power spectrum (NeMo's mag_power). */
  magPower: number;
  log: boolean;
  logZeroGuard: number;
  logZeroGuardType: 'add' | 'clamp';
  normalize: 'per_feature' | 'none';
  variance: 'unbiased' | 'population';
  /**
   * torch.stft(center=True) padding: 'reflect' up to NeMo 2.4, 'constant'
   * (zeros) from NeMo 2.5 (PR #13827, July 2025).
   */
  padMode: 'reflect' | 'constant';
  /**
   * NeMo >= 2.5 counts floor(len / hop) valid frames (the last STFT frame is
   * padding, excluded from normalization); up to 2.4 it counts floor(len / hop) + 1.
   */
  dropFinalFrame: boolean;
  /** Dither stddev (NeMo applies it only in training); 0 disables. */
  dither: number;
  ditherSeed: string;
}

export const NEMO_MEL_DEFAULTS: Readonly<NemoMelOptions> = Object.freeze({
  sampleRate: 16000,
  nFft: 512,
  windowLength: 400,
  hopLength: 160,
  numBins: 80,
  preemphasis: 0.97,
  lowFreq: 0,
  highFreq: 0,
  window: 'hann',
  melNorm: 'slaney',
  magPower: 2,
  log: true,
  logZeroGuard: 2 ** -24,
  logZeroGuardType: 'add',
  normalize: 'per_feature',
  variance: 'unbiased',
  padMode: 'reflect',
  dropFinalFrame: false,
  dither: 0,
  ditherSeed: 'rote-dither',
});

/** The two NeMo >= 2.5 changes in one object: `nemoMel(x, { ...NEMO_2_5_CONVENTIONS })`. */
export const NEMO_2_5_CONVENTIONS: Readonly<Pick<NemoMelOptions, 'padMode' | 'dropFinalFrame'>> = Object.freeze({
  padMode: 'constant',
  dropFinalFrame: true,
});

/** sherpa-onnx's NeMo frontend: kaldi-native-fbank options plus NeMo-style normalization. */
export interface SherpaNemoMelOptions extends KaldiFbankOptions {
  normalize: 'per_feature' | 'none';
  variance: 'unbiased' | 'population';
}

/** What sherpa-onnx sets for NeMo CTC models (offline-recognizer-ctc-impl, offline-stream.cc). */
export const SHERPA_NEMO_MEL_DEFAULTS: Readonly<SherpaNemoMelOptions> = Object.freeze({
  ...KALDI_FBANK_DEFAULTS,
  lowFreq: 0,
  highFreq: 0,
  removeDcOffset: false,
  window: 'hann-periodic',
  melBanks: 'librosa-slaney',
  normalize: 'per_feature',
  variance: 'population',
});

/**
 * WeNet's own fbank (wenet/dataset/processor.py compute_fbank at decode time): samples * 32768
 * into torchaudio's kaldi.fbank with its defaults (snip_edges true, high_freq 0 = Nyquist),
 * dither 0. Options over KALDI_FBANK_DEFAULTS; numBins is the model's.
 */
export const WENET_FBANK: Readonly<Partial<KaldiFbankOptions>> = Object.freeze({
  scale: 32768,
  snipEdges: true,
  highFreq: 0,
});

/** sherpa-onnx's fbank for WeNet CTC exports: its defaults with normalize_samples = false (samples * 32768). */
export const SHERPA_WENET_FBANK: Readonly<Partial<KaldiFbankOptions>> = Object.freeze({ scale: 32768 });

function fail(frontend: string, field: string, value: unknown, expected: string): never {
  throw new RoteError(`${frontend} option ${field}: got ${JSON.stringify(value)}, expected ${expected}`);
}

function checkNumber(
  frontend: string,
  field: string,
  value: unknown,
  test: (n: number) => boolean,
  expected: string,
): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !test(value)) fail(frontend, field, value, expected);
}

function checkEnum(frontend: string, field: string, value: unknown, allowed: readonly string[]): void {
  if (typeof value !== 'string' || !allowed.includes(value))
    fail(frontend, field, value, `one of ${allowed.join(', ')}`);
}

function checkBoolean(frontend: string, field: string, value: unknown): void {
  if (typeof value !== 'boolean') fail(frontend, field, value, 'true or false');
}

function checkKnownKeys(frontend: string, options: object, defaults: object): void {
  for (const key of Object.keys(options)) {
    if (key === 'type') continue;
    if (!(key in defaults))
      throw new RoteError(`${frontend}: unknown option "${key}" (known: ${Object.keys(defaults).join(', ')})`);
  }
}

function definedOnly<T extends object>(options: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function resolveKaldiFbankOptions(
  options: Partial<KaldiFbankOptions> = {},
  frontend = 'kaldi-fbank',
  defaults: Readonly<KaldiFbankOptions> = KALDI_FBANK_DEFAULTS,
): KaldiFbankOptions {
  checkKnownKeys(frontend, options, defaults);
  const o: KaldiFbankOptions = { ...defaults, ...definedOnly(options) };
  checkNumber(frontend, 'sampleRate', o.sampleRate, (n) => n > 0, 'a positive number of Hz');
  checkNumber(frontend, 'frameLengthMs', o.frameLengthMs, (n) => n > 0, 'a positive number of ms');
  checkNumber(frontend, 'frameShiftMs', o.frameShiftMs, (n) => n > 0, 'a positive number of ms');
  checkNumber(frontend, 'numBins', o.numBins, (n) => Number.isInteger(n) && n >= 3, 'an integer >= 3');
  const nyquist = o.sampleRate / 2;
  const high = o.highFreq > 0 ? o.highFreq : nyquist + o.highFreq;
  checkNumber(frontend, 'lowFreq', o.lowFreq, (n) => n >= 0 && n < nyquist, `a frequency in [0, ${nyquist}) Hz`);
  checkNumber(
    frontend,
    'highFreq',
    o.highFreq,
    () => high > o.lowFreq && high <= nyquist,
    `> lowFreq and <= Nyquist (${nyquist} Hz) after applying the <= 0 offset convention`,
  );
  checkNumber(frontend, 'preemphasis', o.preemphasis, (n) => n >= 0 && n <= 1, 'a number in [0, 1]');
  checkBoolean(frontend, 'removeDcOffset', o.removeDcOffset);
  checkEnum(frontend, 'window', o.window, ['povey', 'hann', 'hann-periodic', 'hamming', 'rectangular', 'blackman']);
  checkNumber(frontend, 'dither', o.dither, (n) => n >= 0, 'a number >= 0');
  if (typeof o.ditherSeed !== 'string') fail(frontend, 'ditherSeed', o.ditherSeed, 'a string');
  checkBoolean(frontend, 'snipEdges', o.snipEdges);
  checkNumber(frontend, 'energyFloor', o.energyFloor, (n) => n >= 0, 'a number >= 0');
  checkBoolean(frontend, 'useEnergy', o.useEnergy);
  checkBoolean(frontend, 'rawEnergy', o.rawEnergy);
  checkBoolean(frontend, 'useLogFbank', o.useLogFbank);
  checkBoolean(frontend, 'usePower', o.usePower);
  checkBoolean(frontend, 'roundToPowerOfTwo', o.roundToPowerOfTwo);
  checkNumber(frontend, 'scale', o.scale, (n) => n > 0, 'a positive number');
  checkEnum(frontend, 'melBanks', o.melBanks, ['kaldi', 'librosa-slaney']);
  const frameLength = kaldiFrameLength(o);
  if (frameLength < 2) fail(frontend, 'frameLengthMs', o.frameLengthMs, 'at least 2 samples at this sample rate');
  if (kaldiFrameShift(o) < 1) fail(frontend, 'frameShiftMs', o.frameShiftMs, 'at least 1 sample at this sample rate');
  return o;
}

export function resolveSherpaNemoMelOptions(options: Partial<SherpaNemoMelOptions> = {}): SherpaNemoMelOptions {
  const { normalize, variance, ...fbank } = { ...SHERPA_NEMO_MEL_DEFAULTS, ...definedOnly(options) };
  checkKnownKeys('sherpa-nemo-mel', options, SHERPA_NEMO_MEL_DEFAULTS);
  checkEnum('sherpa-nemo-mel', 'normalize', normalize, ['per_feature', 'none']);
  checkEnum('sherpa-nemo-mel', 'variance', variance, ['unbiased', 'population']);
  return { ...resolveKaldiFbankOptions(fbank, 'sherpa-nemo-mel', SHERPA_NEMO_MEL_DEFAULTS), normalize, variance };
}

export function resolveNemoMelOptions(options: Partial<NemoMelOptions> = {}): NemoMelOptions {
  const frontend = 'nemo-mel';
  checkKnownKeys(frontend, options, NEMO_MEL_DEFAULTS);
  const o: NemoMelOptions = { ...NEMO_MEL_DEFAULTS, ...definedOnly(options) };
  checkNumber(frontend, 'sampleRate', o.sampleRate, (n) => n > 0, 'a positive number of Hz');
  checkNumber(
    frontend,
    'nFft',
    o.nFft,
    (n) => Number.isInteger(n) && n >= 8 && (n & (n - 1)) === 0,
    'a power of two >= 8',
  );
  checkNumber(
    frontend,
    'windowLength',
    o.windowLength,
    (n) => Number.isInteger(n) && n >= 1 && n <= o.nFft,
    `an integer number of samples in [1, nFft=${o.nFft}]`,
  );
  checkNumber(
    frontend,
    'hopLength',
    o.hopLength,
    (n) => Number.isInteger(n) && n >= 1,
    'a positive integer number of samples',
  );
  checkNumber(frontend, 'numBins', o.numBins, (n) => Number.isInteger(n) && n >= 1, 'a positive integer');
  checkNumber(frontend, 'preemphasis', o.preemphasis, (n) => n >= 0 && n <= 1, 'a number in [0, 1]');
  const high = o.highFreq || o.sampleRate / 2;
  checkNumber(frontend, 'lowFreq', o.lowFreq, (n) => n >= 0 && n < high, `a frequency in [0, highFreq=${high})`);
  checkNumber(frontend, 'highFreq', o.highFreq, (n) => n >= 0, 'a frequency in Hz (0 = sampleRate / 2)');
  checkEnum(frontend, 'window', o.window, ['hann', 'hamming', 'blackman', 'bartlett', 'none']);
  checkEnum(frontend, 'melNorm', o.melNorm, ['slaney', 'none']);
  checkNumber(frontend, 'magPower', o.magPower, (n) => n > 0, 'a positive number');
  checkBoolean(frontend, 'log', o.log);
  checkNumber(frontend, 'logZeroGuard', o.logZeroGuard, (n) => n > 0, 'a positive number');
  checkEnum(frontend, 'logZeroGuardType', o.logZeroGuardType, ['add', 'clamp']);
  checkEnum(frontend, 'normalize', o.normalize, ['per_feature', 'none']);
  checkEnum(frontend, 'variance', o.variance, ['unbiased', 'population']);
  checkEnum(frontend, 'padMode', o.padMode, ['reflect', 'constant']);
  checkBoolean(frontend, 'dropFinalFrame', o.dropFinalFrame);
  checkNumber(frontend, 'dither', o.dither, (n) => n >= 0, 'a number >= 0');
  if (typeof o.ditherSeed !== 'string') fail(frontend, 'ditherSeed', o.ditherSeed, 'a string');
  return o;
}

/** Kaldi truncates samp_freq * 0.001 * ms to an integer; the epsilon keeps 16000 * 0.025 at 400. */
export function kaldiFrameLength(o: Pick<KaldiFbankOptions, 'sampleRate' | 'frameLengthMs'>): number {
  return Math.floor(o.sampleRate * 0.001 * o.frameLengthMs + 1e-6);
}

export function kaldiFrameShift(o: Pick<KaldiFbankOptions, 'sampleRate' | 'frameShiftMs'>): number {
  return Math.floor(o.sampleRate * 0.001 * o.frameShiftMs + 1e-6);
}
