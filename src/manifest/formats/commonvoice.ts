/**
 * Common Voice TSV (train.tsv, validated.tsv, ...): tab-separated, no quoting,
 * header `client_id path sentence up_votes down_votes age gender accents
 * variant locale segment` (newer releases add sentence_id, sentence_domain).
 * `path` is a file name inside the `clips/` folder next to the TSV.
 */
import { createHash } from 'node:crypto';
import { dirname, join, relative, resolve } from 'node:path';
import type { RecordAdapter } from '../types.ts';
import { fillFlatFields, toPosix } from './common.ts';
import { formatRow, parseHeaderRow, parseRow, rowToFields } from './table.ts';

export const commonvoiceAdapter: RecordAdapter = {
  format: 'commonvoice',
  expects: 'Common Voice TSV with columns client_id, path, sentence',
  header: true,
  quoted: false,
  hasIds: true,
  quickCheck: (text) => (text.includes('\t') ? null : 'tab-separated fields'),
  matches(_text, header) {
    return (
      !!header &&
      header.delimiter === '\t' &&
      ['client_id', 'path', 'sentence'].every((c) => header.columns.includes(c))
    );
  },
  parseHeader(text, where) {
    return parseHeaderRow(text, '\t', where, ['client_id', 'path', 'sentence'], 'Common Voice TSV');
  },
  parse(text, where, header) {
    const fields = rowToFields(parseRow(text, '\t', where), header!, where);
    return {
      id: fields.path!.replace(/\.[^.]*$/, ''),
      audio: fields.path,
      text: fields.sentence,
      speaker: fields.client_id,
      fields,
    };
  },
  formatCanary(copy, template, context) {
    const header = context.header!;
    const clips = join(context.manifestDir, 'clips');
    const fields = fillFlatFields(template.fields, copy, {
      audioKey: 'path',
      audioValue: toPosix(relative(clips, copy.audioPath)),
      textKey: 'sentence',
    });
    if ('sentence_id' in fields) fields.sentence_id = createHash('sha256').update(copy.text).digest('hex');
    for (const key of ['up_votes', 'down_votes'])
      if (key in fields && !/^\d+$/.test(String(fields[key]))) fields[key] = '0';
    return formatRow(fields, header);
  },
  resolveAudio(record, manifestPath) {
    return record.audio ? resolve(dirname(manifestPath), 'clips', record.audio) : undefined;
  },
};
