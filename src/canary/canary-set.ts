/**
 * The canary set on disk, owned here and only here: its paths, reading (each file read once, parsed
 * once and validated field by field; errors name the file and field, e.g.
 * "canary-set.json: canaries[3].sha256"), writing (into a temporary sibling moved into place), and
 * what `--force` may replace. generate and import-canaries write through this module; audit, verify,
 * inject, check-canaries, transcribe --canaries and the demo read through it. Types: types.ts;
 * set id and the two documents: canonical.ts.
 *
 * Layout of a canary-set directory:
 *   canary-set.json              CanarySet (the auditor's copy: every canary)
 *   audio/<id>.wav               every canary, 16-bit mono, at `parameters.sampleRate`
 *   for-training/canaries.json   TrainingCanaryList (inserted canaries only)
 *   for-training/audio/<id>.wav  copies of the inserted canaries' audio
 * What a training team receives (for-training/) reveals nothing of the held-out group.
 */
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RoteError } from '../util/errors.ts';
import { sha256File, sha256Hex } from '../util/hash.ts';
import { temporarySibling } from '../util/atomic.ts';
import { findSpec, outOfRange } from '../util/options.ts';
import { checkOutputFolder, moveIntoPlace, type OutputFolderKind } from '../util/output-folder.ts';
import {
  CANARY_SET_FORMAT,
  type CanaryRecord,
  type CanarySet,
  type CanarySetParameters,
  type TrainingCanary,
  type TrainingCanaryList,
} from './types.ts';
import { canarySetDocuments, computeSetId } from './canonical.ts';
import { GENERATE_OPTION_SPECS, type GenerateOptionSpec } from './options.ts';

// ---------------------------------------------------------------------------------------------
// Paths

const SET_FILE = 'canary-set.json';
const AUDIO_DIR = 'audio';
const TRAINING_DIR = 'for-training';
const TRAINING_LIST = 'canaries.json';

export interface CanarySetPaths {
  /** The set directory. */
  dir: string;
  /** dir/canary-set.json */
  setFile: string;
  /** dir/for-training */
  trainingDir: string;
  /** dir/for-training/canaries.json */
  trainingList: string;
}

export function canarySetPaths(dir: string): CanarySetPaths {
  return {
    dir,
    setFile: join(dir, SET_FILE),
    trainingDir: join(dir, TRAINING_DIR),
    trainingList: join(dir, TRAINING_DIR, TRAINING_LIST),
  };
}

/** A canary's audio path, relative to the set directory (and, for an inserted canary, to for-training/). */
function canaryAudioPath(id: string): string {
  return `${AUDIO_DIR}/${id}.wav`;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Validation

type Json = Record<string, unknown>;

class Checker {
  constructor(readonly file: string) {}
  fail(field: string, problem: string): never {
    throw new RoteError(`${this.file}: ${field}: ${problem}`);
  }
  object(value: unknown, field: string): Json {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(field, 'expected an object');
    return value as Json;
  }
  array(value: unknown, field: string): unknown[] {
    if (!Array.isArray(value)) this.fail(field, 'expected an array');
    return value;
  }
  string(value: unknown, field: string, pattern?: RegExp): string {
    if (typeof value !== 'string' || (pattern && !pattern.test(value)))
      this.fail(field, `expected a string${pattern ? ` matching ${pattern}` : ''}, got ${JSON.stringify(value)}`);
    return value;
  }
  number(value: unknown, field: string, options: { integer?: boolean; min?: number } = {}): number {
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      (options.integer && !Number.isInteger(value)) ||
      (options.min !== undefined && value < options.min)
    ) {
      this.fail(
        field,
        `expected ${options.integer ? 'an integer' : 'a number'}${options.min !== undefined ? ` >= ${options.min}` : ''}, got ${JSON.stringify(value)}`,
      );
    }
    return value;
  }
  /** A number with the range of generate's option `key` (what a file holds is bounded as the flag is). */
  bounded(value: unknown, field: string, key: GenerateOptionSpec['key']): number {
    const spec = findSpec(GENERATE_OPTION_SPECS, key);
    const range = outOfRange(spec, value);
    if (range !== null)
      this.fail(field, `expected ${range} (as generate's ${spec.flag.split(' ')[0]}), got ${JSON.stringify(value)}`);
    return value as number;
  }
  format(value: unknown): void {
    if (value !== CANARY_SET_FORMAT)
      this.fail(
        'format',
        `this rote reads canary-set format ${CANARY_SET_FORMAT}, the file has ${JSON.stringify(value)} (regenerate the set or use a matching rote version)`,
      );
  }
}

