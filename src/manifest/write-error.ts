/**
 * Failed writes named after their destination, with what the error code
 * means: disk full names the file being written, not the one read; a
 * read-only target says so instead of "no such file".
 */
import { mkdir } from 'node:fs/promises';
import { RoteError } from '../util/errors.ts';

/** mkdir -p for an output directory, its failure named after the directory (a read-only target is not "no such file"). */
export async function makeDirectory(dir: string, flag = '--out'): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw writeError(dir, error, `cannot create the directory; choose a writable ${flag}`);
  }
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
  const what = meaning[code] ? `${meaning[code]} (${code})` : (code || (error as Error).message);
  return new RoteError(`${path}: ${what}; ${advice}`, { cause: error });
}
