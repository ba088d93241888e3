/**
 * An error caused by the user's input (a bad option, file, line or field).
 * The CLI prints its message without a stack trace and exits with `exitCode`.
 */
export class RoteError extends Error {
  readonly exitCode: number;
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'RoteError';
    this.exitCode = options.exitCode ?? 2;
  }
}

interface SystemError extends Error {
  code: string;
  syscall: string;
  path?: string;
  dest?: string;
}

const SYSTEM_ERROR_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of this path is not a directory',
  EISDIR: 'is a directory, a file was expected',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  EXDEV: 'cannot move across file systems',
  EMFILE: 'too many open files',
  ELOOP: 'symbolic link loop (a link points back at itself)',
};

/**
 * One line for a Node system error (ENOENT, EACCES, ...) naming the path,
 * or null for any other error.
 */
export function describeSystemError(error: unknown): string | null {
  const system = error as SystemError;
  if (!(error instanceof Error) || typeof system.code !== 'string' || typeof system.syscall !== 'string') return null;
  const where = system.path ?? system.dest;
  return `${where ? `${where}: ` : ''}${SYSTEM_ERROR_TEXT[system.code] ?? system.message} (${system.code} in ${system.syscall})`;
}

/** The nearest existing ancestor of `path` (or `path` itself). */
async function nearestExisting(path: string): Promise<string> {
  const { stat } = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  let current = path;
  for (;;) {
    try {
      await stat(current);
      return current;
    } catch {
      const parent = dirname(current);
      if (parent === current) return current;
      current = parent;
    }
  }
}

/**
 * Turns a failure to write output at `destination` (given with `flag`, e.g. "--out") into a RoteError that names the
 * destination and the real cause: a full disk (whose error names no path), a read-only file system or a missing
 * permission (which a recursive mkdir reports as ENOENT). Other errors come back unchanged.
 */
export async function explainWriteFailure(error: unknown, destination: string, flag: string): Promise<unknown> {
  if (error instanceof RoteError) return error;
  const code = (error as NodeJS.ErrnoException)?.code;
  const text = (reason: string, errno: string) =>
    new RoteError(
      `${flag} ${destination}: cannot write there: ${reason} (${errno}); ${errno === 'ENOSPC' || errno === 'EDQUOT' ? 'free some space or ' : ''}choose another ${flag}`,
      { cause: error },
    );
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return text(code === 'ENOSPC' ? 'no space left on the device' : 'disk quota exceeded', code);
  if (code === 'EROFS') return text('read-only file system', code);
  if (code === 'EEXIST' && (error as NodeJS.ErrnoException).syscall === 'mkdir') {
    return new RoteError(
      `${flag} ${destination}: ${(error as NodeJS.ErrnoException).path ?? destination} is a file where a folder is needed; choose another ${flag}`,
      { cause: error },
    );
  }
  if (code === 'EISDIR' && (error as NodeJS.ErrnoException).syscall === 'rename')
    return new RoteError(`${flag} ${destination} is a folder; give a file path`, { cause: error });
  if (code === 'EACCES' || code === 'EPERM') return text('permission denied', code);
  if (code === 'ENOENT' && (error as NodeJS.ErrnoException).syscall === 'mkdir') {
    const { access, constants } = await import('node:fs/promises');
    const existing = await nearestExisting(destination);
    try {
      await access(existing, constants.W_OK);
    } catch (denied) {
      const deniedCode = (denied as NodeJS.ErrnoException).code ?? 'EACCES';
      return text(
        `${existing} is ${deniedCode === 'EROFS' ? 'on a read-only file system' : 'not writable'}`,
        deniedCode,
      );
    }
  }
  return error;
}
