/**
 * Kaldi / ESPnet data directories: `wav.scp` (`<rec> <path or "cmd |">`),
 * `text` (`<utt> <transcript>`), `utt2spk`, `spk2utt`, optional `segments`
 * (`<utt> <rec> <start> <end>`) and other per-utterance, per-recording or
 * per-speaker tables. Every table is sorted on its first field in byte order
 * (`export LC_ALL=C; sort -k1,1 -u`, as utils/validate_data_dir.sh checks), so
 * canary lines are merged in at their sorted places while streaming.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RoteError } from '../../util/errors.ts';
import { emptySummary, scanBatches, type ScanSummary } from '../stream/lines.ts';
import { alreadyInjectedMessage, type CanaryTexts } from '../stream/canary-texts.ts';
import type { BloomFilter } from '../ids.ts';
import type { SeededRandom } from '../../util/random.ts';
import type { FileHashAlgorithm } from '../../util/hash.ts';
import type { ManifestWriter } from '../stream/writer.ts';

export const KALDI_EXPECTS = 'a directory with wav.scp, text and utt2spk';

/** Tables whose features cannot be made for canaries here: left out, to be recomputed. */
export const KALDI_DROPPED = new Set(['feats.scp', 'cmvn.scp', 'utt2num_frames']);

export type KaldiKey = 'utt' | 'rec' | 'spk';

export async function isKaldiDir(dir: string): Promise<boolean> {
  try {
    const names = new Set(await readdir(dir));
    return names.has('wav.scp') && names.has('text') && names.has('utt2spk');
  } catch {
    return false;
  }
}

/** Which id a table is keyed by (null: not a table, copied as is). */
export function kaldiTableKey(name: string, hasSegments: boolean): KaldiKey | null {
  if (name === 'wav.scp' || name.startsWith('reco2')) return hasSegments ? 'rec' : 'utt';
  if (name === 'text' || name === 'segments' || name.startsWith('utt2') || name === 'feats.scp') return 'utt';
  if (name.startsWith('spk2') || name === 'cmvn.scp') return 'spk';
  return null;
}

export interface KaldiFile {
  name: string;
  path: string;
  key: KaldiKey | null;
  summary: ScanSummary;
  /** Value (rest of the line) of the first line, the template for unknown tables. */
  firstValue: string;
}

export interface KaldiScan {
  dir: string;
  files: KaldiFile[];
  /** Files in the directory that are not regular files (sub-directories such as split*). */
  skipped: string[];
  hasSegments: boolean;
  utterances: number;
  template: { utt: string; spk: string; text: string; wav: string };
  /** A uniform sample of (utt, spk) pairs from utt2spk: templates for canary ids. */
  idSamples: Array<{ utt: string; spk: string }>;
}

const ID_SAMPLES = 256;

function splitKey(buf: Buffer, start: number, end: number): number {
  for (let i = start; i < end; i++) if (buf[i] === 32 || buf[i] === 9) return i;
  return end;
}

/**
 * Pass 1: every table checked (sorted, unique keys, UTF-8, no blank lines),
 * counted and hashed; every id added to `ids`; canary ids refused.
 */
export async function scanKaldiDir(
  dir: string,
  ids: BloomFilter,
  canaries: { ids: Set<string>; texts?: CanaryTexts },
  random: SeededRandom,
  hash: FileHashAlgorithm,
): Promise<KaldiScan> {
  const idSamples: Array<{ utt: string; spk: string }> = [];
  const names = (await readdir(dir)).sort();
  const hasSegments = names.includes('segments');
  const files: KaldiFile[] = [];
  const skipped: string[] = [];
  const template = { utt: '', spk: '', text: '', wav: '' };
  let utterances = 0;
  for (const name of names) {
    const path = join(dir, name);
    if (!(await stat(path)).isFile()) {
      skipped.push(name);
      continue;
    }
    const key = kaldiTableKey(name, hasSegments);
    const summary = emptySummary();
    let previous: Buffer | null = null;
    let firstValue = '';
    let count = 0;
    for await (const spans of scanBatches(path, { quoted: false, hash }, summary)) {
      if (key === null) continue;
      for (const span of spans) {
        const where = `${path}:${span.line}`;
        if (span.blank)
          throw new RoteError(
            `${where}: blank line; Kaldi tables need "<id> <value>" on every line (run utils/fix_data_dir.sh)`,
          );
        const keyEnd = splitKey(span.buf, span.start, span.contentEnd);
        const keyBytes = span.buf.subarray(span.start, keyEnd);
        if (keyBytes.length === 0)
          throw new RoteError(`${where}: line starts with whitespace; expected "<id> <value>"`);
        if (previous && Buffer.compare(previous, keyBytes) >= 0) {
          throw new RoteError(
            `${where}: "${keyBytes.toString()}" is ${Buffer.compare(previous, keyBytes) === 0 ? 'a duplicate id' : 'out of order'}; Kaldi tables must be sorted in C byte order (LC_ALL=C sort -k1,1 -u, or utils/fix_data_dir.sh)`,
          );
        }
        previous = Buffer.from(keyBytes);
        const id = keyBytes.toString('utf8');
        if (key === 'utt' || key === 'spk' || key === 'rec') ids.add(id);
        if (canaries.ids.has(id))
          throw new RoteError(
            `${where}: id "${id}" is a canary id of this set; the data dir already holds these canaries (inject into the original data dir)`,
          );
        const value = span.buf.toString('utf8', Math.min(keyEnd + 1, span.contentEnd), span.contentEnd);
        if (count === 0) firstValue = value;
        count++;
        if (name === 'text') {
          const canary = canaries.texts?.match(value);
          if (canary) throw new RoteError(alreadyInjectedMessage(where, canary, 'data dir'));
          if (count === 1) {
            template.utt = id;
            template.text = value;
          }
          utterances++;
        } else if (name === 'utt2spk') {
          if (count === 1) template.spk = value.trim();
          if (!value.trim()) throw new RoteError(`${where}: expected "<utt> <speaker>"`);
          // Reservoir sampling keeps a uniform sample in fixed memory.
          const slot = count <= ID_SAMPLES ? count - 1 : random.nextInt(count);
          if (slot < ID_SAMPLES) idSamples[slot] = { utt: id, spk: value.trim() };
        } else if (name === 'wav.scp' && count === 1) {
          template.wav = value;
        } else if (name === 'segments' && value.trim().split(/\s+/).length < 3) {
          throw new RoteError(`${where}: expected "<utt> <recording> <start> <end>"`);
        }
      }
    }
    files.push({ name, path, key, summary, firstValue });
  }
  for (const required of ['wav.scp', 'text', 'utt2spk']) {
    if (!files.some((f) => f.name === required))
      throw new RoteError(`${dir}: missing ${required}; a Kaldi data dir needs ${KALDI_EXPECTS}`);
  }
  return { dir, files, skipped, hasSegments, utterances, template, idSamples };
}

