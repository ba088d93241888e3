/**
 * Types shared by the manifest stage: record adapters, the injection receipt
 * and the verification report.
 */

export const MANIFEST_FORMATS = [
  'nemo',
  'kaldi',
  'lhotse-cuts',
  'lhotse-recordings',
  'lhotse-supervisions',
  'audiofolder',
  'wenet',
  'speechbrain',
  'commonvoice',
] as const;
export type ManifestFormat = (typeof MANIFEST_FORMATS)[number];

/** Where a record came from, for error messages and receipts. */
export interface Where {
  file: string;
  /** 1-based line of the record's first line. */
  line: number;
}

/** One record of a manifest, as the format's adapter understood it. */
export interface ManifestRecord {
  /** Utterance / cut / row id, where the format has one. */
  id?: string;
  /** Audio reference exactly as written (path, file name, or Kaldi command). */
  audio?: string;
  text?: string;
  speaker?: string;
  /** Parsed fields in the file's own order (JSON object or CSV row). */
  fields: Record<string, unknown>;
  /** Sample rate when the record states it (lhotse). */
  sampleRate?: number;
}

/** A record as read: the adapter's view plus the original bytes. */
export interface RawRecord {
  where: Where;
  /** The record's bytes exactly as in the file, line terminator included. */
  bytes: Uint8Array;
  record: ManifestRecord;
}

/** CSV/TSV header: column names in order. */
export interface Header {
  columns: string[];
  delimiter: string;
}

/** One written copy of an inserted canary, as the adapters see it. */
export interface CanaryCopy {
  canaryId: string;
  copyIndex: number;
  /** Id of the record (utterance, cut, row); unique in the output. */
  recordId: string;
  /** Recording id (lhotse recordings, Kaldi with segments). */
  recordingId: string;
  speaker: string;
  /** Transcript, cased like the corpus. */
  text: string;
  /** Absolute path of the copy's WAV in the audio dir. */
  audioPath: string;
  sampleRate: number;
  numSamples: number;
  durationSec: number;
}

export interface FormatContext {
  /** Directory of the manifest file being written (for relative paths). */
  manifestDir: string;
  header?: Header;
  /** The file's line terminator ("\n" or "\r\n"). */
  eol: string;
  /** The template record's text as written (for JSON style). */
  templateText: string;
}

/**
 * One adapter per line-oriented format: records are lines (or quoted CSV
 * records), parsed one at a time; canary records are formatted from a nearby
 * template record so they carry the same fields.
 */
export interface RecordAdapter {
  readonly format: Exclude<ManifestFormat, 'kaldi'>;
  /** What the detector looks for, for "formats tried" messages. */
  readonly expects: string;
  /** CSV/TSV: the first line is a header. */
  readonly header: boolean;
  /** CSV: records may span lines inside quotes. */
  readonly quoted: boolean;
  /** Whether canary copies need ids unique in the manifest. */
  readonly hasIds: boolean;
  /**
   * JSON lines only: `parse` accepts a line exactly when it is a JSON object
   * whose top-level fields have the right kinds (string, number, ...), so a
   * line with the same keys and kinds as an accepted one is accepted too
   * (lets pass 1 validate most lines without parsing them; see json-shapes.ts).
   */
  readonly acceptsByFieldKinds?: boolean;
  /** Cheap structural check of a record's text; returns what was expected, or null when fine. */
  quickCheck(text: string): string | null;
  /** Does this first record (and header) look like this format? */
  matches(text: string, header: Header | undefined, fileName: string): boolean;
  parseHeader?(text: string, where: Where): Header;
  parse(text: string, where: Where, header: Header | undefined): ManifestRecord;
  formatCanary(copy: CanaryCopy, template: ManifestRecord, context: FormatContext): string;
  /** Absolute audio path of a record, or undefined when it cannot be resolved (a command, a missing field). */
  resolveAudio(record: ManifestRecord, manifestPath: string): string | undefined;
}

export interface CopyPosition {
  /** Output file (absolute). */
  file: string;
  /** 1-based record index in the output file (header not counted). */
  record: number;
  /** 1-based line in the output file. */
  line: number;
  recordId?: string;
  audio: string;
}

/** How deeply pass 1 checks JSON-lines records (see scan.ts). */
export type CheckDepth = 'structure' | 'full';
export const CHECK_DEPTHS: readonly CheckDepth[] = ['structure', 'full'];
/** Records checked in full at the 'structure' depth before the structural check takes over. */
export const FULL_CHECK_RECORDS = 10_000;

export interface FileSummary {
  path: string;
  /** Digest of the file's stored bytes, "<algorithm>:<hex>" (xxh3 or sha256). */
  hash: string;
  records: number;
  lines: number;
}

export interface InjectionReceipt {
  /** 2: file digests are "<algorithm>:<hex>" in `hash` (1 had `sha256`). */
  receipt: 2;
  tool: { name: 'rote'; version: string };
  createdAt: string;
  canarySet: { setId: string; canariesJsonSha256: string; canaryCount: number; copies: number };
  format: ManifestFormat;
  seed: string;
  sampleRate: number;
  audioDir: string;
  audioMode: 'copy' | 'link' | 'resample';
  inputs: FileSummary[];
  outputs: FileSummary[];
  canaries: Array<{ id: string; repetitions: number; positions: CopyPosition[] }>;
  warnings: string[];
}

export interface VerifiedCanary {
  id: string;
  /** Repetitions of its group; null for the held-out group. */
  expected: number | null;
  found: number;
  positions: Array<{
    file: string;
    line: number;
    recordId?: string;
    audio?: string;
    matchedBy: Array<'text' | 'audio'>;
  }>;
}

export interface TamperedAudio {
  canaryId: string;
  file: string;
  line: number;
  audio: string;
  reason: string;
}

export interface VerificationReport {
  setId: string;
  format: ManifestFormat;
  manifests: string[];
  records: number;
  /** Inserted canaries (every one, found or not). */
  inserted: VerifiedCanary[];
  /** Inserted canaries whose count differs from their group's repetitions. */
  countMismatches: Array<{ id: string; expected: number; found: number }>;
  /** Held-out canaries found in the manifest. */
  leaks: VerifiedCanary[];
  tampered: TamperedAudio[];
  /** Records whose audio could not be checked (a command, a missing file). */
  unverifiable: Array<{ file: string; line: number; audio: string; reason: string }>;
  /** Audio files hashed while matching. */
  audioHashed: number;
  /**
   * How canary audio was checked against the set: `compared` records whose audio was (equal sha256, or sample by
   * sample); `rule` 'none' when that is 0, else 'exact', or (listed rate pairs "from->to" Hz) within a tolerance
   * after resampling. Records whose canary audio could not be read are in `unverifiable`, not in `compared`.
   */
  audioMatch: { rule: string; resampled: string[]; compared: number };
  /** True when `unverifiable` is not empty and the caller accepted it (allowUnverifiable); otherwise unverifiable audio makes `ok` false. */
  unverifiableAccepted: boolean;
  /** The injection receipt found next to the manifest (OUT.receipt.json), and whether the manifest is still what inject wrote. */
  receipt?: { path: string; matches: boolean; differing: string[] };
  ok: boolean;
}
