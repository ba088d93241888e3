/**
 * Lhotse JSONL (optionally .jsonl.gz) manifests, as lhotse's to_dict writes them:
 * - cuts: MonoCut {id, start, duration, channel, supervisions[], recording{}, type};
 * - recordings: {id, sources[{type, channels, source}], sampling_rate, num_samples, duration, channel_ids};
 * - supervisions: {id, recording_id, start, duration, channel, text, language, speaker, ...}.
 * A canary copy becomes one recording with one full-length supervision.
 */
import { RoteError } from '../../util/errors.ts';
import type { CanaryCopy, ManifestRecord, RecordAdapter, Where } from '../types.ts';
import {
  detectJsonStyle,
  jsonObjectMatcher,
  jsonObjectQuickCheck,
  parseJsonObject,
  PyFloat,
  resolveRecordAudio,
  SPEAKER_ATTRIBUTE_KEYS,
  speakerValue,
  stringifyJson,
} from './common.ts';

type Json = Record<string, unknown>;

const isRecording = (fields: Json): boolean =>
  Array.isArray(fields.sources) && typeof fields.sampling_rate === 'number';
const isSupervision = (fields: Json): boolean =>
  typeof fields.recording_id === 'string' && typeof fields.start === 'number' && !('sources' in fields);
const isCut = (fields: Json): boolean =>
  (typeof fields.type === 'string' && /Cut$/.test(fields.type)) ||
  (Array.isArray(fields.supervisions) && typeof fields.id === 'string' && 'duration' in fields);

/** What the three lhotse manifests share: JSON objects, one a line, each with an id. */
const LHOTSE_LINES = { header: false, quoted: false, hasIds: true, quickCheck: jsonObjectQuickCheck } as const;

function recordingSource(recording: unknown): string | undefined {
  const sources = (recording as Json | undefined)?.sources;
  if (!Array.isArray(sources) || sources.length === 0) return undefined;
  const source = sources[0] as Json;
  return source.type === 'file' && typeof source.source === 'string' ? source.source : undefined;
}

function fail(where: Where, what: string): never {
  throw new RoteError(`${where.file}:${where.line}: ${what}`);
}

function recordingFor(copy: CanaryCopy, template: Json | undefined): Json {
  const out: Json = {
    id: copy.recordingId,
    sources: [{ type: 'file', channels: [0], source: copy.audioPath }],
    sampling_rate: copy.sampleRate,
    num_samples: copy.numSamples,
    duration: new PyFloat(copy.durationSec),
    channel_ids: [0],
  };
  if (template && 'transforms' in template) delete out.transforms;
  return out;
}

function supervisionFor(copy: CanaryCopy, template: Json | undefined): Json {
  const base: Json =
    template && Object.keys(template).length > 0
      ? template
      : { id: '', recording_id: '', start: 0, duration: 0, channel: 0, text: '', speaker: '' };
  const out: Json = {};
  for (const [key, value] of Object.entries(base)) {
    if (key === 'id') out[key] = copy.recordId;
    else if (key === 'recording_id') out[key] = copy.recordingId;
    else if (key === 'start') out[key] = new PyFloat(0);
    else if (key === 'duration') out[key] = new PyFloat(copy.durationSec);
    else if (key === 'channel') out[key] = Array.isArray(value) ? [0] : 0;
    else if (key === 'text') out[key] = copy.text;
    else if (key === 'speaker') out[key] = speakerValue(value, copy.speaker);
    else if (key === 'alignment') continue;
    else if (SPEAKER_ATTRIBUTE_KEYS.has(key)) out[key] = null;
    else out[key] = value;
  }
  if (!('text' in out)) out.text = copy.text;
  return out;
}

function speakerOf(supervision: unknown): string | undefined {
  const speaker = (supervision as Json | undefined)?.speaker;
  return speaker === undefined || speaker === null ? undefined : String(speaker);
}

