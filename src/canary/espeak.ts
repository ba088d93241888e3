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
 * instance (so output is byte-identical to the documented use) at ~20 ms.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { RoteError } from '../util/errors.ts';

const require = createRequire(import.meta.url);
const PACKAGE_JSON_PATH = require.resolve('espeak-ng/package.json');
const WASM_PATH = PACKAGE_JSON_PATH.replace(/package\.json$/, 'dist/espeak-ng.wasm');
const GLUE_PATH = PACKAGE_JSON_PATH.replace(/package\.json$/, 'dist/espeak-ng.js');

/** Version of the npm `espeak-ng` package, recorded per canary. */
export const ESPEAK_WASM_VERSION: string = (require('espeak-ng/package.json') as { version: string }).version;
export const ESPEAK_ENGINE_NAME = 'espeak-ng-wasm';
export const ESPEAK_SAMPLE_RATE = 22050;

export interface SpeechOptions {
  /** espeak-ng voice, e.g. 'en-us' or 'en-gb+f3'. Default 'en-us'. */
  voice?: string;
  /** Words per minute (espeak `-s`), 80..450. Default 100 (see DEFAULT_RATE). */
  rate?: number;
  /** Pitch 0..99 (espeak `-p`). Default 50. */
  pitch?: number;
}

export interface SynthesizedSpeech {
  samples: Float32Array;
  sampleRate: number;
}

interface EmscriptenModule {
  FS: {
    readFile(path: string): Uint8Array;
    unlink(path: string): void;
    readdir(path: string): string[];
  };
}
interface EspeakExports {
  memory: WebAssembly.Memory;
  stackSave(): number;
  stackRestore(pointer: number): void;
  stackAlloc(size: number): number;
  __main_argc_argv(argc: number, argv: number): number;
}
type EspeakFactory = (module: Record<string, unknown>) => Promise<EmscriptenModule>;

let compiledModule: Promise<WebAssembly.Module> | undefined;

/** The compiled espeak-ng WebAssembly.Module, compiled once per thread (or handed in from another thread). */
export function compileEspeakModule(): Promise<WebAssembly.Module> {
  compiledModule ??= readFile(WASM_PATH).then((bytes) => WebAssembly.compile(bytes));
  return compiledModule;
}

/** Lets a worker reuse a module compiled by its parent (WebAssembly.Module is cloneable across threads). */
export function adoptEspeakModule(module: WebAssembly.Module): void {
  compiledModule = Promise.resolve(module);
}

const OUTPUT_PATH = '/tmp/rote-utterance.wav';
/** 2000-01-01T00:00:00Z: the wall clock espeak-ng sees. */
const FIXED_DATE_MS = 946684800000;
/** The fake monotonic clock (ms) seen by the engine; reset before every utterance. */
const clock = { ticks: 0 };

/** One instance of the engine; not re-entrant (synthesize is synchronous). */
export class EspeakEngine {
  private readonly emscripten: EmscriptenModule;
  private readonly exports: EspeakExports;
  private readonly snapshot: Uint8Array;
  private readonly initialStack: number;
  private readonly messages: string[] = [];

  private constructor(emscripten: EmscriptenModule, exports: EspeakExports, messages: string[]) {
    this.emscripten = emscripten;
    this.exports = exports;
    this.messages = messages;
    this.initialStack = exports.stackSave();
    this.snapshot = new Uint8Array(exports.memory.buffer).slice();
  }

  static async create(): Promise<EspeakEngine> {
    const module = await compileEspeakModule();
    const factory = ((await import(GLUE_PATH)) as { default: EspeakFactory }).default;
    const messages: string[] = [];
    let exports: EspeakExports | undefined;
    const emscripten = await factory({
      noInitialRun: true,
      print: () => {},
      printErr: (line: string) => messages.push(line),
      instantiateWasm(imports: WebAssembly.Imports, receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) {
        // espeak-ng seeds its breath noise (the +f variants) from the clock: give it a fixed
        // date and a clock that counts calls from each utterance's start, so output is reproducible.
        const env = imports.env as Record<string, unknown>;
        env.emscripten_date_now = () => FIXED_DATE_MS;
        env.emscripten_get_now = () => ++clock.ticks;
        const instance = new WebAssembly.Instance(module, imports);
        exports = instance.exports as unknown as EspeakExports;
        receive(instance, module);
        return instance.exports;
      },
    });
    if (!exports) throw new Error('espeak-ng wasm: instantiateWasm was not called');
    return new EspeakEngine(emscripten, exports, messages);
  }

