/**
 * SpeechBrain CSV (e.g. its LibriSpeech recipe): `ID,duration,wav,spk_id,wrd`,
 * extra columns kept. `$placeholders` in paths are expanded by SpeechBrain;
 * canary paths are written absolute.
 */
import type { RecordAdapter } from '../types.ts';
import { fillFlatFields, firstTextKey, resolveRecordAudio, SPEAKER_KEYS } from './common.ts';
import { formatRow, parseHeaderRow, parseRow, rowToFields } from './table.ts';

const AUDIO_COLUMNS = ['wav', 'file_path', 'path', 'audio'];

function audioColumn(columns: string[]): string | undefined {
  return AUDIO_COLUMNS.find((c) => columns.includes(c));
}

export const speechbrainAdapter: RecordAdapter = {
  format: 'speechbrain',
  expects: 'SpeechBrain CSV with columns ID, duration, wav (and e.g. spk_id, wrd)',
  header: true,
  quoted: true,
  hasIds: true,
  quickCheck: () => null,
  matches(_text, header) {
    return (
      !!header &&
      header.delimiter === ',' &&
      header.columns.includes('ID') &&
      header.columns.includes('duration') &&
      !!audioColumn(header.columns)
    );
  },
  parseHeader(text, where) {
    const header = parseHeaderRow(text, ',', where, ['ID', 'duration'], 'SpeechBrain CSV');
    if (!audioColumn(header.columns)) parseHeaderRow(text, ',', where, ['ID', 'duration', 'wav'], 'SpeechBrain CSV');
    return header;
  },
  parse(text, where, header) {
    const fields = rowToFields(parseRow(text, ',', where), header!, where);
    const textKey = firstTextKey(header!.columns);
    const speakerKey = header!.columns.find((key) => SPEAKER_KEYS.has(key.toLowerCase()));
    return {
      id: fields.ID,
      audio: fields[audioColumn(header!.columns)!],
      text: textKey ? fields[textKey] : undefined,
      speaker: speakerKey ? fields[speakerKey] : undefined,
      fields,
    };
  },
  formatCanary(copy, template, context) {
    const header = context.header!;
    const fields = fillFlatFields(template.fields, copy, {
      audioKey: audioColumn(header.columns)!,
      audioValue: copy.audioPath,
      textKey: firstTextKey(header.columns),
      idKey: 'ID',
    });
    for (const column of header.columns) if (/_format$/.test(column)) fields[column] = 'wav';
    return formatRow(fields, header);
  },
  resolveAudio: resolveRecordAudio,
};
