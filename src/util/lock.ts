/**
 * A lock on an output directory: a file `.rote.lock` created exclusively, holding who took it (pid, host, start
 * time, what). A second run is refused with the holder's details; a lock left by a process that is gone (same
 * host, pid no longer running) is taken over, and the caller is told.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { RoteError } from './errors.ts';
import { processIsAlive } from './process.ts';

export const LOCK_FILE = '.rote.lock';

export interface LockHolder {
  pid: number;
  host: string;
  started: string;
  what: string;
}

export interface DirectoryLock {
  path: string;
  holder: LockHolder;
  release(): Promise<void>;
  /** The same, synchronously (for a signal handler). */
  releaseSync(): void;
}

function describe(holder: LockHolder): string {
  return `pid ${holder.pid} on host ${holder.host}, started ${holder.started} (${holder.what})`;
}

/** How long an unreadable lock counts as one being written right now (not a torn lock of a crashed run). */
const FRESH_UNREADABLE_MS = 3000;

async function ageMs(path: string): Promise<number> {
  try {
    return Date.now() - (await stat(path)).mtimeMs;
  } catch {
    return Infinity;
  }
}

async function readHolder(path: string): Promise<{ text: string; holder: LockHolder | null } | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const value = JSON.parse(text) as LockHolder;
    if (typeof value.pid === 'number' && typeof value.host === 'string') return { text, holder: value };
  } catch {
    // A lock torn by a crash while it was written.
  }
  return { text, holder: null };
}

/**
 * Takes the lock on `dir` (which must exist) for `what`, e.g. "rote audit". Throws a RoteError naming the holder
 * when another live process holds it; `onNotice` hears about a stale lock taken over.
 */
export async function lockDirectory(
  dir: string,
  what: string,
  onNotice: (message: string) => void = () => {},
): Promise<DirectoryLock> {
  return lockPath(join(dir, LOCK_FILE), dir, what, onNotice, false);
}

/**
 * The lock on one output file `target` (its folder must exist): `.NAME.rote.lock` next to it, so runs writing other
 * files of that folder go on. The refusal names the lock file.
 */
export async function lockOutputFile(
  target: string,
  what: string,
  onNotice: (message: string, stale: LockHolder | null) => void = () => {},
): Promise<DirectoryLock> {
  return lockPath(outputLockPath(target), target, what, onNotice, true);
}

/** Where lockOutputFile keeps the lock of `target`. */
export function outputLockPath(target: string): string {
  return join(dirname(target), `.${basename(target)}.rote.lock`);
}

async function lockPath(
  path: string,
  subject: string,
  what: string,
  onNotice: (message: string, stale: LockHolder | null) => void,
  nameLock: boolean,
): Promise<DirectoryLock> {
  const holder: LockHolder = { pid: process.pid, host: hostname(), started: new Date().toISOString(), what };
  const text = `${JSON.stringify(holder)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await writeFile(path, text, { flag: 'wx' });
      return {
        path,
        holder,
        release: async () => {
          const current = await readHolder(path).catch(() => null);
          if (current?.text === text) await unlink(path).catch(() => {});
        },
        releaseSync: () => {
          try {
            if (readFileSync(path, 'utf8') === text) unlinkSync(path);
          } catch {
            // Gone already, or unreadable: nothing of ours to remove.
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const found = await readHolder(path);
    if (!found) continue;
    const other = found.holder;
    // An unreadable lock younger than a few seconds is most likely being written by a run that just created it:
    // wait for it rather than taking it over as stale.
    if (!other && (await ageMs(path)) < FRESH_UNREADABLE_MS) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      attempt--; // waiting is not an attempt: the lock ages past FRESH_UNREADABLE_MS, then counts as stale
      continue;
    }
    if (other && (other.host !== holder.host || processIsAlive(other.pid))) {
      const elsewhere = other.host !== holder.host ? `; if that run is gone, delete ${path}` : '';
      const lock = nameLock ? `, which holds the lock ${path}` : '';
      throw new RoteError(
        `${subject} is in use by another run: ${describe(other)}${lock}; wait for it to finish or choose another --out${elsewhere}`,
      );
    }
    // Stale: move it aside, and make sure what was moved is what was judged stale (another run may have taken over meanwhile).
    const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await rename(path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    const moved = await readHolder(aside);
    if (moved && moved.text !== found.text) {
      await rename(aside, path);
      continue;
    }
    await unlink(aside).catch(() => {});
    onNotice(
      `${subject}: took over the lock of a run that is gone (${other ? describe(other) : 'unreadable lock file'})`,
      other,
    );
  }
  throw new RoteError(`${path}: could not take the lock (other runs keep taking it); try again`);
}
