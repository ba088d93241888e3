/**
 * The core of the embedded espeak-ng (wasm) engine, in plain JavaScript so
 * that synthesis workers load it without tsx (registering tsx in a worker
 * costs ~0.3 s of CPU). Types: espeak-engine.d.mts; the typed API that the
 * rest of rote uses, and the reasoning behind the memory snapshot: espeak.ts.
 * Imports nothing but node built-ins and the espeak-ng package.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const PACKAGE_JSON_PATH = require.resolve('espeak-ng/package.json');
const WASM_PATH = PACKAGE_JSON_PATH.replace(/package\.json$/, 'dist/espeak-ng.wasm');
const GLUE_PATH = PACKAGE_JSON_PATH.replace(/package\.json$/, 'dist/espeak-ng.js');

export const ESPEAK_WASM_VERSION = require('espeak-ng/package.json').version;
export const ESPEAK_ENGINE_NAME = 'espeak-ng-wasm';
export const ESPEAK_SAMPLE_RATE = 22050;

let compiledModule;

export function compileEspeakModule() {
  compiledModule ??= readFile(WASM_PATH).then((bytes) => WebAssembly.compile(bytes));
  return compiledModule;
}

export function adoptEspeakModule(module) {
  compiledModule = Promise.resolve(module);
}

const OUTPUT_PATH = '/tmp/rote-utterance.wav';
const PHONEME_PATH = '/tmp/rote-phonemes.txt';
/** 2000-01-01T00:00:00Z: the wall clock espeak-ng sees. */
const FIXED_DATE_MS = 946684800000;
/** The fake monotonic clock (ms) seen by the engine; reset before every utterance. */
const clock = { ticks: 0 };

const DATA_DIR = '/usr/local/share/espeak-ng-data';

export class EspeakCore {
  constructor(emscripten, exports, messages) {
    this.emscripten = emscripten;
    this.exports = exports;
    this.messages = messages;
    this.initialStack = exports.stackSave();
    const memory = new Uint8Array(exports.memory.buffer);
    this.mutable = mutableRanges(memory, emscripten.___emscripten_embedded_file_data);
    this.snapshot = this.mutable.map(([start, end]) => memory.slice(start, end));
    cacheDataLookups(emscripten.FS);
  }

  static async create() {
    const module = await compileEspeakModule();
    const factory = (await import(GLUE_PATH)).default;
    const messages = [];
    let exports;
    const emscripten = await factory({
      noInitialRun: true,
      print: () => {},
      printErr: (line) => messages.push(line),
      instantiateWasm(imports, receive) {
        // espeak-ng seeds its breath noise (the +f variants) from the clock: give it a fixed
        // date and a clock that counts calls from each utterance's start, so output is reproducible.
        imports.env.emscripten_date_now = () => FIXED_DATE_MS;
        imports.env.emscripten_get_now = () => ++clock.ticks;
        const instance = new WebAssembly.Instance(module, imports);
        exports = instance.exports;
        receive(instance, module);
        return instance.exports;
      },
    });
    if (!exports) throw new Error('espeak-ng wasm: instantiateWasm was not called');
    return new EspeakCore(emscripten, exports, messages);
  }

  listDataDirectory(path) {
    return this.emscripten.FS.readdir(`${DATA_DIR}/${path}`).filter((name) => name !== '.' && name !== '..');
  }

  synthesizeWav(text, options = {}) {
    const { voice = 'en-us', rate = 100, pitch = 50 } = options;
    const memory = new Uint8Array(this.exports.memory.buffer);
    this.mutable.forEach(([start], i) => memory.set(this.snapshot[i], start));
    this.exports.stackRestore(this.initialStack);
    this.messages.length = 0;
    clock.ticks = 0;
    // `--` is not understood by this espeak-ng; a leading '-' in text would be read as an option.
    const safeText = text.startsWith('-') ? ` ${text}` : text;
    const status = this.callMain([
      '-w',
      OUTPUT_PATH,
      '-v',
      voice,
      '-s',
      String(Math.round(rate)),
      '-p',
      String(Math.round(pitch)),
      safeText,
    ]);
    let wav;
    try {
      wav = this.emscripten.FS.readFile(OUTPUT_PATH);
      this.emscripten.FS.unlink(OUTPUT_PATH);
    } catch {
      wav = new Uint8Array(0);
    }
    if (status !== 0 || wav.length <= 44) {
      const problem = this.messages
        .filter((line) => !line.startsWith('program exited'))
        .join(' ')
        .trim();
      return {
        problem: `espeak-ng (wasm) failed for voice "${voice}"${problem ? `: ${problem}` : ` (exit status ${status})`}`,
      };
    }
    return { wav };
  }

