/**
 * importCanarySet: canaries made elsewhere (another generator, an earlier
 * study) become a regular canary set, so audit, compare and the one-run ε
 * audit work on them as on a generated set.
 *
 * Input: a list, TSV with a header row or JSON lines, one canary each:
 *   id           the canary's id in the list (kept as importedId; rote gives
 *                each canary a new opaque id, so ids like "heldout_03" never
 *                reach the training team)
 *   text         the reference transcript
 *   repetitions  a positive integer, or held-out ("held-out", "heldout",
 *                "holdout", "0", empty; JSON: null or 0)
 *   audio        WAV path, relative to --audio-dir (default: the list's folder)
 *   sha256       optional: the WAV's sha256, checked before anything is written
 *   language     optional: the canary's language code (default: --language, else en)
 * Texts are compared in rote's normalized form (src/util/normalize-text.ts) and
 * must hold no digit (a digit has many spoken forms: write numbers as words).
 * Every WAV is decoded (channels averaged) and written 16-bit mono; all must
 * share one sample rate. The set records where it came from
 * (parameters.imported: the list's name and sha256). Bad rows are errors that
 * name the file and line; nothing is written until every row checks out.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { RoteError } from '../util/errors.ts';
import { hasDigit, normalizeText } from '../util/normalize-text.ts';
import { findSpec, outOfRange, resolveOptions, type OptionsOf } from '../util/options.ts';
import { GENERATE_OPTION_SPECS, IMPORT_OPTION_SPECS } from './options.ts';
import { sha256Hex } from '../util/hash.ts';
import { decodeWav, encodeWav16, samplesOutsideFullScale, type DecodedAudio } from '../audio/wav.ts';
import { canaryTextProblem, duplicateCanaryText } from './text-rules.ts';
import { silentAudio } from './generate.ts';
import { checkCanarySetOutput, writeCanarySet } from './canary-set.ts';
import { refuseOutputsOnInputs } from '../util/output-guard.ts';
import { refuseNonRegularFile } from '../util/input-file.ts';
import type { CanaryRecord, CanarySet, CanarySetParameters } from './types.ts';

/**
 * The options of importCanarySet: one per IMPORT_OPTION_SPECS (src/canary/options.ts: types, defaults and help
 * there), and the progress callback.
 */
export interface ImportCanariesOptions extends OptionsOf<typeof IMPORT_OPTION_SPECS> {
  onProgress?: (done: number, total: number) => void;
}

export interface ImportResult {
  set: CanarySet;
  dir: string;
  trainingDir: string;
}

interface ListRow {
  line: number;
  id: string;
  text: string;
  repetitions: number | null;
  audio: string;
  sha256: string | null;
  /** The row's language field, or null when it has none. */
  language: string | null;
}

/** A language code: two or three letters, optionally followed by -subtags (de, cmn, pt-br, sr-latn). */
const LANGUAGE_CODE = /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/;

/** The language code of `value` (lower-cased), or a RoteError naming `where`. */
export function checkLanguageCode(value: string, where: string): string {
  const code = value.trim().toLowerCase();
  if (!LANGUAGE_CODE.test(code))
    throw new RoteError(
      `${where}: language ${JSON.stringify(value)} is not a language code (two or three letters, e.g. de, ru, hi, cmn, optionally -region)`,
    );
  return code;
}

const HELD_OUT = new Set(['held-out', 'heldout', 'holdout', 'held_out', '0', '']);
const REQUIRED = ['id', 'text', 'repetitions', 'audio'] as const;

function parseRepetitions(value: unknown, where: string): number | null {
  if (value === null || value === 0) return null;
  let count: number | null = null;
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value > 0) count = value;
  } else if (typeof value === 'string') {
    const trimmed = value.trim().toLowerCase();
    if (HELD_OUT.has(trimmed)) return null;
    if (/^\d+$/.test(trimmed) && Number(trimmed) > 0) count = Number(trimmed);
  }
  if (count !== null) {
    // The range generate's --repetitions has: inject writes every copy.
    const range = outOfRange(findSpec(GENERATE_OPTION_SPECS, 'repetitions'), count);
    if (range === null) return count;
    throw new RoteError(`${where}: repetitions must be ${range} (as generate's --repetitions), got ${value}`);
  }
  throw new RoteError(
    `${where}: repetitions must be a positive integer or held-out (held-out, heldout, holdout, 0, empty), got ${JSON.stringify(value)}`,
  );
}