export const lhotseCutsAdapter: RecordAdapter = {
  format: 'lhotse-cuts',
  expects: 'lhotse cuts: JSON lines with "id", "supervisions", "recording" and "type": "MonoCut"',
  ...LHOTSE_LINES,
  matches: jsonObjectMatcher(isCut),
  parse(text, where): ManifestRecord {
    const fields = parseJsonObject(text, where, 'a lhotse cut object');
    if (typeof fields.id !== 'string') fail(where, 'lhotse cut needs a string "id"');
    if (!Array.isArray(fields.supervisions)) fail(where, 'lhotse cut needs a "supervisions" list');
    const supervisions = fields.supervisions as Json[];
    const recording = fields.recording as Json | undefined;
    const texts = supervisions.map((s) => s.text).filter((t): t is string => typeof t === 'string');
    return {
      id: fields.id,
      audio: recordingSource(recording),
      text: texts.length ? texts.join(' ') : undefined,
      speaker: speakerOf(supervisions[0]),
      sampleRate: typeof recording?.sampling_rate === 'number' ? recording.sampling_rate : undefined,
      fields,
    };
  },
  formatCanary(copy, template, context) {
    const t = template.fields;
    const out: Json = {};
    const keys = Object.keys(t).length
      ? Object.keys(t)
      : ['id', 'start', 'duration', 'channel', 'supervisions', 'recording', 'type'];
    for (const key of keys) {
      if (key === 'id') out.id = copy.recordId;
      else if (key === 'start') out.start = new PyFloat(0);
      else if (key === 'duration') out.duration = new PyFloat(copy.durationSec);
      else if (key === 'channel') out.channel = Array.isArray(t.channel) ? [0] : 0;
      else if (key === 'supervisions')
        out.supervisions = [supervisionFor(copy, (t.supervisions as Json[] | undefined)?.[0])];
      else if (key === 'recording') out.recording = recordingFor(copy, t.recording as Json | undefined);
      else if (key === 'features')
        continue; // the canary has no precomputed features; lhotse computes them on the fly
      else if (key === 'type') out.type = 'MonoCut';
      else out[key] = t[key];
    }
    if (!('recording' in out)) out.recording = recordingFor(copy, undefined);
    return stringifyJson(out, detectJsonStyle(context.templateText));
  },
  resolveAudio: resolveRecordAudio,
};

export const lhotseRecordingsAdapter: RecordAdapter = {
  format: 'lhotse-recordings',
  expects: 'lhotse recordings: JSON lines with "id", "sources" and "sampling_rate"',
  ...LHOTSE_LINES,
  matches: jsonObjectMatcher(isRecording),
  parse(text, where) {
    const fields = parseJsonObject(text, where, 'a lhotse recording object');
    if (typeof fields.id !== 'string') fail(where, 'lhotse recording needs a string "id"');
    if (!isRecording(fields)) fail(where, 'lhotse recording needs "sources" (list) and a numeric "sampling_rate"');
    return { id: fields.id, audio: recordingSource(fields), sampleRate: fields.sampling_rate as number, fields };
  },
  formatCanary(copy, template, context) {
    return stringifyJson(recordingFor(copy, template.fields), detectJsonStyle(context.templateText));
  },
  resolveAudio: resolveRecordAudio,
};

export const lhotseSupervisionsAdapter: RecordAdapter = {
  format: 'lhotse-supervisions',
  expects: 'lhotse supervisions: JSON lines with "id", "recording_id", "start", "duration"',
  ...LHOTSE_LINES,
  matches: jsonObjectMatcher(isSupervision),
  parse(text, where) {
    const fields = parseJsonObject(text, where, 'a lhotse supervision object');
    if (typeof fields.id !== 'string' || typeof fields.recording_id !== 'string')
      fail(where, 'lhotse supervision needs string "id" and "recording_id"');
    return {
      id: fields.id,
      text: typeof fields.text === 'string' ? fields.text : undefined,
      speaker: speakerOf(fields),
      fields,
    };
  },
  formatCanary(copy, template, context) {
    return stringifyJson(supervisionFor(copy, template.fields), detectJsonStyle(context.templateText));
  },
  resolveAudio() {
    return undefined;
  },
};