export interface KaldiLine {
  key: Buffer;
  line: string;
  /** Copy index in the injection's copy list (for positions), or -1. */
  copy: number;
}

/**
 * Pass 2 for one table: the table's lines with `insert` (sorted by key)
 * merged in. Returns the 1-based output line of each inserted copy.
 */
export async function mergeKaldiTable(
  file: KaldiFile,
  insert: KaldiLine[],
  writer: ManifestWriter,
  eol: string,
  hash: FileHashAlgorithm,
): Promise<{ summary: ScanSummary; lines: number; copyLines: Map<number, number> }> {
  const summary = emptySummary();
  const copyLines = new Map<number, number>();
  let next = 0;
  let written = 0;
  const writeInserted = async (before: Buffer | null): Promise<void> => {
    while (next < insert.length && (before === null || Buffer.compare(insert[next]!.key, before) < 0)) {
      written++;
      if (insert[next]!.copy >= 0) copyLines.set(insert[next]!.copy, written);
      await writer.write(Buffer.from(insert[next]!.line + eol));
      next++;
    }
  };
  let sawFinalNewline = true;
  for await (const spans of scanBatches(file.path, { quoted: false, hash }, summary)) {
    let runStart = -1;
    let runEnd = -1;
    for (const span of spans) {
      const key = span.buf.subarray(span.start, splitKey(span.buf, span.start, span.contentEnd));
      if (next < insert.length && Buffer.compare(insert[next]!.key, key) < 0) {
        if (runStart >= 0) await writer.write(Buffer.from(span.buf.subarray(runStart, runEnd)));
        runStart = -1;
        await writeInserted(key);
      }
      if (runStart < 0) runStart = span.start;
      runEnd = span.end;
      sawFinalNewline = span.end > span.contentEnd;
      written++;
    }
    if (runStart >= 0) await writer.write(Buffer.from(spans[0]!.buf.subarray(runStart, runEnd)));
  }
  if (next < insert.length && !sawFinalNewline) await writer.write(Buffer.from(eol));
  await writeInserted(null);
  return { summary, lines: written, copyLines };
}

/** The utterances of a data dir (from `text`, with speakers from `utt2spk`), for verify. */
export async function* kaldiUtterances(dir: string): AsyncGenerator<{ id: string; text: string; line: number }> {
  const path = join(dir, 'text');
  for await (const spans of scanBatches(path, { quoted: false }, emptySummary())) {
    for (const span of spans) {
      if (span.blank) continue;
      const keyEnd = splitKey(span.buf, span.start, span.contentEnd);
      yield {
        id: span.buf.toString('utf8', span.start, keyEnd),
        text: span.buf.toString('utf8', Math.min(keyEnd + 1, span.contentEnd), span.contentEnd),
        line: span.line,
      };
    }
  }
}

/** Audio of the given utterances: a file path, or the command when wav.scp holds a pipe. */
export async function kaldiAudioOf(
  dir: string,
  utterances: Set<string>,
): Promise<Map<string, { path?: string; command?: string }>> {
  const recordingOf = new Map<string, string[]>();
  const names = await readdir(dir);
  if (names.includes('segments')) {
    for await (const spans of scanBatches(join(dir, 'segments'), { quoted: false }, emptySummary())) {
      for (const span of spans) {
        const [utt, rec] = span.buf.toString('utf8', span.start, span.contentEnd).trim().split(/\s+/);
        if (utt && rec && utterances.has(utt)) recordingOf.set(rec, [...(recordingOf.get(rec) ?? []), utt]);
      }
    }
  } else {
    for (const utt of utterances) recordingOf.set(utt, [utt]);
  }
  const audio = new Map<string, { path?: string; command?: string }>();
  for await (const spans of scanBatches(join(dir, 'wav.scp'), { quoted: false }, emptySummary())) {
    for (const span of spans) {
      const keyEnd = splitKey(span.buf, span.start, span.contentEnd);
      const rec = span.buf.toString('utf8', span.start, keyEnd);
      const utts = recordingOf.get(rec);
      if (utts === undefined) continue;
      const value = span.buf.toString('utf8', keyEnd + 1, span.contentEnd).trim();
      for (const utt of utts) audio.set(utt, value.endsWith('|') ? { command: value } : { path: value });
    }
  }
  return audio;
}