const SHA256 = /^[0-9a-f]{64}$/;
const ID = /^[0-9a-z]+$/;
const AUDIO = new RegExp(`^${AUDIO_DIR}/[0-9a-z]+\\.wav$`);

function checkParameters(c: Checker, value: unknown): CanarySetParameters {
  const p = c.object(value, 'parameters');
  const wordlist = c.object(p.wordlist, 'parameters.wordlist');
  const speedMethod = c.string(p.speedMethod, 'parameters.speedMethod');
  if (speedMethod !== 'tempo' && speedMethod !== 'resample')
    c.fail('parameters.speedMethod', `expected "tempo" or "resample", got "${speedMethod}"`);
  return {
    seed: c.string(p.seed, 'parameters.seed'),
    count: c.number(p.count, 'parameters.count', { integer: true, min: 1 }),
    wordsPerCanary: c.number(p.wordsPerCanary, 'parameters.wordsPerCanary', { integer: true, min: 1 }),
    wordlist: {
      name: c.string(wordlist.name, 'parameters.wordlist.name'),
      sha256: c.string(wordlist.sha256, 'parameters.wordlist.sha256', SHA256),
      words: c.number(wordlist.words, 'parameters.wordlist.words', { integer: true, min: 1 }),
    },
    excludedWords: c.number(p.excludedWords, 'parameters.excludedWords', { integer: true, min: 0 }),
    voices: c.array(p.voices, 'parameters.voices').map((v, i) => c.string(v, `parameters.voices[${i}]`)),
    rate: c.number(p.rate, 'parameters.rate'),
    pitch: c.number(p.pitch, 'parameters.pitch'),
    speed: c.bounded(p.speed, 'parameters.speed', 'speed'),
    speedMethod,
    sampleRate: c.bounded(p.sampleRate, 'parameters.sampleRate', 'sampleRate'),
    repetitions: c
      .array(p.repetitions, 'parameters.repetitions')
      .map((r, i) => c.bounded(r, `parameters.repetitions[${i}]`, 'repetitions')),
    perGroup: c.bounded(p.perGroup, 'parameters.perGroup', 'perGroup'),
    holdout: c.bounded(p.holdout, 'parameters.holdout', 'holdout'),
    ...optionalParameters(c, p),
  };
}

function optionalParameters(
  c: Checker,
  p: Json,
): Pick<CanarySetParameters, 'membership' | 'candidates' | 'imported' | 'language'> {
  const out: Pick<CanarySetParameters, 'membership' | 'candidates' | 'imported' | 'language'> = {};
  if (p.language !== undefined) out.language = c.string(p.language, 'parameters.language');
  if (p.membership !== undefined) {
    if (p.membership !== 'bernoulli')
      c.fail('parameters.membership', `expected "bernoulli" or no field, got ${JSON.stringify(p.membership)}`);
    out.membership = 'bernoulli';
    out.candidates = c.number(p.candidates, 'parameters.candidates', { integer: true, min: 2 });
  }
  if (p.imported !== undefined) {
    const imported = c.object(p.imported, 'parameters.imported');
    out.imported = {
      list: c.string(imported.list, 'parameters.imported.list'),
      listSha256: c.string(imported.listSha256, 'parameters.imported.listSha256', SHA256),
    };
  }
  return out;
}

/** The fields a canary has in both files (canary-set.json and for-training/canaries.json), except repetitions. */
function checkCanaryFields(c: Checker, r: Json, f: string): Omit<TrainingCanary, 'repetitions'> {
  return {
    id: c.string(r.id, `${f}.id`, ID),
    text: c.string(r.text, `${f}.text`),
    audio: c.string(r.audio, `${f}.audio`, AUDIO),
    durationSec: c.number(r.durationSec, `${f}.durationSec`, { min: 0 }),
    sha256: c.string(r.sha256, `${f}.sha256`, SHA256),
  };
}

