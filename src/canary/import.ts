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
 * Every WAV is decoded (channels averaged) and written 16-bit mono; all must
 * share one sample rate. The set records where it came from
 * (parameters.imported: the list's name and sha256). Bad rows are errors that
 * name the file and line; nothing is written until every row checks out.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { RoteError } from '../util/errors.ts';
import { resolveOption } from '../util/options.ts';
import { IMPORT_OPTION_SPECS } from './options.ts';
import { sha256Hex } from '../util/hash.ts';
import { temporarySibling } from '../util/atomic.ts';
import { decodeWav, encodeWav16 } from '../audio/wav.ts';
import { canarySetDocuments } from './canonical.ts';
import { CANARY_SET_OUTPUT } from './generate.ts';
import { checkOutputFolder, moveIntoPlace } from '../util/output-folder.ts';
import { refuseOutputsOnInputs } from '../util/output-guard.ts';
import { refuseNonRegularFile } from '../util/input-file.ts';
import type { CanaryRecord, CanarySet, CanarySetParameters } from './types.ts';

export interface ImportCanariesOptions {
  /** The list: .tsv (header row: id, text, repetitions, audio[, sha256]) or .jsonl / .json lines. */
  list: string;
  /** Folder the list's audio paths are relative to (default: the list's folder). */
  audioDir?: string;
  /** Output directory of the canary set. */
  out: string;
  /** Speed-up already applied to the audio, recorded only (default 1: none or unknown). */
  speed?: number;
  /** 'bernoulli': the list's canaries were each trained on once with independent probability 1/2 (repetitions 1 or held-out), for the one-run ε audit. */
  membership?: 'groups' | 'bernoulli';
  force?: boolean;
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
}

const HELD_OUT = new Set(['held-out', 'heldout', 'holdout', 'held_out', '0', '']);
const REQUIRED = ['id', 'text', 'repetitions', 'audio'] as const;

function parseRepetitions(value: unknown, where: string): number | null {
  if (value === null || value === 0) return null;
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value > 0) return value;
  } else if (typeof value === 'string') {
    const trimmed = value.trim().toLowerCase();
    if (HELD_OUT.has(trimmed)) return null;
    if (/^\d+$/.test(trimmed) && Number(trimmed) > 0) return Number(trimmed);
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
    rows.push({
      line,
      id: field(record, 'id', where),
      text: field(record, 'text', where),
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
  const option = <T>(key: (typeof IMPORT_OPTION_SPECS)[number]['key'], value: T | undefined) =>
    resolveOption(IMPORT_OPTION_SPECS, key, value);
  const list = resolve(option('list', options.list)!);
  const out = resolve(option('out', options.out)!);
  const speed = option('speed', options.speed)!;
  const membership = option('membership', options.membership)!;
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
  const firstLine = new Map<string, number>();
  for (const row of rows) {
    const earlier = firstLine.get(row.id);
    if (earlier !== undefined)
      throw new RoteError(`${options.list}:${row.line}: id ${row.id} is listed again (first on line ${earlier})`);
    firstLine.set(row.id, row.line);
    if (membership === 'bernoulli' && row.repetitions !== null && row.repetitions !== 1)
      throw new RoteError(
        `${options.list}:${row.line}: --membership bernoulli needs repetitions 1 or held-out (each candidate trained on once or not at all), got ${row.repetitions}`,
      );
  }
  if (!rows.some((row) => row.repetitions === null))
    throw new RoteError(
      `${options.list}: no held-out canary listed; an audit compares inserted canaries against held-out ones (mark some with repetitions held-out)`,
    );
  if (!rows.some((row) => row.repetitions !== null))
    throw new RoteError(`${options.list}: every canary is held-out; list the inserted ones with their repetitions`);
  const audioDir = resolve(options.audioDir ?? dirname(list));
  await refuseOutputsOnInputs(
    [
      { path: list, what: 'the canary list', key: 'list' },
      { path: audioDir, what: 'the audio folder', key: 'audioDir' },
      ...rows.map((row) => ({ path: resolve(audioDir, row.audio), what: 'canary audio', key: 'list' })),
    ],
    [{ path: out, key: 'out', kind: 'folder' }],
  );
  const replacing = await checkOutputFolder(out, options.force ?? false, CANARY_SET_OUTPUT);

  // Read, check and convert every WAV before writing anything.
  const converted: { row: ListRow; id: string; wav: Uint8Array; durationSec: number }[] = [];
  let sampleRate: number | null = null;
  let rateLine = 0;
  for (const row of rows) {
    const where = `${options.list}:${row.line}`;
    const path = resolve(audioDir, row.audio);
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
    let decoded: ReturnType<typeof decodeWav>;
    try {
      decoded = decodeWav(source, path);
    } catch (error) {
      throw new RoteError(`${where}: ${(error as Error).message}`, { cause: error });
    }
    if (decoded.samples.length === 0) throw new RoteError(`${where}: audio ${path} holds no samples`);
    if (sampleRate === null) {
      sampleRate = decoded.sampleRate;
      rateLine = row.line;
    } else if (decoded.sampleRate !== sampleRate) {
      throw new RoteError(
        `${where}: audio ${path} is at ${decoded.sampleRate} Hz, line ${rateLine}'s at ${sampleRate} Hz; resample the canaries to one rate first`,
      );
    }
    const id = sha256Hex(`rote imported canary id\n${listSha256}\n${row.id}`).slice(0, 12);
    converted.push({
      row,
      id,
      wav: encodeWav16(decoded.samples, decoded.sampleRate),
      durationSec: roundDuration(decoded.samples.length / decoded.sampleRate),
    });
    options.onProgress?.(converted.length, rows.length);
  }
  if (new Set(converted.map((c) => c.id)).size !== converted.length)
    throw new Error('imported canary id collision (48-bit hash)');

  const canaries: CanaryRecord[] = converted
    .map(({ row, id, wav, durationSec }) => ({
      id,
      text: row.text,
      repetitions: row.repetitions,
      audio: `audio/${id}.wav`,
      durationSec,
      sha256: sha256Hex(wav),
      tts: { engine: 'imported', version: 'unknown', voice: 'unknown', rate: 0, pitch: 0 },
      importedId: row.id,
    }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  const inserted = canaries.filter((c) => c.repetitions !== null);
  const repetitions = [...new Set(inserted.map((c) => c.repetitions!))].sort((a, b) => a - b);
  const words = new Set(canaries.flatMap((c) => c.text.split(/\s+/).filter(Boolean)));
  const parameters: CanarySetParameters = {
    seed: 'imported',
    count: canaries.length,
    wordsPerCanary: Math.max(1, ...canaries.map((c) => c.text.split(/\s+/).filter(Boolean).length)),
    wordlist: { name: 'imported', sha256: listSha256, words: Math.max(1, words.size) },
    excludedWords: 0,
    voices: ['imported'],
    rate: 0,
    pitch: 0,
    speed,
    speedMethod: 'tempo',
    sampleRate: sampleRate!,
    repetitions,
    perGroup: Math.min(...repetitions.map((r) => inserted.filter((c) => c.repetitions === r).length)),
    holdout: canaries.length - inserted.length,
    ...(membership === 'bernoulli' ? { membership: 'bernoulli' as const, candidates: canaries.length } : {}),
    imported: { list: basename(list), listSha256 },
  };
  const { set, training } = canarySetDocuments(parameters, canaries, sampleRate!);

  const temporary = temporarySibling(out);
  try {
    await mkdir(join(temporary, 'audio'), { recursive: true });
    await mkdir(join(temporary, 'for-training', 'audio'), { recursive: true });
    const wavs = new Map(converted.map((c) => [c.id, c.wav]));
    for (const canary of canaries) {
      await writeFile(join(temporary, canary.audio), wavs.get(canary.id)!);
      if (canary.repetitions !== null)
        await writeFile(join(temporary, 'for-training', canary.audio), wavs.get(canary.id)!);
    }
    await writeFile(join(temporary, 'canary-set.json'), `${JSON.stringify(set, null, 2)}\n`);
    await writeFile(join(temporary, 'for-training', 'canaries.json'), `${JSON.stringify(training, null, 2)}\n`);
    await moveIntoPlace(temporary, out, replacing);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
  return { set, dir: out, trainingDir: join(out, 'for-training') };
}
