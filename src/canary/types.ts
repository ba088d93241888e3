/**
 * The canary-set format: the contract between `generate` (which writes it),
 * `inject` / `verify` (which read its for-training part) and `audit` (which
 * reads the whole set). Bump CANARY_SET_FORMAT on any incompatible change.
 *
 * The layout of a canary-set directory (canary-set.json, audio/, for-training/) and
 * its reading, validation and writing belong to canary-set.ts.
 */
export const CANARY_SET_FORMAT = 1;

export type SpeedMethod = 'tempo' | 'resample';
export const SPEED_METHODS: readonly SpeedMethod[] = ['tempo', 'resample'];

export interface TtsRecord {
  /** 'espeak-ng-wasm' or 'command'. */
  engine: string;
  /** Engine version (package version, or the user's `--tts-version`/command string). */
  version: string;
  voice: string;
  rate: number;
  pitch: number;
}

export interface CanaryRecord {
  /** Opaque id that does not reveal the group (e.g. 'c3f9a2b1'). */
  id: string;
  text: string;
  /** Repetition count in training; null for the held-out group. */
  repetitions: number | null;
  /** Audio path relative to the set directory, e.g. 'audio/c3f9a2b1.wav'. */
  audio: string;
  /** Duration of the sped-up audio in seconds. */
  durationSec: number;
  sha256: string;
  tts: TtsRecord;
  /** Language of this canary when an imported list gives one per row (else the set's parameters.language). */
  language?: string;
  /** The canary's id in the list it was imported from (rote import-canaries; absent for generated canaries). Never given to the training team. */
  importedId?: string;
}

export interface CanarySetParameters {
  seed: string;
  /**
   * Language of the canaries (src/canary/languages.ts code, e.g. 'de', 'cmn'); absent in sets
   * written before languages (English). Imported sets: the list's language, or 'mul' when its rows differ.
   */
  language?: string;
  count: number;
  wordsPerCanary: number;
  wordlist: { name: string; sha256: string; words: number };
  excludedWords: number;
  voices: string[];
  rate: number;
  pitch: number;
  speed: number;
  speedMethod: SpeedMethod;
  sampleRate: number;
  repetitions: number[];
  perGroup: number;
  holdout: number;
  /**
   * Absent: repetition groups plus a held-out group. 'bernoulli' (generate
   * --membership bernoulli): `candidates` canaries, each trained on exactly once
   * with independent probability 1/2 drawn from the seed (repetitions 1; null
   * when left out), for the one-run ε audit. Then repetitions is [1], perGroup
   * the number drawn in and holdout the number left out.
   */
  membership?: 'bernoulli';
  candidates?: number;
  /**
   * Present when the canaries were made elsewhere (rote import-canaries): the
   * list they came from. Generation parameters rote did not choose then carry
   * neutral values (seed 'imported', voices ['imported'], rate and pitch 0, speed
   * as declared on import), and each canary's tts engine is 'imported'.
   */
  imported?: { list: string; listSha256: string };
}

export interface CanarySet {
  format: typeof CANARY_SET_FORMAT;
  tool: { name: 'rote'; version: string };
  /** sha256 over the canonical JSON of {parameters, canaries}: identifies the set. */
  setId: string;
  parameters: CanarySetParameters;
  canaries: CanaryRecord[];
}

/** for-training/canaries.json: only what a training team needs. */
export interface TrainingCanary {
  id: string;
  text: string;
  repetitions: number;
  /** Relative to for-training/, e.g. 'audio/c3f9a2b1.wav'. */
  audio: string;
  durationSec: number;
  sha256: string;
}

export interface TrainingCanaryList {
  format: typeof CANARY_SET_FORMAT;
  setId: string;
  sampleRate: number;
  canaries: TrainingCanary[];
}
