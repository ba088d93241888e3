/**
 * Failed writes named after their destination, with what the error code
 * means: disk full names the file being written, not the one read; a
 * read-only target says so instead of "no such file".
 */
import { existsSync } from 'node:fs';
import { access, constants, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RoteError } from '../util/errors.ts';

/** mkdir -p for an output directory, its failure named after the directory (a read-only target is not "no such file"). */
export async function makeDirectory(dir: string, flag = '--out'): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw writeError(dir, await whyNotWritable(dir, error), `cannot create the directory; choose a writable ${flag}`);
  }
}

/**
 * The real reason a path cannot be created: a recursive mkdir under a
 * read-only or unwritable directory reports ENOENT; the nearest existing
 * ancestor's access check gives EROFS or EACCES instead.
 */
export async function whyNotWritable(path: string, error: unknown): Promise<unknown> {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return error;
  let existing = dirname(path);
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  try {
    await access(existing, constants.W_OK);
  } catch (reason) {
    return reason;
  }
  return error;
}

/** A write that failed, named after its destination, with what the error code means. */
export function writeError(path: string, error: unknown, advice: string): RoteError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const meaning: Record<string, string> = {
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    EROFS: 'read-only file system',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOTDIR: 'a path component is not a directory',
    EEXIST: 'already exists',
  };
  const what = meaning[code] ? `${meaning[code]} (${code})` : code || (error as Error).message;
  return new RoteError(`${path}: ${what}; ${advice}`, { cause: error });
}
