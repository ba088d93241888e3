/**
 * The embedded TTS engine: the espeak-ng command-line program compiled to
 * WebAssembly (npm `espeak-ng`, GPL-3.0-or-later), 22050 Hz 16-bit mono.
 *
 * The package's documented use creates one Emscripten instance per utterance
 * (~130 ms each, mostly copying its 18 MB of embedded voice data into linear
 * memory). Instead we compile the module once per process, instantiate it
 * once per thread with `noInitialRun`, snapshot its linear memory and stack
 * pointer, and before every utterance restore that snapshot and call `main`
 * directly: each utterance then starts from the exact state of a fresh
 * instance (so output is byte-identical to the documented use, tested) at
 * ~10-15 ms of CPU for a 6-word canary.
 * The engine itself is in espeak-engine.mjs (plain JavaScript, for the
 * workers); this module gives it rote's typed API and errors.
 */
import { RoteError } from '../util/errors.ts';
import { EspeakCore, pcm16WavToFloat, type SpeechOptions, type SynthesizedSpeech } from './espeak-engine.mjs';

export {
  compileEspeakModule,
  ESPEAK_ENGINE_NAME,
  ESPEAK_SAMPLE_RATE,
  ESPEAK_WASM_VERSION,
  type SpeechOptions,
  type SynthesizedSpeech,
} from './espeak-engine.mjs';

/** One instance of the engine; not re-entrant (synthesize is synchronous). */
export class EspeakEngine {
  private constructor(private readonly core: EspeakCore) {}

  static async create(): Promise<EspeakEngine> {
    return new EspeakEngine(await EspeakCore.create());
  }

  /** Voice and variant file names inside the wasm build's data (for listing voices). */
  listDataDirectory(path: string): string[] {
    return this.core.listDataDirectory(path);
  }

  /** The WAV bytes exactly as espeak-ng writes them (22050 Hz, 16-bit mono). */
  synthesizeWav(text: string, options: SpeechOptions = {}): Uint8Array {
    const result = this.core.synthesizeWav(text, options);
    if (result.problem !== undefined) throw new RoteError(result.problem);
    return result.wav;
  }

  synthesize(text: string, options: SpeechOptions = {}): SynthesizedSpeech {
    return pcm16WavToFloat(this.synthesizeWav(text, options));
  }
}

let sharedEngine: Promise<EspeakEngine> | undefined;

/** This thread's engine, created on first use. */
export function getEspeakEngine(): Promise<EspeakEngine> {
  sharedEngine ??= EspeakEngine.create();
  return sharedEngine;
}

/** Synthesizes one utterance on this thread with the embedded espeak-ng (wasm). */
export async function synthesizeSpeech(text: string, options: SpeechOptions = {}): Promise<SynthesizedSpeech> {
  const engine = await getEspeakEngine();
  return engine.synthesize(text, options);
}
