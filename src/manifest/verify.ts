/**
 * `verifyInjection`: checks a training manifest against the auditor's full
 * canary set without needing the injection receipt. Records are matched by
 * normalized transcript, and their audio by sha256 (every record's audio when
 * `hashAll`, otherwise the records whose transcript matches a canary). Audio
 * that matches a canary's transcript but not its hash is compared sample by
 * sample: exactly when the rates agree, within VerificationReport's stated
 * tolerance only after resampling (inject writes canaries at the corpus rate);
 * anything else is reported as tampered. Audio that cannot be read makes the
 * report not ok unless `allowUnverifiable`.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { RoteError } from '../util/errors.ts';
import { resolveOptions, type OptionsOf } from '../util/options.ts';
import { VERIFY_OPTION_SPECS } from './options.ts';
import { sha256File } from '../util/hash.ts';
import { decodeWav, type DecodedAudio } from '../audio/wav.ts';
import { resample } from '../audio/resample.ts';
import type { CanaryRecord } from '../canary/types.ts';
import { loadFullCanarySet } from './canaries.ts';
import { expandManifestPaths, manifestFormats, type DetectedFile } from './detect.ts';
import { checkReceiptOf } from './receipt.ts';
import { adapterFor } from './formats/index.ts';
import { kaldiAudioOf, kaldiUtterances } from './formats/kaldi.ts';
import { normalizeText } from './ids.ts';
import { readRecords } from './read.ts';
import type { ManifestFormat, VerificationReport, VerifiedCanary } from './types.ts';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The options of verifyInjection: one per VERIFY_OPTION_SPECS (types, defaults and help there), and the progress callback. */
export interface VerifyOptions extends OptionsOf<typeof VERIFY_OPTION_SPECS> {
  /** Called now and then while reading manifests (bytes) and checking audio (records); totals of 0 are unknown. */
  onProgress?: (progress: VerifyProgress) => void;
}

export interface VerifyProgress {
  stage: 'read' | 'audio';
  done: number;
  total: number;
  records: number;
}

/** Records read between two progress calls. */
const PROGRESS_EVERY = 1 << 14;

interface Candidate {
  file: string;
  line: number;
  recordId?: string;
  text?: string;
  /** Absolute audio path, or undefined when not a file. */
  audioPath?: string;
  audioRef?: string;
  byText: CanaryRecord[];
}

/** Max sample difference (in 16-bit steps) between the set's audio resampled here and a canary inject resampled; same-rate audio must match exactly. */
export const RESAMPLED_TOLERANCE_STEPS = 3;
const SAMPLE_TOLERANCE = RESAMPLED_TOLERANCE_STEPS / 32768;

export async function verifyInjection(verifyOptions: VerifyOptions): Promise<VerificationReport> {
  const options = { ...verifyOptions, ...resolveOptions(VERIFY_OPTION_SPECS, verifyOptions) };
  const loaded = await loadFullCanarySet(options.canaries);
  const canaries = loaded.set.canaries;
  const { byText, byHash } = indexCanaries(canaries);
  const inputs = await expandManifestPaths(options.manifests);
  const detected = await manifestFormats(inputs, options.format);
  const read = await readCandidates(inputs, detected, byText, options);
  const matches = await matchCandidateAudio(read, byHash, loaded.dir, options.onProgress);
  const { inserted, leaks, countMismatches } = countCanaries(canaries, matches.found);
  const allowUnverifiable = options.allowUnverifiable;
  return {
    setId: loaded.set.setId,
    format: detected.format,
    manifests: inputs,
    records: read.records,
    inserted,
    countMismatches,
    leaks,
    tampered: matches.tampered,
    unverifiable: matches.unverifiable,
    audioHashed: matches.audioHashed,
    audioMatch: audioMatchRule(matches),
    unverifiableAccepted: allowUnverifiable && matches.unverifiable.length > 0,
    receipt: await checkReceiptOf(inputs),
    ok:
      countMismatches.length === 0 &&
      leaks.length === 0 &&
      matches.tampered.length === 0 &&
      (matches.unverifiable.length === 0 || allowUnverifiable),
  };
}

/** The canaries by normalized transcript (several may share one) and by their audio's sha256. */
function indexCanaries(canaries: CanaryRecord[]): {
  byText: Map<string, CanaryRecord[]>;
  byHash: Map<string, CanaryRecord>;
} {
  const byText = new Map<string, CanaryRecord[]>();
  const byHash = new Map<string, CanaryRecord>();
  for (const canary of canaries) {
    const key = normalizeText(canary.text);
    byText.set(key, [...(byText.get(key) ?? []), canary]);
    byHash.set(canary.sha256, canary);
  }
  return { byText, byHash };
}

