/**
 * Reading and checking canary sets: every field is validated and errors name
 * the file and the field (e.g. "canary-set.json: canaries[3].sha256").
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RoteError } from '../util/errors.ts';
import { sha256File, sha256Hex } from '../util/hash.ts';
import {
  CANARY_SET_FORMAT,
  type CanaryRecord,
  type CanarySet,
  type CanarySetParameters,
  type TrainingCanary,
  type TrainingCanaryList,
} from './types.ts';
import { computeSetId } from './canonical.ts';

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
const AUDIO = /^audio\/[0-9a-z]+\.wav$/;

async function readText(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new RoteError(
      `${path}: cannot read ${what} (${code ?? (error as Error).message})${code === 'ENOENT' ? '; is this a directory written by rote generate?' : ''}`,
      { cause: error },
    );
  }
}

function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RoteError(`${path}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

async function readJson(path: string, what: string): Promise<unknown> {
  return parseJson(path, (await readText(path, what)).toString('utf8'));
}

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
    speed: c.number(p.speed, 'parameters.speed', { min: 1 }),
    speedMethod,
    sampleRate: c.number(p.sampleRate, 'parameters.sampleRate', { integer: true, min: 1 }),
    repetitions: c
      .array(p.repetitions, 'parameters.repetitions')
      .map((r, i) => c.number(r, `parameters.repetitions[${i}]`, { integer: true, min: 1 })),
    perGroup: c.number(p.perGroup, 'parameters.perGroup', { integer: true, min: 1 }),
    holdout: c.number(p.holdout, 'parameters.holdout', { integer: true, min: 1 }),
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

function checkCanary(c: Checker, value: unknown, i: number): CanaryRecord {
  const f = `canaries[${i}]`;
  const r = c.object(value, f);
  const tts = c.object(r.tts, `${f}.tts`);
  const repetitions =
    r.repetitions === null ? null : c.number(r.repetitions, `${f}.repetitions`, { integer: true, min: 1 });
  return {
    id: c.string(r.id, `${f}.id`, ID),
    text: c.string(r.text, `${f}.text`),
    repetitions,
    audio: c.string(r.audio, `${f}.audio`, AUDIO),
    durationSec: c.number(r.durationSec, `${f}.durationSec`, { min: 0 }),
    sha256: c.string(r.sha256, `${f}.sha256`, SHA256),
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
  const path = join(dir, 'canary-set.json');
  const bytes = await readText(path, 'the canary set');
  return {
    dir: resolve(dir),
    path,
    set: checkCanarySet(path, parseJson(path, bytes.toString('utf8'))),
    hash: sha256Hex(bytes),
  };
}

/**
 * Only the id, audio path (joined to DIR) and text of every canary of DIR/canary-set.json, without
 * validating the rest of the set: `rote transcribe --canaries` also reads partial or hand-made sets.
 * Everything that relies on the set (audit, verify, demo) uses openCanarySet.
 */
export async function readCanaryTexts(dir: string): Promise<{ id: string; path: string; text: string }[]> {
  const path = join(dir, 'canary-set.json');
  const c = new Checker(path);
  const root = c.object(await readJson(path, 'the canary set'), '(top level)');
  return c.array(root.canaries, 'canaries').map((value, i) => {
    const canary = c.object(value, `canaries[${i}]`);
    return {
      id: c.string(canary.id, `canaries[${i}].id`),
      path: join(dir, c.string(canary.audio, `canaries[${i}].audio`)),
      text: c.string(canary.text, `canaries[${i}].text`),
    };
  });
}

/** Reads and validates DIR/canary-set.json (the auditor's copy, every canary). */
export async function readCanarySet(dir: string): Promise<CanarySet> {
  return (await openCanarySet(dir)).set;
}

function checkCanarySet(path: string, value: unknown): CanarySet {
  const c = new Checker(path);
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

/**
 * Reads the for-training canary list, given either a canary-set directory
 * (reads DIR/for-training/canaries.json) or its for-training directory.
 * Audio paths in the result are relative to the for-training directory.
 */
export async function readTrainingCanaries(dir: string): Promise<TrainingCanaryList> {
  const isSetDir = await stat(join(dir, 'canary-set.json')).then(
    () => true,
    () => false,
  );
  const path = isSetDir ? join(dir, 'for-training', 'canaries.json') : join(dir, 'canaries.json');
  const c = new Checker(path);
  const root = c.object(await readJson(path, 'the training canary list'), '(top level)');
  c.format(root.format);
  const canaries: TrainingCanary[] = c.array(root.canaries, 'canaries').map((value, i) => {
    const f = `canaries[${i}]`;
    const r = c.object(value, f);
    return {
      id: c.string(r.id, `${f}.id`, ID),
      text: c.string(r.text, `${f}.text`),
      repetitions: c.number(r.repetitions, `${f}.repetitions`, { integer: true, min: 1 }),
      audio: c.string(r.audio, `${f}.audio`, AUDIO),
      durationSec: c.number(r.durationSec, `${f}.durationSec`, { min: 0 }),
      sha256: c.string(r.sha256, `${f}.sha256`, SHA256),
    };
  });
  return {
    format: CANARY_SET_FORMAT,
    setId: c.string(root.setId, 'setId', SHA256),
    sampleRate: c.number(root.sampleRate, 'sampleRate', { integer: true, min: 1 }),
    canaries,
  };
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
        `${path}: sha256 ${actual} does not match canary-set.json (${canary.sha256}); the audio was changed after generation`,
      );
    }
  }
}
