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