/** The read stage's state: the records kept for the audio stage, and the counts progress and the report need. */
interface CandidateReading {
  candidates: Candidate[];
  /** Transcript records read (lhotse recordings are not counted). */
  records: number;
  /** Manifest bytes read so far, of readTotal (0: unknown). */
  readDone: number;
  readTotal: number;
  byText: Map<string, CanaryRecord[]>;
  hashAll: boolean;
  onProgress?: (progress: VerifyProgress) => void;
}

/** Reads every manifest record, keeping as candidates those whose transcript matches a canary (every one with hashAll). */
async function readCandidates(
  inputs: string[],
  detected: { format: ManifestFormat; files: DetectedFile[] },
  byText: Map<string, CanaryRecord[]>,
  options: { hashAll: boolean; onProgress?: (progress: VerifyProgress) => void },
): Promise<CandidateReading> {
  const readTotal = detected.files.some((f) => f.path.endsWith('.gz'))
    ? 0
    : await manifestBytes(detected.format === 'kaldi' ? [] : detected.files.map((f) => f.path));
  const reading: CandidateReading = {
    candidates: [],
    records: 0,
    readDone: 0,
    readTotal,
    byText,
    hashAll: options.hashAll,
    onProgress: options.onProgress,
  };
  if (detected.format === 'kaldi') await readKaldiCandidates(inputs[0]!, reading);
  else await readRecordFormatCandidates(detected.files, reading);
  options.onProgress?.({ stage: 'read', done: reading.readDone, total: readTotal, records: reading.records });
  return reading;
}

/** Counts one transcript record of `bytes` manifest bytes, reporting progress every PROGRESS_EVERY records. */
function countRecord(reading: CandidateReading, bytes: number): void {
  reading.records++;
  reading.readDone += bytes;
  if (reading.onProgress && reading.records % PROGRESS_EVERY === 0)
    reading.onProgress({ stage: 'read', done: reading.readDone, total: reading.readTotal, records: reading.records });
}

/** Keeps the record when its transcript matches a canary's or every record's audio is hashed; true when kept. */
function considerCandidate(reading: CandidateReading, candidate: Omit<Candidate, 'byText'>): boolean {
  const matched = candidate.text === undefined ? [] : (reading.byText.get(normalizeText(candidate.text)) ?? []);
  if (matched.length === 0 && !reading.hashAll) return false;
  reading.candidates.push({ ...candidate, byText: matched });
  return true;
}

/** A Kaldi data dir: utterances from `text`, then the audio of the kept ones from `wav.scp`. */
async function readKaldiCandidates(input: string, reading: CandidateReading): Promise<void> {
  const dir = (await stat(input)).isDirectory() ? input : dirname(input);
  const file = resolve(dir, 'text');
  for await (const utterance of kaldiUtterances(dir)) {
    countRecord(reading, 0);
    considerCandidate(reading, { file, line: utterance.line, recordId: utterance.id, text: utterance.text });
  }
  const audio = await kaldiAudioOf(dir, new Set(reading.candidates.map((c) => c.recordId!)));
  for (const candidate of reading.candidates) {
    const entry = audio.get(candidate.recordId!);
    candidate.audioRef = entry?.path ?? entry?.command;
    candidate.audioPath = entry?.path ? resolve(dir, entry.path) : undefined;
  }
}

/**
 * Record-format manifests, lhotse recordings last: a kept lhotse supervision's audio is its recording's,
 * filled in once the recordings were read.
 */
