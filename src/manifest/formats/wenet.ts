/**
 * WeNet `data.list` (raw format): JSON lines {"key", "wav", "txt"}; extra
 * fields kept. WeNet opens `wav` as given, so canary paths are absolute.
 */
import type { RecordAdapter } from '../types.ts';
import {
  detectJsonStyle,
  fillFlatFields,
  jsonObjectMatcher,
  jsonObjectQuickCheck,
  parseJsonObject,
  requireString,
  resolveRecordAudio,
  SPEAKER_KEYS,
  stringifyJson,
} from './common.ts';

const EXPECTED = 'a WeNet object like {"key": "...", "wav": "/path.wav", "txt": "..."}';

export const wenetAdapter: RecordAdapter = {
  format: 'wenet',
  expects: 'JSON lines with "key", "wav" and "txt"',
  header: false,
  quoted: false,
  hasIds: true,
  quickCheck: jsonObjectQuickCheck,
  matches: jsonObjectMatcher(
    (fields) => typeof fields.key === 'string' && typeof fields.wav === 'string' && typeof fields.txt === 'string',
  ),
  parse(text, where) {
    const fields = parseJsonObject(text, where, EXPECTED);
    const id = requireString(fields, 'key', where, 'WeNet');
    const audio = requireString(fields, 'wav', where, 'WeNet');
    const transcript = requireString(fields, 'txt', where, 'WeNet');
    const speakerKey = Object.keys(fields).find((key) => SPEAKER_KEYS.has(key.toLowerCase()));
    return {
      id,
      audio,
      text: transcript,
      speaker: speakerKey === undefined ? undefined : String(fields[speakerKey]),
      fields,
    };
  },
  formatCanary(copy, template, context) {
    const fields = fillFlatFields(template.fields, copy, {
      audioKey: 'wav',
      audioValue: copy.audioPath,
      textKey: 'txt',
      idKey: 'key',
    });
    return stringifyJson(fields, detectJsonStyle(context.templateText));
  },
  resolveAudio: resolveRecordAudio,
};
