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