async function readRecordFormatCandidates(files: DetectedFile[], reading: CandidateReading): Promise<void> {
  const recordingAudio = new Map<string, string | undefined>();
  const pendingRecordings: Candidate[] = [];
  const ordered = [...files].sort(
    (a, b) => Number(a.format === 'lhotse-recordings') - Number(b.format === 'lhotse-recordings'),
  );
  for (const { path, format: fileFormat } of ordered) {
    const adapter = adapterFor(fileFormat as Exclude<ManifestFormat, 'kaldi'>);
    for await (const { where, record, bytes } of readRecords(path, adapter)) {
      if (adapter.format === 'lhotse-recordings') {
        reading.readDone += bytes.length;
        if (recordingAudio.has(record.id!)) recordingAudio.set(record.id!, adapter.resolveAudio(record, path));
        if (reading.hashAll)
          considerCandidate(reading, {
            file: path,
            line: where.line,
            recordId: record.id,
            audioPath: adapter.resolveAudio(record, path),
            audioRef: record.audio,
          });
        continue;
      }
      countRecord(reading, bytes.length);
      const kept = considerCandidate(reading, {
        file: path,
        line: where.line,
        recordId: record.id,
        text: record.text,
        audioPath: adapter.resolveAudio(record, path),
        audioRef: record.audio,
      });
      if (adapter.format === 'lhotse-supervisions' && kept) {
        const recordingId = record.fields.recording_id as string;
        recordingAudio.set(recordingId, undefined);
        const candidate = reading.candidates[reading.candidates.length - 1]!;
        candidate.audioRef = recordingId;
        pendingRecordings.push(candidate);
      }
    }
  }
  for (const candidate of pendingRecordings) {
    candidate.audioPath = recordingAudio.get(candidate.audioRef!);
    candidate.audioRef = candidate.audioPath ?? `recording ${candidate.audioRef}`;
  }
}

/** What the audio stage found: each canary's positions, and the audio that could not be checked or differs. */
interface AudioMatches {
  found: Map<string, VerifiedCanary['positions']>;
  tampered: VerificationReport['tampered'];
  unverifiable: VerificationReport['unverifiable'];
  /** Rate pairs "from->to" Hz of canary audio that matched only after resampling. */
  resampled: Set<string>;
  audioHashed: number;
  audioCompared: number;
}

/** Hashes (and where needed compares) every candidate's audio and records where each canary was found. */
async function matchCandidateAudio(
  reading: CandidateReading,
  byHash: Map<string, CanaryRecord>,
  setDir: string,
  onProgress: ((progress: VerifyProgress) => void) | undefined,
): Promise<AudioMatches> {
  const { candidates, records } = reading;
  const matches: AudioMatches = {
    found: new Map(),
    tampered: [],
    unverifiable: [],
    resampled: new Set(),
    audioHashed: 0,
    audioCompared: 0,
  };
  const setAudio = new Map<string, DecodedAudio>();
  for (const [index, candidate] of candidates.entries()) {
    if (index % 256 === 0) onProgress?.({ stage: 'audio', done: index, total: candidates.length, records });
    const audioMatch = await canaryOfAudio(candidate, byHash, setDir, setAudio, matches);
    const canary = audioMatch ?? candidate.byText[0];
    if (!canary) continue;
    const matchedBy: Array<'text' | 'audio'> = [];
    if (candidate.byText.some((c) => c.id === canary.id)) matchedBy.push('text');
    if (audioMatch) matchedBy.push('audio');
    matches.found.set(canary.id, [
      ...(matches.found.get(canary.id) ?? []),
      {
        file: candidate.file,
        line: candidate.line,
        recordId: candidate.recordId,
        audio: candidate.audioPath ?? candidate.audioRef,
        matchedBy,
      },
    ]);
  }
  onProgress?.({ stage: 'audio', done: candidates.length, total: candidates.length, records });
  return matches;
}

/**
 * The canary whose audio the candidate's is (equal sha256, or sample by sample against its transcript's canary),
 * or undefined; audio that cannot be checked or differs is added to `matches` when the transcript matched.
 */
