import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { processIsAlive } from './process.ts';

/** A sibling temporary path for `target`, on the same file system so rename is atomic. */
export function temporarySibling(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** The name temporarySibling gives: `.NAME.tmp-PID-HEX`. */
const TEMPORARY_SIBLING = /^\.(.+)\.tmp-(\d+)-[0-9a-f]{8}$/;

/**
 * When the directory entry `entry` is a temporary sibling (temporarySibling) left by a process that is gone:
 * the name of the file it was for (`target`) and the pid that wrote it; otherwise null (not one, or its run is alive).
 */
export function deadTemporarySibling(entry: string): { target: string; pid: number } | null {
  const match = TEMPORARY_SIBLING.exec(entry);
  if (!match) return null;
  const pid = Number(match[2]);
  return processIsAlive(pid) ? null : { target: match[1]!, pid };
}

/** Writes a file through a temporary sibling and a rename: readers never see half a file. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temporary = temporarySibling(target);
  try {
    await writeFile(temporary, data);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
