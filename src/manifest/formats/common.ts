/**
 * Helpers shared by the format adapters: JSON written in the corpus's own
 * style, field roles for filling canary records from a template, paths.
 */
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { RoteError } from '../../util/errors.ts';
import type { CanaryCopy, ManifestRecord, Where } from '../types.ts';

export const SPEAKER_KEYS = new Set([
  'speaker',
  'speaker_id',
  'spk',
  'spk_id',
  'speakerid',
  'client_id',
  'speaker_name',
]);
/** Per-speaker attributes we do not know for a synthetic voice: left empty. */
export const SPEAKER_ATTRIBUTE_KEYS = new Set([
  'age',
  'gender',
  'accents',
  'accent',
  'variant',
  'segment',
  'sentence_domain',
]);
export const TEXT_KEYS = [
  'text',
  'transcription',
  'sentence',
  'transcript',
  'wrd',
  'words',
  'txt',
  'normalized_text',
  'text_norm',
  'pred_text',
];
export const DURATION_KEYS = new Set(['duration', 'duration_sec', 'duration_s', 'length', 'audio_duration']);
export const OFFSET_KEYS = new Set(['offset', 'start']);

export interface JsonStyle {
  /** Python json.dumps separators (", " and ": ") rather than compact. */
  spaced: boolean;
  /** Non-ASCII escaped as \uXXXX (Python's ensure_ascii). */
  asciiOnly: boolean;
}

export function detectJsonStyle(line: string): JsonStyle {
  return {
    spaced: /^\{\s*"(?:[^"\\]|\\.)*":\s/.test(line),
    asciiOnly: !/[^\x00-\x7f]/.test(line) && /\\u[0-9a-fA-F]{4}/.test(line),
  };
}

/** A number written as a float the way Python does (3 -> 3.0). */
export class PyFloat {
  constructor(readonly value: number) {}
}

export function stringifyJson(value: unknown, style: JsonStyle): string {
  const comma = style.spaced ? ', ' : ',';
  const colon = style.spaced ? ': ' : ':';
  const write = (item: unknown): string => {
    if (item instanceof PyFloat) {
      const text = JSON.stringify(item.value);
      return style.spaced && Number.isInteger(item.value) ? `${text}.0` : text;
    }
    if (Array.isArray(item)) return `[${item.map(write).join(comma)}]`;
    if (item && typeof item === 'object') {
      return `{${Object.entries(item as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${quote(k)}${colon}${write(v)}`)
        .join(comma)}}`;
    }
    if (typeof item === 'string') return quote(item);
    return JSON.stringify(item ?? null);
  };
  const quote = (text: string): string => {
    const json = JSON.stringify(text);
    return style.asciiOnly
      ? json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
      : json;
  };
  return write(value);
}

export function parseJsonObject(text: string, where: Where, expected: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RoteError(
      `${where.file}:${where.line}: malformed JSON (${(error as Error).message}); expected ${expected}`,
    );
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new RoteError(`${where.file}:${where.line}: expected a JSON object (${expected})`);
  }
  return value as Record<string, unknown>;
}

export function requireString(fields: Record<string, unknown>, key: string, where: Where, formatName: string): string {
  const value = fields[key];
  if (typeof value !== 'string') {
    throw new RoteError(
      `${where.file}:${where.line}: ${formatName} record needs a string "${key}" field${value === undefined ? ' (missing)' : ` (got ${typeof value})`}`,
    );
  }
  return value;
}

/** A JSON-lines adapter's `matches`: the line is a JSON object that `accepts` takes. */
export function jsonObjectMatcher(accepts: (fields: Record<string, unknown>) => boolean): (text: string) => boolean {
  return (text) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return false;
    }
    return !!value && typeof value === 'object' && !Array.isArray(value) && accepts(value as Record<string, unknown>);
  };
}

export function jsonObjectQuickCheck(text: string): string | null {
  const trimmed = text.trim();
  return trimmed.startsWith('{') && trimmed.endsWith('}') ? null : 'one JSON object per line';
}

/** A value of the template's type for a speaker field. */
export function speakerValue(template: unknown, speaker: string): unknown {
  if (typeof template === 'number' && /^[0-9]+$/.test(speaker)) return Number(speaker);
  return speaker;
}

/** Fills a flat template record's fields for a canary copy, keeping the template's keys and order. */
export function fillFlatFields(
  template: Record<string, unknown>,
  copy: CanaryCopy,
  roles: { audioKey: string; audioValue: string; textKey?: string; idKey?: string },
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    const lower = key.toLowerCase();
    if (key === roles.audioKey) out[key] = roles.audioValue;
    else if (key === roles.idKey) out[key] = copy.recordId;
    else if (key === roles.textKey || (TEXT_KEYS.includes(lower) && typeof value === 'string')) out[key] = copy.text;
    else if (DURATION_KEYS.has(lower))
      out[key] = typeof value === 'string' ? String(copy.durationSec) : new PyFloat(copy.durationSec);
    else if (OFFSET_KEYS.has(lower)) out[key] = typeof value === 'string' ? '0' : new PyFloat(0);
    else if (SPEAKER_KEYS.has(lower)) out[key] = speakerValue(value, copy.speaker);
    else if (SPEAKER_ATTRIBUTE_KEYS.has(lower)) out[key] = typeof value === 'string' ? '' : null;
    else if (lower === 'sampling_rate' || lower === 'sample_rate')
      out[key] = typeof value === 'string' ? String(copy.sampleRate) : copy.sampleRate;
    else out[key] = value;
  }
  if (!(roles.audioKey in out)) out[roles.audioKey] = roles.audioValue;
  return out;
}

/** The audio path as the template writes it: absolute, or relative to the manifest's directory. */
export function pathLike(templatePath: string | undefined, audioPath: string, manifestDir: string): string {
  if (templatePath !== undefined && !isAbsolute(templatePath) && !/^[a-z]+:\/\//i.test(templatePath))
    return toPosix(relative(manifestDir, audioPath));
  return audioPath;
}

export function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

/**
 * `resolveAudio` of the formats whose record.audio is a path as the manifest
 * writes it: absolute stays, relative is taken against the manifest's directory;
 * URLs and paths with shell variables are not files.
 */
export function resolveRecordAudio(record: ManifestRecord, manifestPath: string): string | undefined {
  const audio = record.audio;
  if (!audio || /^[a-z]+:\/\//i.test(audio) || audio.includes('$')) return undefined;
  return isAbsolute(audio) ? audio : resolve(dirname(manifestPath), audio);
}

export function firstTextKey(fields: Record<string, unknown> | string[]): string | undefined {
  const keys = Array.isArray(fields) ? fields : Object.keys(fields);
  return TEXT_KEYS.find((key) => keys.includes(key));
}