function field(record: Record<string, unknown>, name: string, where: string): string {
  const value = record[name];
  if (typeof value !== 'string' || value.trim() === '') throw new RoteError(`${where}: ${name} is missing or empty`);
  return value.trim();
}

/** Parses the list (TSV or JSON lines) into rows with their line numbers; errors name the file and line. */
export function parseCanaryList(text: string, file: string): ListRow[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const rows: ListRow[] = [];
  const jsonLines =
    /\.jsonl?$/i.test(file) ||
    lines
      .find((line) => line.trim() !== '')
      ?.trim()
      .startsWith('{');
  let header: string[] | null = null;
  lines.forEach((raw, index) => {
    const line = index + 1;
    const where = `${file}:${line}`;
    if (raw.trim() === '' || (!jsonLines && raw.startsWith('#'))) return;
    let record: Record<string, unknown>;
    if (jsonLines) {
      try {
        record = JSON.parse(raw) as Record<string, unknown>;
      } catch (error) {
        throw new RoteError(`${where}: not a JSON object (${(error as Error).message})`);
      }
      if (record === null || typeof record !== 'object' || Array.isArray(record))
        throw new RoteError(`${where}: expected a JSON object with id, text, repetitions, audio`);
      if (typeof record.repetitions === 'number' || record.repetitions === null)
        record = { ...record, repetitions: record.repetitions === null ? '' : String(record.repetitions) };
    } else {
      const cells = raw.split('\t');
      if (header === null) {
        header = cells.map((cell) => cell.trim().toLowerCase());
        const missing = REQUIRED.filter((name) => !header!.includes(name));
        if (missing.length > 0)
          throw new RoteError(
            `${where}: the header row lacks column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (need tab-separated id, text, repetitions, audio, and optionally sha256)`,
          );
        return;
      }
      if (cells.length !== header.length)
        throw new RoteError(`${where}: ${cells.length} tab-separated fields, the header has ${header.length}`);
      record = Object.fromEntries(header.map((name, i) => [name, cells[i]!]));
    }
    const repetitionsValue = record.repetitions === undefined ? undefined : record.repetitions;
    if (repetitionsValue === undefined)
      throw new RoteError(`${where}: repetitions is missing (a positive integer, or held-out)`);
    const sha =
      typeof record.sha256 === 'string' && record.sha256.trim() !== '' ? record.sha256.trim().toLowerCase() : null;
    if (sha !== null && !/^[0-9a-f]{64}$/.test(sha))
      throw new RoteError(`${where}: sha256 must be 64 hex digits, got ${JSON.stringify(record.sha256)}`);
    const text = field(record, 'text', where);
    const problem = canaryTextProblem(text);
    if (problem !== null) throw new RoteError(`${where}: ${problem}`);
    if (hasDigit(normalizeText(text)))
      throw new RoteError(
        `${where}: text ${JSON.stringify(text)} holds a digit; a digit has many spoken forms, so write numbers as words`,
      );
    const language =
      typeof record.language === 'string' && record.language.trim() !== ''
        ? checkLanguageCode(record.language, where)
        : null;
    rows.push({
      line,
      id: field(record, 'id', where),
      text,
      language,
      repetitions: parseRepetitions(repetitionsValue, where),
      audio: field(record, 'audio', where),
      sha256: sha,
    });
  });
  if (rows.length === 0) throw new RoteError(`${file}: no canaries listed`);
  return rows;
}

