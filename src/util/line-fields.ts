/**
 * Line formats (Kaldi tables, TSV without quoting such as Common Voice's) hold one record a line and
 * separate fields by tabs or spaces: a field with a line break or tab would split its record.
 */

/** Tab, line feed, carriage return and the other characters some readers take as a line break. */
const LINE_BREAK_OR_TAB = /[\t\n\v\f\r\u0085\u2028\u2029]/u;

/** True when `value` holds a character that breaks a record of a line format. */
export function breaksLineFormat(value: string): boolean {
  return LINE_BREAK_OR_TAB.test(value);
}
