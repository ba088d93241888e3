/**
 * Inputs rote reads more than once, or seeks in (manifests: pass 1 and pass 2; canary audio: read and checked),
 * must be regular files: a FIFO, a terminal or /dev/stdin from a pipe gives ESPIPE or waits forever. They are
 * refused up front, before anything is opened, with what to do instead.
 */
import { stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { RoteError } from './errors.ts';
import { explainLinkLoop } from './output-guard.ts';

function kindOf(info: Stats): string {
  if (info.isFIFO()) return 'a pipe (FIFO)';
  if (info.isCharacterDevice()) return 'a character device (a terminal or /dev/...)';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Throws a RoteError when `path` exists and is neither a regular file nor (with `directories`) a directory;
 * `where` prefixes the message (a file:line or the path), `what` names the input ("the manifest"), `why` says why a
 * regular file is needed.
 * A missing path is left to the caller's reader; a symbolic link loop is reported as such.
 */
export async function refuseNonRegularFile(
  path: string,
  options: { what: string; why: string; where?: string; directories?: boolean },
): Promise<void> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw explainLinkLoop(error, path);
    return;
  }
  if (info.isFile() || (options.directories && info.isDirectory())) return;
  const subject = options.where ? `${options.where}: ${options.what} ${path}` : `${path}: ${options.what}`;
  if (info.isDirectory()) throw new RoteError(`${subject} is a folder; give a file`);
  throw new RoteError(
    `${subject} is ${kindOf(info)}, not a regular file (${options.why}); ` +
      `write it to a file first (e.g. cat ... > file) and give that file`,
  );
}