function roundDuration(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

export async function importCanarySet(options: ImportCanariesOptions): Promise<ImportResult> {
  const resolved = resolveOptions(IMPORT_OPTION_SPECS, options);
  const list = resolve(resolved.list);
  const out = resolve(resolved.out);
  const { speed, membership } = resolved;
  const listLanguage = checkLanguageCode(resolved.language, '--language');
  let bytes: Buffer;
  try {
    bytes = await readFile(list);
  } catch (error) {
    throw new RoteError(
      `${options.list}: cannot read the canary list (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      { cause: error },
    );
  }
  const listSha256 = sha256Hex(bytes);
  const rows = parseCanaryList(bytes.toString('utf8'), options.list);
  checkListedCanaries(rows, options.list, membership);
  const audioDir = resolve(resolved.audioDir ?? dirname(list));
  await refuseOutputsOnInputs(
    [
      { path: list, what: 'the canary list', key: 'list' },
      { path: audioDir, what: 'the audio folder', key: 'audioDir' },
      ...rows.map((row) => ({ path: resolve(audioDir, row.audio), what: 'canary audio', key: 'list' })),
    ],
    [{ path: out, key: 'out', kind: 'folder' }],
  );
  const replacing = await checkCanarySetOutput(out, resolved.force);

  // Read, check and convert every WAV before writing anything.
  const { converted, sampleRate } = await convertListedAudio(rows, {
    list: options.list,
    listSha256,
    audioDir,
    onProgress: options.onProgress,
  });
  // One language for the set, or 'mul' (multiple) with each canary's own.
  const languages = new Set(rows.map((row) => row.language ?? listLanguage));
  const language = languages.size > 1 ? 'mul' : [...languages][0]!;
  const { set, paths } = await writeCanarySet(out, replacing, async (builder) => {
    const canaries: CanaryRecord[] = [];
    for (const { row, id, wav, durationSec } of converted.sort((a, b) => (a.id < b.id ? -1 : 1))) {
      canaries.push({
        id,
        text: row.text,
        repetitions: row.repetitions,
        audio: await builder.addAudio(id, wav, row.repetitions !== null),
        durationSec,
        sha256: sha256Hex(wav),
        tts: { engine: 'imported', version: 'unknown', voice: 'unknown', rate: 0, pitch: 0 },
        ...(languages.size > 1 ? { language: row.language ?? listLanguage } : {}),
        importedId: row.id,
      });
    }
    const provenance = { list: basename(list), listSha256 };
    return {
      parameters: importedParameters(canaries, { speed, sampleRate, membership, provenance, language }),
      canaries,
      sampleRate,
    };
  });
  return { set, dir: out, trainingDir: paths.trainingDir };
}

/** Ids listed once, bernoulli membership's repetitions, texts distinct after normalization, both groups present. */
function checkListedCanaries(rows: ListRow[], list: string, membership: 'groups' | 'bernoulli'): void {
  const firstLine = new Map<string, number>();
  for (const row of rows) {
    const earlier = firstLine.get(row.id);
    if (earlier !== undefined)
      throw new RoteError(`${list}:${row.line}: id ${row.id} is listed again (first on line ${earlier})`);
    firstLine.set(row.id, row.line);
    if (membership === 'bernoulli' && row.repetitions !== null && row.repetitions !== 1)
      throw new RoteError(
        `${list}:${row.line}: --membership bernoulli needs repetitions 1 or held-out (each candidate trained on once or not at all), got ${row.repetitions}`,
      );
  }
  const duplicate = duplicateCanaryText(
    rows.map((row) => ({ text: row.text, repetitions: row.repetitions, where: `${list}:${row.line}` })),
  );
  if (duplicate !== null) throw new RoteError(duplicate);
  if (!rows.some((row) => row.repetitions === null))
    throw new RoteError(
      `${list}: no held-out canary listed; an audit compares inserted canaries against held-out ones (mark some with repetitions held-out)`,
    );
  if (!rows.some((row) => row.repetitions !== null))
    throw new RoteError(`${list}: every canary is held-out; list the inserted ones with their repetitions`);
}

interface ConvertedCanary {
  row: ListRow;
  id: string;
  wav: Uint8Array;
  durationSec: number;
}

/** Every listed WAV read, checked (sha256, samples, one usable rate) and encoded 16-bit mono; errors name the list's line. */
async function convertListedAudio(
  rows: ListRow[],
  context: { list: string; listSha256: string; audioDir: string; onProgress: ImportCanariesOptions['onProgress'] },
): Promise<{ converted: ConvertedCanary[]; sampleRate: number }> {
  const converted: ConvertedCanary[] = [];
  let sampleRate: number | null = null;
  let rateLine = 0;
  for (const row of rows) {
    const where = `${context.list}:${row.line}`;
    const path = resolve(context.audioDir, row.audio);
    const decoded = await readListedAudio(row, path, where);
    if (sampleRate === null) {
      sampleRate = decoded.sampleRate;
      rateLine = row.line;
    } else if (decoded.sampleRate !== sampleRate) {
      throw new RoteError(
        `${where}: audio ${path} is at ${decoded.sampleRate} Hz, line ${rateLine}'s at ${sampleRate} Hz; resample the canaries to one rate first`,
      );
    }
    converted.push({
      row,
      id: sha256Hex(`rote imported canary id\n${context.listSha256}\n${row.id}`).slice(0, 12),
      wav: encodeWav16(decoded.samples, decoded.sampleRate),
      durationSec: roundDuration(decoded.samples.length / decoded.sampleRate),
    });
    context.onProgress?.(converted.length, rows.length);
  }
  if (new Set(converted.map((c) => c.id)).size !== converted.length)
    throw new Error('imported canary id collision (48-bit hash)');
  return { converted, sampleRate: sampleRate! };
}

