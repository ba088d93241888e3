/** Types of espeak-engine.mjs (plain JavaScript so that workers need no tsx); documented in espeak.ts. */
export declare const ESPEAK_WASM_VERSION: string;
export declare const ESPEAK_ENGINE_NAME: 'espeak-ng-wasm';
export declare const ESPEAK_SAMPLE_RATE: 22050;

export interface SpeechOptions {
  /** espeak-ng voice, e.g. 'en-us' or 'en-gb+f3'. Default 'en-us'. */
  voice?: string;
  /** Words per minute (espeak `-s`), 80..450. Default 100. */
  rate?: number;
  /** Pitch 0..99 (espeak `-p`). Default 50. */
  pitch?: number;
}

export interface SynthesizedSpeech {
  samples: Float32Array;
  sampleRate: number;
}

/** The compiled espeak-ng WebAssembly.Module, compiled once per thread (or adopted from another thread). */
export declare function compileEspeakModule(): Promise<WebAssembly.Module>;
/** Lets a worker reuse a module compiled by its parent (WebAssembly.Module is cloneable across threads). */
export declare function adoptEspeakModule(module: WebAssembly.Module): void;

/** One instance of the engine; not re-entrant (synthesis is synchronous). */
export declare class EspeakCore {
  private constructor();
  static create(): Promise<EspeakCore>;
  /** Voice and variant file names inside the wasm build's data. */
  listDataDirectory(path: string): string[];
  /** The IPA phonemes espeak-ng reads `text` as; "(en)" and the like mark a switch to another language. */
  phonemes(
    text: string,
    voice?: string,
  ): { phonemes: string; problem?: undefined } | { problem: string; phonemes?: undefined };
  /** espeak-ng's own WAV bytes (22050 Hz, 16-bit mono), or why it failed. */
  synthesizeWav(
    text: string,
    options?: SpeechOptions,
  ): { wav: Uint8Array; problem?: undefined } | { problem: string; wav?: undefined };
}

/** Decodes espeak-ng's PCM 16-bit mono WAV output to floats (sample / 32768); anything unexpected throws. */
export declare function pcm16WavToFloat(wav: Uint8Array): SynthesizedSpeech;