async function canaryOfAudio(
  candidate: Candidate,
  byHash: Map<string, CanaryRecord>,
  setDir: string,
  setAudio: Map<string, DecodedAudio>,
  matches: AudioMatches,
): Promise<CanaryRecord | undefined> {
  if (!candidate.audioPath) {
    if (candidate.byText.length > 0)
      matches.unverifiable.push({
        file: candidate.file,
        line: candidate.line,
        audio: candidate.audioRef ?? '',
        reason: 'audio is not a plain file path (a command or a missing field)',
      });
    return undefined;
  }
  let sha: string;
  try {
    sha = await sha256File(candidate.audioPath);
    matches.audioHashed++;
  } catch (error) {
    if (candidate.byText.length > 0)
      matches.unverifiable.push({
        file: candidate.file,
        line: candidate.line,
        audio: candidate.audioPath,
        reason: `cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      });
    return undefined;
  }
  const byAudio = byHash.get(sha);
  if (byAudio) {
    matches.audioCompared++;
    return byAudio;
  }
  if (candidate.byText.length === 0) return undefined;
  const canary = candidate.byText[0]!;
  const verdict = await compareAudio(candidate.audioPath, resolve(setDir, canary.audio), setAudio);
  matches.audioCompared++;
  if (typeof verdict === 'object') {
    if (verdict.resampledFrom !== null) matches.resampled.add(`${verdict.resampledFrom}->${verdict.rate}`);
    return canary;
  }
  matches.tampered.push({
    canaryId: canary.id,
    file: candidate.file,
    line: candidate.line,
    audio: candidate.audioPath,
    reason: verdict,
  });
  return undefined;
}

/** Inserted canaries with their counts, held-out ones found (leaks), and inserted ones found a different number of times. */
function countCanaries(
  canaries: CanaryRecord[],
  found: Map<string, VerifiedCanary['positions']>,
): Pick<VerificationReport, 'inserted' | 'leaks' | 'countMismatches'> {
  const verified = (canary: CanaryRecord): VerifiedCanary => ({
    id: canary.id,
    expected: canary.repetitions,
    found: found.get(canary.id)?.length ?? 0,
    positions: found.get(canary.id) ?? [],
  });
  const inserted = canaries.filter((c) => c.repetitions !== null).map(verified);
  const leaks = canaries
    .filter((c) => c.repetitions === null)
    .map(verified)
    .filter((c) => c.found > 0);
  const countMismatches = inserted
    .filter((c) => c.found !== c.expected)
    .map((c) => ({ id: c.id, expected: c.expected!, found: c.found }));
  return { inserted, leaks, countMismatches };
}

/** The report's statement of how canary audio was matched: none compared, all exact, or within a tolerance after resampling. */
function audioMatchRule(matches: AudioMatches): VerificationReport['audioMatch'] {
  if (matches.audioCompared === 0) return { rule: 'none', resampled: [], compared: 0 };
  if (matches.resampled.size === 0) return { rule: 'exact', resampled: [], compared: matches.audioCompared };
  return {
    rule: `exact at the set's rate; within ±${RESAMPLED_TOLERANCE_STEPS} of 32768 per sample after resampling`,
    resampled: [...matches.resampled].sort(),
    compared: matches.audioCompared,
  };
}

/** Total size of the given files in bytes (0 when one cannot be read: unknown). */
async function manifestBytes(paths: string[]): Promise<number> {
  let total = 0;
  for (const path of paths) {
    try {
      total += (await stat(path)).size;
    } catch {
      return 0;
    }
  }
  return total;
}

/**
 * How `path` matched the canary's audio (`resampledFrom` null: sample for sample at the set's rate), or why it
 * does not: at the set's rate every sample must be equal; after resampling each may differ by RESAMPLED_TOLERANCE_STEPS.
 */
async function compareAudio(
  path: string,
  setPath: string,
  cache: Map<string, DecodedAudio>,
): Promise<string | { resampledFrom: number | null; rate: number }> {
  let candidate: DecodedAudio;
  try {
    candidate = decodeWav(await readFile(path), path);
  } catch (error) {
    return `not a readable WAV (${(error as Error).message})`;
  }
  let reference = cache.get(setPath);
  if (!reference) {
    try {
      reference = decodeWav(await readFile(setPath), setPath);
    } catch (error) {
      throw new RoteError(
        `${setPath}: cannot read the canary set's audio (${(error as Error).message}); verify needs the complete set`,
        { cause: error },
      );
    }
    cache.set(setPath, reference);
  }
  const expected =
    reference.sampleRate === candidate.sampleRate
      ? reference.samples
      : resample(reference.samples, reference.sampleRate, candidate.sampleRate);
  if (expected.length !== candidate.samples.length) {
    return `audio differs from the canary set: ${candidate.samples.length} samples at ${candidate.sampleRate} Hz, expected ${expected.length}`;
  }
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i]! - candidate.samples[i]!));
  const wasResampled = reference.sampleRate !== candidate.sampleRate;
  if (!wasResampled && worst > 0)
    return `audio differs from the canary set (sha256 mismatch, max sample difference ${Math.max(1, Math.round(worst * 32768))} of 32768; nothing was resampled, so an exact match is required)`;
  if (worst > SAMPLE_TOLERANCE)
    return `audio differs from the canary set (sha256 mismatch, max sample difference ${(worst * 32768).toFixed(0)} of 32768 after resampling ${reference.sampleRate} -> ${candidate.sampleRate} Hz, tolerance ${RESAMPLED_TOLERANCE_STEPS})`;
  return { resampledFrom: wasResampled ? reference.sampleRate : null, rate: candidate.sampleRate };
}
