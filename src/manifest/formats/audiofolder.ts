/**
 * Hugging Face audiofolder `metadata.csv`: a `file_name` column (path relative
 * to the metadata file's folder, which must hold the audio) plus the
 * transcription column the dataset uses (e.g. `transcription`, `text`).
 */
import { relative } from 'node:path';
import type { RecordAdapter } from '../types.ts';
import { fillFlatFields, firstTextKey, resolveRecordAudio, SPEAKER_KEYS, toPosix } from './common.ts';
import { formatRow, parseHeaderRow, parseRow, rowToFields } from './table.ts';

export const audiofolderAdapter: RecordAdapter = {
  format: 'audiofolder',
  expects: 'Hugging Face audiofolder metadata.csv with a "file_name" column and a transcription column',
  header: true,
  quoted: true,
  hasIds: true,
  quickCheck: () => null,
  matches(_text, header) {
    return !!header && header.delimiter === ',' && header.columns.includes('file_name');
  },
  parseHeader(text, where) {
    const header = parseHeaderRow(text, ',', where, ['file_name'], 'audiofolder metadata.csv');
    if (!firstTextKey(header.columns) && header.columns.length < 2) {
      parseHeaderRow(text, ',', where, ['file_name', 'transcription'], 'audiofolder metadata.csv');
    }
    return header;
  },
  parse(text, where, header) {
    const fields = rowToFields(parseRow(text, ',', where), header!, where);
    const textKey = firstTextKey(header!.columns) ?? header!.columns.find((c) => c !== 'file_name')!;
    const speakerKey = header!.columns.find((key) => SPEAKER_KEYS.has(key.toLowerCase()));
    const fileName = fields.file_name!;
    return {
      id: fileName.replace(/^.*\//, '').replace(/\.[^.]*$/, ''),
      audio: fileName,
      text: fields[textKey],
      speaker: speakerKey ? fields[speakerKey] : undefined,
      fields,
    };
  },
  formatCanary(copy, template, context) {
    const header = context.header!;
    const textKey = firstTextKey(header.columns) ?? header.columns.find((c) => c !== 'file_name')!;
    const fields = fillFlatFields(template.fields, copy, {
      audioKey: 'file_name',
      audioValue: toPosix(relative(context.manifestDir, copy.audioPath)),
      textKey,
    });
    return formatRow(fields, header);
  },
  resolveAudio: resolveRecordAudio,
};
