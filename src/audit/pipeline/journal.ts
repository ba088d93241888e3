/**
 * rows.jsonl: the audit's resumable journal. Line 1 is a header naming what the
 * rows belong to (canary set, model files, the options that change
 * transcriptions); every further line is one TranscribedRow, appended as soon
 * as it is transcribed. A run killed mid-write leaves at most a torn last
 * line, which the next run drops.
 */
import { open, readFile } from 'node:fs/promises';
import { RoteError } from '../../util/errors.ts';
import { OptionError } from '../../util/options.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import type { TranscribedRow } from './build-report.ts';

export const JOURNAL_FORMAT = 1;

export interface JournalHeader {
  kind: 'rote-audit-rows';
  format: typeof JOURNAL_FORMAT;
  setId: string;
  canarySetSha256: string;
  modelFingerprint: string;
  /** Options that change transcriptions; a resume must use the same. */
  transcription: { provider: string; batchFrames: number | null };
}

export interface Journal {
  header: JournalHeader;
  rows: TranscribedRow[];
}

function sameHeader(a: JournalHeader, b: JournalHeader): string | null {
  if (a.setId !== b.setId || a.canarySetSha256 !== b.canarySetSha256)
    return `canary set ${a.setId.slice(0, 12)} instead of ${b.setId.slice(0, 12)}`;
  if (a.modelFingerprint !== b.modelFingerprint)
    return `model fingerprint ${a.modelFingerprint.slice(0, 12)} instead of ${b.modelFingerprint.slice(0, 12)}`;
  if (a.transcription.provider !== b.transcription.provider)
    return `--provider ${a.transcription.provider} instead of ${b.transcription.provider}`;
  if (a.transcription.batchFrames !== b.transcription.batchFrames)
    return `--batch-frames ${a.transcription.batchFrames ?? 'default'} instead of ${b.transcription.batchFrames ?? 'default'}`;
  return null;
}

function isRow(value: unknown): value is TranscribedRow {
  const row = value as TranscribedRow;
  return (
    typeof row === 'object' &&
    row !== null &&
    typeof row.id === 'string' &&
    typeof row.hypothesis === 'string' &&
    typeof row.durationSec === 'number' &&
    typeof row.frames === 'number' &&
    Array.isArray(row.notes) &&
    typeof row.provider === 'string' &&
    (row.referenceScore === null ||
      (typeof row.referenceScore === 'object' && typeof row.referenceScore.perCharacter === 'number'))
  );
}

/**
 * Opens the journal at `path` for `header`: returns the rows already done
 * (none for a new journal, or with `restart`). Refuses a journal written for
 * another set, model or transcription options. Rewrites the file when its
 * last line was torn.
 */
export async function openJournal(
  path: string,
  header: JournalHeader,
  options: { restart?: boolean } = {},
): Promise<Journal> {
  let text: string | null = null;
  if (!options.restart) {
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new RoteError(`${path}: cannot read the audit journal (${(error as Error).message})`, { cause: error });
    }
  }
  if (text === null || text.trim() === '') {
    await writeFileAtomic(path, `${JSON.stringify(header)}\n`);
    return { header, rows: [] };
  }
  // What follows the last newline is empty, or a line torn by a kill.
  const complete = text.split('\n').slice(0, -1);
  const torn = !text.endsWith('\n');
  let found: JournalHeader;
  try {
    found = JSON.parse(complete[0] ?? '') as JournalHeader;
  } catch {
    throw new OptionError(
      (name) =>
        `${path}: line 1 is not an audit journal header; use another ${name('out')} directory or ${name('restart')}`,
    );
  }
  if (found?.kind !== 'rote-audit-rows' || found.format !== JOURNAL_FORMAT)
    throw new OptionError(
      (name) =>
        `${path}: not a rote audit journal (format ${JOURNAL_FORMAT}); use another ${name('out')} directory or ${name('restart')}`,
    );
  const mismatch = sameHeader(found, header);
  if (mismatch)
    throw new OptionError(
      (name) =>
        `${path}: these rows belong to another audit (${mismatch}); use another ${name('out')} directory, or ${name('restart')} to discard them`,
    );

  const rows = new Map<string, TranscribedRow>();
  let droppedTail = torn;
  for (let i = 1; i < complete.length; i++) {
    let value: unknown;
    try {
      value = JSON.parse(complete[i]!);
    } catch {
      if (i === complete.length - 1) {
        droppedTail = true;
        complete.length = i;
        break;
      }
      throw new OptionError(
        (name) => `${path}:${i + 1}: not a JSON row; the journal is damaged: use ${name('restart')}`,
      );
    }
    if (!isRow(value))
      throw new OptionError(
        (name) => `${path}:${i + 1}: not a transcription row; the journal is damaged: use ${name('restart')}`,
      );
    rows.set(value.id, value);
  }
  if (droppedTail) await writeFileAtomic(path, complete.map((line) => `${line}\n`).join(''));
  return { header: found, rows: [...rows.values()] };
}

/** Appends rows one line per write, so a kill leaves only whole rows (and at most one torn line). */
export class JournalWriter {
  private constructor(private readonly handle: Awaited<ReturnType<typeof open>>) {}

  static async open(path: string): Promise<JournalWriter> {
    return new JournalWriter(await open(path, 'a'));
  }

  async append(row: TranscribedRow): Promise<void> {
    await this.handle.write(`${JSON.stringify(row)}\n`);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
