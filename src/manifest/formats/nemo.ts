/**
 * NeMo JSONL: one object per line with `audio_filepath`, `duration` (s) and
 * `text`; optional `offset` and any extra fields (kept). Relative paths are
 * resolved against the manifest's directory (NeMo's manifest.get_full_path).
 */
import { RoteError } from '../../util/errors.ts';
import type { RecordAdapter } from '../types.ts';
import {
  detectJsonStyle,
  fillFlatFields,
  jsonObjectMatcher,
  jsonObjectQuickCheck,
  parseJsonObject,
  pathLike,
  requireString,
  resolveRecordAudio,
  SPEAKER_KEYS,
  stringifyJson,
} from './common.ts';

const EXPECTED = 'a NeMo object like {"audio_filepath": "...", "duration": 1.5, "text": "..."}';

export const nemoAdapter: RecordAdapter = {
  format: 'nemo',
  expects: 'JSON lines with "audio_filepath", "duration" and "text"',
  header: false,
  quoted: false,
  hasIds: false,
  acceptsByFieldKinds: true,
  quickCheck: jsonObjectQuickCheck,
  matches: jsonObjectMatcher((fields) => typeof fields.audio_filepath === 'string'),
  parse(text, where) {
    const fields = parseJsonObject(text, where, EXPECTED);
    const audio = requireString(fields, 'audio_filepath', where, 'NeMo');
    if (typeof fields.duration !== 'number') {
      throw new RoteError(
        `${where.file}:${where.line}: NeMo record needs a numeric "duration" field in seconds${fields.duration === undefined ? ' (missing)' : ''}`,
      );
    }
    const transcript = requireString(fields, 'text', where, 'NeMo');
    const speakerKey = Object.keys(fields).find((key) => SPEAKER_KEYS.has(key.toLowerCase()));
    return {
      audio,
      text: transcript,
      speaker: speakerKey === undefined ? undefined : String(fields[speakerKey]),
      fields,
    };
  },
  formatCanary(copy, template, context) {
    const audioValue = pathLike(template.audio, copy.audioPath, context.manifestDir);
    const fields = fillFlatFields(template.fields, copy, { audioKey: 'audio_filepath', audioValue, textKey: 'text' });
    return stringifyJson(fields, detectJsonStyle(context.templateText));
  },
  resolveAudio: resolveRecordAudio,
};
