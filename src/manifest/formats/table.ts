/**
 * Shared reading and writing of one CSV / TSV record against its header
 * (csv-parse and csv-stringify for quoting; TSV without quoting, as Common
 * Voice writes it).
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { RoteError } from '../../util/errors.ts';
import { breaksLineFormat } from '../../util/line-fields.ts';
import type { Header, Where } from '../types.ts';

export function parseRow(text: string, delimiter: string, where: Where): string[] {
  if (delimiter === '\t') return text.split('\t');
  try {
    const rows = parse(text, { delimiter, relax_column_count: true, bom: where.line === 1 }) as string[][];
    if (rows.length !== 1) throw new Error(`${rows.length} rows in one record`);
    return rows[0]!;
  } catch (error) {
    throw new RoteError(
      `${where.file}:${where.line}: malformed CSV record (${(error as Error).message}); expected ${delimiter === ',' ? 'comma' : 'delimiter'}-separated fields with "..." quoting`,
      { cause: error },
    );
  }
}

export function parseHeaderRow(
  text: string,
  delimiter: string,
  where: Where,
  required: string[],
  formatName: string,
): Header {
  const columns = parseRow(text.replace(/^\uFEFF/, ''), delimiter, where).map((c) => c.trim());
  const missing = required.filter((name) => !columns.includes(name));
  if (missing.length > 0) {
    throw new RoteError(
      `${where.file}:${where.line}: ${formatName} header lacks column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} (found: ${columns.join(', ')})`,
    );
  }
  return { columns, delimiter };
}

export function rowToFields(values: string[], header: Header, where: Where): Record<string, string> {
  if (values.length !== header.columns.length) {
    throw new RoteError(
      `${where.file}:${where.line}: ${values.length} fields where the header has ${header.columns.length} (${header.columns.join(', ')})`,
    );
  }
  const fields: Record<string, string> = {};
  header.columns.forEach((column, index) => (fields[column] = values[index]!));
  return fields;
}

export function formatRow(fields: Record<string, unknown>, header: Header): string {
  const values = header.columns.map((column) => {
    const value = fields[column];
    return value === null || value === undefined
      ? ''
      : typeof value === 'object'
        ? String((value as { value?: unknown }).value ?? '')
        : String(value);
  });
  if (header.delimiter === '\t') {
    if (values.some(breaksLineFormat))
      throw new RoteError('a canary field contains a tab or newline, which a TSV without quoting cannot hold');
    return values.join('\t');
  }
  return stringify([values], { delimiter: header.delimiter, record_delimiter: '' });
}