  /**
   * The phonemes espeak-ng reads `text` as (`--ipa`), with its language switches: "(en)...(ja)" marks
   * text it could not read in the voice's language and read as another (e.g. a letter's name).
   */
  phonemes(text, voice = 'en-us') {
    const memory = new Uint8Array(this.exports.memory.buffer);
    this.mutable.forEach(([start], i) => memory.set(this.snapshot[i], start));
    this.exports.stackRestore(this.initialStack);
    this.messages.length = 0;
    clock.ticks = 0;
    const safeText = text.startsWith('-') ? ` ${text}` : text;
    const status = this.callMain(['-q', '--ipa', `--phonout=${PHONEME_PATH}`, '-v', voice, safeText]);
    let bytes;
    try {
      bytes = this.emscripten.FS.readFile(PHONEME_PATH);
      this.emscripten.FS.unlink(PHONEME_PATH);
    } catch {
      bytes = new Uint8Array(0);
    }
    if (status !== 0)
      return { problem: `espeak-ng (wasm) could not read text with voice "${voice}" (exit status ${status})` };
    return { phonemes: new TextDecoder().decode(bytes).trim() };
  }

  callMain(args) {
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
      if (error?.name === 'ExitStatus') return error.status;
      throw error;
    }
  }
}

/**
 * [start, end) byte ranges of linear memory that an utterance may change: all of it except the
 * embedded data files and their names, which the file system serves in place (read only) from
 * wasm memory.
 * Restoring only these ranges halves the snapshot and the per-utterance restore.
 */
function mutableRanges(memory, table) {
  const size = memory.byteLength;
  if (typeof table !== 'number') return [[0, size]];
  const words = new Uint32Array(memory.buffer, 0, size >> 2);
  const files = [];
  // The table: (name pointer, length, content pointer) per file, ended by a null name.
  for (let word = table >> 2; words[word]; word += 3) {
    const name = words[word];
    files.push([name, memory.indexOf(0, name) + 1], [words[word + 2], words[word + 2] + words[word + 1]]);
  }
  files.sort((a, b) => a[0] - b[0]);
  const ranges = [];
  let next = 0;
  for (const [start, end] of files) {
    if (start > next) ranges.push([next, start]);
    next = Math.max(next, end);
  }
  if (next < size) ranges.push([next, size]);
  return ranges;
}

/**
 * espeak-ng opens and stats hundreds of data files per utterance; the Emscripten file system
 * resolves each path in JavaScript (~3 ms per utterance). The data directory never changes, so
 * its lookups (and their failures) are cached.
 */
function cacheDataLookups(fs) {
  const lookupPath = fs.lookupPath.bind(fs);
  const cache = new Map();
  fs.lookupPath = (path, options = {}) => {
    if (typeof path !== 'string' || !path.startsWith(`${DATA_DIR}/`)) return lookupPath(path, options);
    const key = `${options.parent ? 'p' : ''}${options.follow ? 'f' : ''}${options.follow_mount === false ? 'm' : ''}${options.recurse_count ?? ''}:${path}`;
    let entry = cache.get(key);
    if (!entry) {
      try {
        entry = { result: lookupPath(path, options) };
      } catch (error) {
        entry = { error };
      }
      cache.set(key, entry);
    }
    if (entry.error) throw entry.error;
    return entry.result;
  };
}

export function pcm16WavToFloat(wav) {
  const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
  const tag = (offset) => String.fromCharCode(wav[offset], wav[offset + 1], wav[offset + 2], wav[offset + 3]);
  if (wav.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE')
    throw new Error('espeak-ng output is not a RIFF/WAVE file');
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
      if (format !== 1 || channels !== 1 || bits !== 16)
        throw new Error(
          `espeak-ng output: expected PCM 16-bit mono, got format ${format}, ${channels} channels, ${bits} bits`,
        );
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