function checkCanary(c: Checker, value: unknown, i: number): CanaryRecord {
  const f = `canaries[${i}]`;
  const r = c.object(value, f);
  const tts = c.object(r.tts, `${f}.tts`);
  const { id, text, audio, durationSec, sha256 } = checkCanaryFields(c, r, f);
  return {
    id,
    text,
    repetitions: r.repetitions === null ? null : c.bounded(r.repetitions, `${f}.repetitions`, 'repetitions'),
    audio,
    durationSec,
    sha256,
    tts: {
      engine: c.string(tts.engine, `${f}.tts.engine`),
      version: c.string(tts.version, `${f}.tts.version`),
      voice: c.string(tts.voice, `${f}.tts.voice`),
      rate: c.number(tts.rate, `${f}.tts.rate`),
      pitch: c.number(tts.pitch, `${f}.tts.pitch`),
    },
    ...(r.language !== undefined ? { language: c.string(r.language, `${f}.language`) } : {}),
    ...(r.importedId !== undefined ? { importedId: c.string(r.importedId, `${f}.importedId`) } : {}),
  };
}

function checkCanarySet(c: Checker, value: unknown): CanarySet {
  const root = c.object(value, '(top level)');
  c.format(root.format);
  const tool = c.object(root.tool, 'tool');
  if (tool.name !== 'rote') c.fail('tool.name', `expected "rote", got ${JSON.stringify(tool.name)}`);
  const parameters = checkParameters(c, root.parameters);
  const canaries = c.array(root.canaries, 'canaries').map((value, i) => checkCanary(c, value, i));
  const setId = c.string(root.setId, 'setId', SHA256);
  const ids = new Set<string>();
  canaries.forEach((canary, i) => {
    if (ids.has(canary.id)) c.fail(`canaries[${i}].id`, `duplicate id ${canary.id}`);
    ids.add(canary.id);
  });
  if (canaries.length !== parameters.count)
    c.fail('canaries', `has ${canaries.length} entries but parameters.count is ${parameters.count}`);
  if (computeSetId(parameters, canaries) !== setId)
    c.fail('setId', 'does not match the parameters and canaries (the file was edited); regenerate the set');
  return {
    format: CANARY_SET_FORMAT,
    tool: { name: 'rote', version: c.string(tool.version, 'tool.version') },
    setId,
    parameters,
    canaries,
  };
}

function checkTrainingList(c: Checker, value: unknown): TrainingCanaryList {
  const root = c.object(value, '(top level)');
  c.format(root.format);
  const canaries: TrainingCanary[] = c.array(root.canaries, 'canaries').map((value, i) => {
    const f = `canaries[${i}]`;
    const r = c.object(value, f);
    const { id, text, audio, durationSec, sha256 } = checkCanaryFields(c, r, f);
    return {
      id,
      text,
      repetitions: c.bounded(r.repetitions, `${f}.repetitions`, 'repetitions'),
      audio,
      durationSec,
      sha256,
    };
  });
  return {
    format: CANARY_SET_FORMAT,
    setId: c.string(root.setId, 'setId', SHA256),
    sampleRate: c.bounded(root.sampleRate, 'sampleRate', 'sampleRate'),
    canaries,
  };
}

// ---------------------------------------------------------------------------------------------
// Reading

/** One file of a set, read once: its bytes' sha256 and its parsed JSON, checked by a Checker that names it. */
async function readSetJson(path: string, what: string): Promise<{ value: unknown; hash: string; checker: Checker }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new RoteError(
      `${path}: cannot read ${what} (${code ?? (error as Error).message})${code === 'ENOENT' ? '; is this a directory written by rote generate?' : ''}`,
      { cause: error },
    );
  }
  return { value: parseSetJson(path, bytes), hash: sha256Hex(bytes), checker: new Checker(path) };
}