/** One listed WAV, decoded: readable, as its sha256 says, with samples 16-bit PCM can hold, not silent, at a usable rate. */
async function readListedAudio(row: ListRow, path: string, where: string): Promise<DecodedAudio> {
  let source: Buffer;
  await refuseNonRegularFile(path, { what: 'audio', where, why: 'reading a pipe waits until something writes it' });
  try {
    source = await readFile(path);
  } catch (error) {
    throw new RoteError(
      `${where}: audio ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      { cause: error },
    );
  }
  if (row.sha256 !== null) {
    const actual = sha256Hex(source);
    if (actual !== row.sha256)
      throw new RoteError(
        `${where}: audio ${path} has sha256 ${actual}, the list says ${row.sha256}; the file changed after the list was made`,
      );
  }
  let decoded: DecodedAudio;
  try {
    decoded = decodeWav(source, path);
  } catch (error) {
    throw new RoteError(`${where}: ${(error as Error).message}`, { cause: error });
  }
  if (decoded.samples.length === 0) throw new RoteError(`${where}: audio ${path} holds no samples`);
  const badSamples = samplesOutsideFullScale(decoded.samples);
  if (badSamples !== null)
    throw new RoteError(
      `${where}: audio ${path} ${badSamples}; a canary is stored as 16-bit PCM, which would zero or clip them: fix the file (e.g. normalize it) and import again`,
    );
  const silent = silentAudio(decoded.samples);
  if (silent !== null) throw new RoteError(`${where}: audio ${path}: ${silent}, as generate refuses TTS output`);
  const rateRange = outOfRange(findSpec(GENERATE_OPTION_SPECS, 'sampleRate'), decoded.sampleRate);
  if (rateRange !== null)
    throw new RoteError(
      `${where}: audio ${path} is at ${decoded.sampleRate} Hz; a canary set's rate must be ${rateRange} Hz (as generate's --sample-rate): resample it first`,
    );
  return decoded;
}

/** The set's parameters for imported canaries: neutral values where rote chose nothing (see CanarySetParameters.imported). */
function importedParameters(
  canaries: CanaryRecord[],
  context: {
    speed: number;
    sampleRate: number;
    membership: 'groups' | 'bernoulli';
    provenance: { list: string; listSha256: string };
    language: string;
  },
): CanarySetParameters {
  const inserted = canaries.filter((c) => c.repetitions !== null);
  const repetitions = [...new Set(inserted.map((c) => c.repetitions!))].sort((a, b) => a - b);
  const words = new Set(canaries.flatMap((c) => c.text.split(/\s+/).filter(Boolean)));
  return {
    seed: 'imported',
    language: context.language,
    count: canaries.length,
    wordsPerCanary: Math.max(1, ...canaries.map((c) => c.text.split(/\s+/).filter(Boolean).length)),
    wordlist: { name: 'imported', sha256: context.provenance.listSha256, words: Math.max(1, words.size) },
    excludedWords: 0,
    voices: ['imported'],
    rate: 0,
    pitch: 0,
    speed: context.speed,
    speedMethod: 'tempo',
    sampleRate: context.sampleRate,
    repetitions,
    perGroup: Math.min(...repetitions.map((r) => inserted.filter((c) => c.repetitions === r).length)),
    holdout: canaries.length - inserted.length,
    ...(context.membership === 'bernoulli' ? { membership: 'bernoulli' as const, candidates: canaries.length } : {}),
    imported: context.provenance,
  };
}
