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
import { expandManifestPaths, manifestFormats } from './detect.ts';
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
  const byText = new Map<string, CanaryRecord[]>();
  const byHash = new Map<string, CanaryRecord>();
  for (const canary of canaries) {
    const key = normalizeText(canary.text);
    byText.set(key, [...(byText.get(key) ?? []), canary]);
    byHash.set(canary.sha256, canary);
  }
  const inputs = await expandManifestPaths(options.manifests);
  const detected = await manifestFormats(inputs, options.format);
  const format = detected.format;

  const candidates: Candidate[] = [];
  let records = 0;
  const readTotal = detected.files.some((f) => f.path.endsWith('.gz'))
    ? 0
    : await manifestBytes(format === 'kaldi' ? [] : detected.files.map((f) => f.path));
  let readDone = 0;
  const readProgress = (bytes: number): void => {
    readDone += bytes;
    if (options.onProgress && records % PROGRESS_EVERY === 0)
      options.onProgress({ stage: 'read', done: readDone, total: readTotal, records });
  };
  const consider = (candidate: Omit<Candidate, 'byText'>): void => {
    const matched = candidate.text === undefined ? [] : (byText.get(normalizeText(candidate.text)) ?? []);
    if (matched.length > 0 || options.hashAll) candidates.push({ ...candidate, byText: matched });
  };

  if (format === 'kaldi') {
    const dir = (await stat(inputs[0]!)).isDirectory() ? inputs[0]! : dirname(inputs[0]!);
    const file = resolve(dir, 'text');
    for await (const utterance of kaldiUtterances(dir)) {
      records++;
      readProgress(0);
      consider({ file, line: utterance.line, recordId: utterance.id, text: utterance.text });
    }
    const audio = await kaldiAudioOf(dir, new Set(candidates.map((c) => c.recordId!)));
    for (const candidate of candidates) {
      const entry = audio.get(candidate.recordId!);
      candidate.audioRef = entry?.path ?? entry?.command;
      candidate.audioPath = entry?.path ? resolve(dir, entry.path) : undefined;
    }
  } else {
    const recordingAudio = new Map<string, string | undefined>();
    const pendingRecordings: Candidate[] = [];
    const ordered = [...detected.files].sort(
      (a, b) => Number(a.format === 'lhotse-recordings') - Number(b.format === 'lhotse-recordings'),
    );
    for (const { path, format: fileFormat } of ordered) {
      const adapter = adapterFor(fileFormat as Exclude<ManifestFormat, 'kaldi'>);
      for await (const { where, record, bytes } of readRecords(path, adapter)) {
        if (adapter.format === 'lhotse-recordings') {
          readDone += bytes.length;
          if (recordingAudio.has(record.id!)) recordingAudio.set(record.id!, adapter.resolveAudio(record, path));
          if (options.hashAll)
            consider({
              file: path,
              line: where.line,
              recordId: record.id,
              audioPath: adapter.resolveAudio(record, path),
              audioRef: record.audio,
            });
          continue;
        }
        records++;
        readProgress(bytes.length);
        const before = candidates.length;
        consider({
          file: path,
          line: where.line,
          recordId: record.id,
          text: record.text,
          audioPath: adapter.resolveAudio(record, path),
          audioRef: record.audio,
        });
        if (adapter.format === 'lhotse-supervisions' && candidates.length > before) {
          const recordingId = record.fields.recording_id as string;
          recordingAudio.set(recordingId, undefined);
          candidates[candidates.length - 1]!.audioRef = recordingId;
          pendingRecordings.push(candidates[candidates.length - 1]!);
        }
      }
    }
    for (const candidate of pendingRecordings) {
      candidate.audioPath = recordingAudio.get(candidate.audioRef!);
      candidate.audioRef = candidate.audioPath ?? `recording ${candidate.audioRef}`;
    }
  }

  options.onProgress?.({ stage: 'read', done: readDone, total: readTotal, records });

  // Match audio.
  const found = new Map<string, VerifiedCanary['positions']>();
  const report: Pick<VerificationReport, 'tampered' | 'unverifiable'> = { tampered: [], unverifiable: [] };
  const setAudio = new Map<string, DecodedAudio>();
  const resampled = new Set<string>();
  let audioHashed = 0;
  let audioCompared = 0;
  for (const [index, candidate] of candidates.entries()) {
    if (index % 256 === 0) options.onProgress?.({ stage: 'audio', done: index, total: candidates.length, records });
    let audioMatch: CanaryRecord | undefined;
    if (!candidate.audioPath) {
      if (candidate.byText.length > 0)
        report.unverifiable.push({
          file: candidate.file,
          line: candidate.line,
          audio: candidate.audioRef ?? '',
          reason: 'audio is not a plain file path (a command or a missing field)',
        });
    } else {
      let sha: string | undefined;
      try {
        sha = await sha256File(candidate.audioPath);
        audioHashed++;
      } catch (error) {
        if (candidate.byText.length > 0)
          report.unverifiable.push({
            file: candidate.file,
            line: candidate.line,
            audio: candidate.audioPath,
            reason: `cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
          });
      }
      if (sha !== undefined) {
        audioMatch = byHash.get(sha);
        if (audioMatch) audioCompared++;
        else if (candidate.byText.length > 0) {
          const canary = candidate.byText[0]!;
          const verdict = await compareAudio(candidate.audioPath, resolve(loaded.dir, canary.audio), setAudio);
          audioCompared++;
          if (typeof verdict === 'object') {
            audioMatch = canary;
            if (verdict.resampledFrom !== null) resampled.add(`${verdict.resampledFrom}->${verdict.rate}`);
          } else
            report.tampered.push({
              canaryId: canary.id,
              file: candidate.file,
              line: candidate.line,
              audio: candidate.audioPath,
              reason: verdict,
            });
        }
      }
    }
    const canary = audioMatch ?? candidate.byText[0];
    if (!canary) continue;
    const matchedBy: Array<'text' | 'audio'> = [];
    if (candidate.byText.some((c) => c.id === canary.id)) matchedBy.push('text');
    if (audioMatch) matchedBy.push('audio');
    found.set(canary.id, [
      ...(found.get(canary.id) ?? []),
      {
        file: candidate.file,
        line: candidate.line,
        recordId: candidate.recordId,
        audio: candidate.audioPath ?? candidate.audioRef,
        matchedBy,
      },
    ]);
  }

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
  const allowUnverifiable = options.allowUnverifiable;
  options.onProgress?.({ stage: 'audio', done: candidates.length, total: candidates.length, records });
  return {
    setId: loaded.set.setId,
    format,
    manifests: inputs,
    records,
    inserted,
    countMismatches,
    leaks,
    tampered: report.tampered,
    unverifiable: report.unverifiable,
    audioHashed,
    audioMatch:
      audioCompared === 0
        ? { rule: 'none', resampled: [], compared: 0 }
        : resampled.size === 0
          ? { rule: 'exact', resampled: [], compared: audioCompared }
          : {
              rule: `exact at the set's rate; within ±${RESAMPLED_TOLERANCE_STEPS} of 32768 per sample after resampling`,
              resampled: [...resampled].sort(),
              compared: audioCompared,
            },
    unverifiableAccepted: allowUnverifiable && report.unverifiable.length > 0,
    receipt: await checkReceiptOf(inputs),
    ok:
      countMismatches.length === 0 &&
      leaks.length === 0 &&
      report.tampered.length === 0 &&
      (report.unverifiable.length === 0 || allowUnverifiable),
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