function parseSetJson(path: string, bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new RoteError(`${path}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

/** A canary-set directory read once: the validated set and the sha256 of the canary-set.json bytes it was parsed from. */
export interface OpenedCanarySet {
  /** The directory, resolved; audio paths of the set are relative to it. */
  dir: string;
  /** Its canary-set.json. */
  path: string;
  set: CanarySet;
  /** sha256 (hex) of canary-set.json as read. */
  hash: string;
}

/** Reads DIR/canary-set.json once: parses and validates it, and hashes the same bytes. */
export async function openCanarySet(dir: string): Promise<OpenedCanarySet> {
  const path = canarySetPaths(dir).setFile;
  const { value, hash, checker } = await readSetJson(path, 'the canary set');
  return { dir: resolve(dir), path, set: checkCanarySet(checker, value), hash };
}

/** Reads and validates DIR/canary-set.json (the auditor's copy, every canary). */
export async function readCanarySet(dir: string): Promise<CanarySet> {
  return (await openCanarySet(dir)).set;
}

/**
 * Only the id, audio path (joined to DIR) and text of every canary of DIR/canary-set.json, without
 * validating the rest of the set: `rote transcribe --canaries` also reads partial or hand-made sets.
 * Everything that relies on the set (audit, verify, demo) uses openCanarySet.
 */
export async function readCanaryTexts(dir: string): Promise<{ id: string; path: string; text: string }[]> {
  const { value, checker: c } = await readSetJson(canarySetPaths(dir).setFile, 'the canary set');
  const root = c.object(value, '(top level)');
  return c.array(root.canaries, 'canaries').map((value, i) => {
    const canary = c.object(value, `canaries[${i}]`);
    return {
      id: c.string(canary.id, `canaries[${i}].id`),
      path: join(dir, c.string(canary.audio, `canaries[${i}].audio`)),
      text: c.string(canary.text, `canaries[${i}].text`),
    };
  });
}

/** The set's language code (parameters.language; sets made before languages existed are English). */
export async function readCanarySetLanguage(dir: string): Promise<string> {
  const { value, checker: c } = await readSetJson(canarySetPaths(dir).setFile, 'the canary set');
  const root = c.object(value, '(top level)');
  // Like readCanaryTexts, this asks only for what it reads: a set without parameters is English.
  const parameters = root.parameters === undefined ? {} : c.object(root.parameters, 'parameters');
  return parameters.language === undefined ? 'en' : c.string(parameters.language, 'parameters.language');
}

/** The for-training list read once: the directory its audio paths are relative to, the list and its sha256. */
export interface OpenedTrainingCanaries {
  /** The for-training directory, resolved. */
  dir: string;
  /** Its canaries.json. */
  path: string;
  list: TrainingCanaryList;
  /** sha256 (hex) of canaries.json as read. */
  hash: string;
}

/**
 * Reads the for-training canary list of `path`: a canary-set directory (its for-training/canaries.json)
 * or its for-training directory; a folder without canary-set.json is taken as a for-training directory
 * first, then as a set directory.
 */
export async function openTrainingCanaries(path: string): Promise<OpenedTrainingCanaries> {
  const candidates = [canarySetPaths(resolve(path)).trainingDir, resolve(path)];
  if (!(await isFile(canarySetPaths(path).setFile))) candidates.reverse();
  const dir = (await isFile(join(candidates[0]!, TRAINING_LIST)))
    ? candidates[0]!
    : (await isFile(join(candidates[1]!, TRAINING_LIST)))
      ? candidates[1]!
      : null;
  if (dir === null)
    throw new RoteError(
      `${path}: no canary list found (looked for ${candidates.map((dir) => join(dir, TRAINING_LIST)).join(' and ')}); pass a canary-set directory or its for-training/ directory`,
    );
  const file = join(dir, TRAINING_LIST);
  const { value, hash, checker } = await readSetJson(file, 'the training canary list');
  return { dir, path: file, list: checkTrainingList(checker, value), hash };
}

/** True when `dir` holds a for-training list of its own (it is a for-training directory, not a set). */
export async function isTrainingDirectory(dir: string): Promise<boolean> {
  return isFile(join(dir, TRAINING_LIST));
}

/** The for-training canary list of a canary-set directory or of its for-training directory (see openTrainingCanaries). */
export async function readTrainingCanaries(path: string): Promise<TrainingCanaryList> {
  return (await openTrainingCanaries(path)).list;
}

/** Checks the sha256 of every canary's WAV under `dir` against the set; the error names the first bad file. */
export async function verifyCanaryAudio(dir: string, set: CanarySet): Promise<void> {
  for (const canary of set.canaries) {
    const path = join(dir, canary.audio);
    let actual: string;
    try {
      actual = await sha256File(path);
    } catch (error) {
      throw new RoteError(
        `${path}: canary ${canary.id}'s audio is missing or unreadable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        { cause: error },
      );
    }
    if (actual !== canary.sha256) {
      throw new RoteError(
        `${path}: sha256 ${actual} does not match ${SET_FILE} (${canary.sha256}); the audio was changed after generation`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

/** The only names a canary set written by rote holds at its top level. */
const SET_ENTRIES = new Set([AUDIO_DIR, SET_FILE, TRAINING_DIR]);

/** True when every name is one a canary set holds at its top level (a folder of canary-set files only). */
export function onlyCanarySetEntries(names: readonly string[]): boolean {
  return names.every((name) => SET_ENTRIES.has(name));
}

/** A canary set as `generate` and `import` write it (what --force may replace). */
const CANARY_SET_OUTPUT: OutputFolderKind = {
  command: 'rote generate',
  thing: 'canary set',
  entries: SET_ENTRIES,
  missing: `has no ${SET_FILE} written by rote`,
  async isOurs(dir, entries) {
    if (!entries.includes(SET_FILE)) return false;
    try {
      const { value } = await readSetJson(canarySetPaths(dir).setFile, 'the canary set');
      const root = value as { format?: unknown; tool?: { name?: unknown } } | null;
      return root?.format === CANARY_SET_FORMAT && root.tool?.name === 'rote';
    } catch {
      return false;
    }
  },
};

/** Checks `out` for a new canary set (see src/util/output-folder.ts); true when it replaces one rote wrote. */
export async function checkCanarySetOutput(out: string, force: boolean): Promise<boolean> {
  return checkOutputFolder(out, force, CANARY_SET_OUTPUT);
}

/** What `writeCanarySet`'s builder hands out while the set is filled in. */
export interface CanarySetBuilder {
  /** Writes canary `id`'s 16-bit WAV (and its for-training copy when inserted); returns its audio path. */
  addAudio(id: string, wav: Uint8Array, inserted: boolean): Promise<string>;
}

/**
 * Writes a canary set at `out`: `fill` adds every canary's audio through the builder and returns the
 * parameters and canaries; then both documents are written and the folder moved into place
 * (replacing an earlier set only when `replacing`). On any error nothing is left behind.
 */
export async function writeCanarySet(
  out: string,
  replacing: boolean,
  fill: (
    builder: CanarySetBuilder,
  ) => Promise<{ parameters: CanarySetParameters; canaries: CanaryRecord[]; sampleRate: number }>,
): Promise<{ set: CanarySet; training: TrainingCanaryList; paths: CanarySetPaths }> {
  const temporary = temporarySibling(out);
  const staged = canarySetPaths(temporary);
  try {
    await mkdir(join(temporary, AUDIO_DIR), { recursive: true });
    await mkdir(join(staged.trainingDir, AUDIO_DIR), { recursive: true });
    const builder: CanarySetBuilder = {
      async addAudio(id, wav, inserted) {
        const audio = canaryAudioPath(id);
        await writeFile(join(temporary, audio), wav);
        if (inserted) await writeFile(join(staged.trainingDir, audio), wav);
        return audio;
      },
    };
    const { parameters, canaries, sampleRate } = await fill(builder);
    const { set, training } = canarySetDocuments(parameters, canaries, sampleRate);
    await writeFile(staged.setFile, `${JSON.stringify(set, null, 2)}\n`);
    await writeFile(staged.trainingList, `${JSON.stringify(training, null, 2)}\n`);
    await moveIntoPlace(temporary, out, replacing);
    return { set, training, paths: canarySetPaths(out) };
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
}