  /** Voice and variant file names inside the wasm build's data (for listing voices). */
  listDataDirectory(path: string): string[] {
    return this.emscripten.FS.readdir(`/usr/local/share/espeak-ng-data/${path}`).filter((name) => name !== '.' && name !== '..');
  }

  /** The WAV bytes exactly as espeak-ng writes them (22050 Hz, 16-bit mono). */
  synthesizeWav(text: string, options: SpeechOptions = {}): Uint8Array {
    const { voice = 'en-us', rate = 100, pitch = 50 } = options;
    const memory = this.exports.memory;
    new Uint8Array(memory.buffer).set(this.snapshot);
    this.exports.stackRestore(this.initialStack);
    this.messages.length = 0;
    clock.ticks = 0;
    // `--` is not understood by this espeak-ng; a leading '-' in text would be read as an option.
    const safeText = text.startsWith('-') ? ` ${text}` : text;
    const status = this.callMain(['-w', OUTPUT_PATH, '-v', voice, '-s', String(Math.round(rate)), '-p', String(Math.round(pitch)), safeText]);
    let wav: Uint8Array;
    try {
      wav = this.emscripten.FS.readFile(OUTPUT_PATH);
      this.emscripten.FS.unlink(OUTPUT_PATH);
    } catch {
      wav = new Uint8Array(0);
    }
    const problem = this.messages.filter((line) => !line.startsWith('program exited')).join(' ').trim();
    if (status !== 0 || wav.length <= 44) {
      throw new RoteError(`espeak-ng (wasm) failed for voice "${voice}"${problem ? `: ${problem}` : ` (exit status ${status})`}`);
    }
    return wav;
  }

  synthesize(text: string, options: SpeechOptions = {}): SynthesizedSpeech {
    return pcm16WavToFloat(this.synthesizeWav(text, options));
  }

  private callMain(args: string[]): number {
    const exports = this.exports;
    const encoder = new TextEncoder();
    const argv = ['espeak-ng', ...args];
    const pointers = argv.map((arg) => {
      const bytes = encoder.encode(`${arg}\0`);
      const pointer = exports.stackAlloc(bytes.length);
      new Uint8Array(exports.memory.buffer).set(bytes, pointer);
      return pointer;
    });
    const table = exports.stackAlloc(4 * (pointers.length + 1));
    const words = new Uint32Array(exports.memory.buffer, table, pointers.length + 1);
    pointers.forEach((pointer, i) => (words[i] = pointer));
    words[pointers.length] = 0;
    try {
      return exports.__main_argc_argv(argv.length, table);
    } catch (error) {
      // exit() inside main surfaces as Emscripten's ExitStatus exception.
      if ((error as { name?: string })?.name === 'ExitStatus') return (error as { status: number }).status;
      throw error;
    }
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

/**
 * Decodes espeak-ng's own WAV output (PCM 16-bit mono) to floats in [-1, 1)
 * (sample / 32768, the usual convention). Hand-written because wavefile's
 * decoder takes ~100 ms per utterance; anything unexpected is an error.
 */
export function pcm16WavToFloat(wav: Uint8Array): SynthesizedSpeech {
  const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
  const tag = (offset: number) => String.fromCharCode(wav[offset]!, wav[offset + 1]!, wav[offset + 2]!, wav[offset + 3]!);
  if (wav.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error('espeak-ng output is not a RIFF/WAVE file');
  let offset = 12;
  let sampleRate = 0;
  while (offset + 8 <= wav.length) {
    const id = tag(offset);
    let size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      const format = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const bits = view.getUint16(body + 14, true);
      if (format !== 1 || channels !== 1 || bits !== 16) throw new Error(`espeak-ng output: expected PCM 16-bit mono, got format ${format}, ${channels} channels, ${bits} bits`);
      sampleRate = view.getUint32(body + 4, true);
    } else if (id === 'data') {
      if (!sampleRate) throw new Error('espeak-ng output: data chunk before fmt chunk');
      // Streaming writers leave a placeholder size; the data then runs to the end of the file.
      if (size > wav.length - body) size = wav.length - body;
      const count = size >> 1;
      const samples = new Float32Array(count);
      for (let i = 0; i < count; i++) samples[i] = view.getInt16(body + 2 * i, true) / 32768;
      return { samples, sampleRate };
    }
    offset = body + size + (size & 1);
  }
  throw new Error('espeak-ng output: no data chunk');
}
