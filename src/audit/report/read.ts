/** Reading an audit report from a file: report.json, or the report.json inside a directory. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RoteError } from '../../util/errors.ts';
import { validateReport } from './schema.ts';
import type { AuditReport } from './types.ts';

/** Reads and validates a report.json (or the report.json inside a directory). */
export async function readAuditReport(path: string): Promise<{ report: AuditReport; path: string }> {
  let file = path;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') {
      file = join(path, 'report.json');
      return readAuditReport(file);
    }
    throw new RoteError(`${path}: cannot read the audit report (${code ?? (error as Error).message})`, {
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RoteError(`${file}: not JSON (${(error as Error).message}); pass a report.json written by rote audit`, {
      cause: error,
    });
  }
  return { report: validateReport(value, file), path: file };
}
