/**
 * The plan of an injection, pure: which copies of which canaries, their ids
 * and audio names, the slots they take among a table's records, and the
 * receipt that records it all. No file is read or written here; the executor
 * (inject.ts) and the targets (targets/) do the I/O.
 */
import { join } from 'node:path';
import type { SeededRandom } from '../util/random.ts';
import { TOOL_VERSION } from '../util/version.ts';
import type { TrainingCanary } from '../canary/types.ts';
import { caseLike } from './ids.ts';
import type { CanaryCopy, CopyPosition, FileSummary, InjectionReceipt, ManifestFormat } from './types.ts';

export interface PlannedCopy extends CanaryCopy {
  canary: TrainingCanary;
  positions: CopyPosition[];
}

/** The ids of one copy, drawn by a target (shaped like its corpus's ids). */
export interface CopyIdentity {
  recordId: string;
  speaker: string;
}

/**
 * Every copy of every canary, in canary order: ids from `drawIdentity`
 * (called once per copy, in order, so a seed gives the same plan), audio named
 * after the record id in `audioDir`, transcripts cased like `textTemplate`.
 * Durations are filled in once the audio is prepared (withDurations).
 */
export function planCopies(
  canaries: TrainingCanary[],
  drawIdentity: () => CopyIdentity,
  options: { audioDir: string; sampleRate: number; textTemplate: string | undefined },
): PlannedCopy[] {
  const copies: PlannedCopy[] = [];
  for (const canary of canaries) {
    for (let k = 0; k < canary.repetitions; k++) {
      const { recordId, speaker } = drawIdentity();
      copies.push({
        canary,
        canaryId: canary.id,
        copyIndex: k,
        recordId,
        recordingId: recordId,
        speaker,
        text: caseLike(canary.text, options.textTemplate),
        audioPath: audioPathOf(options.audioDir, recordId),
        sampleRate: options.sampleRate,
        numSamples: 0,
        durationSec: 0,
        positions: [],
      });
    }
  }
  return copies;
}

/** Where a copy's WAV is placed: named after its record id. */
export function audioPathOf(audioDir: string, recordId: string): string {
  return join(audioDir, `${recordId}.wav`);
}

/**
 * The names a canary's audio may not take, from a listing of the audio dir:
 * every file's name without its extension, lower-cased, so `X.wav` meets
 * neither the corpus's `X.flac` (tools that key recordings by file stem would
 * merge them) nor `x.WAV` on a file system that ignores case.
 */
export function takenAudioStems(names: string[]): Set<string> {
  return new Set(names.map((name) => name.replace(/\.[^.]*$/, '').toLowerCase()));
}

/** Whether a copy with this record id would meet a taken name (takenAudioStems). */
export function audioNameTaken(stems: ReadonlySet<string>, recordId: string): boolean {
  return stems.has(recordId.toLowerCase());
}

/** The copies with their lengths from their canaries' prepared audio (new copies; `copies` is left as it was). */
export function withDurations(
  copies: readonly PlannedCopy[],
  numSamplesOf: (canaryId: string) => number,
  sampleRate: number,
): PlannedCopy[] {
  return copies.map((copy) => {
    const numSamples = numSamplesOf(copy.canaryId);
    return { ...copy, numSamples, durationSec: numSamples / sampleRate };
  });
}

/**
 * Each copy's slot among a table's `records` (slot k: before record k; slot
 * `records`: after the last), uniform and independent, sorted by slot then copy.
 */
export function drawSlots(
  random: SeededRandom,
  copies: number,
  records: number,
): Array<{ index: number; slot: number }> {
  const slots = Array.from({ length: copies }, (_, index) => ({ index, slot: random.nextInt(records + 1) }));
  slots.sort((a, b) => a.slot - b.slot || a.index - b.index);
  return slots;
}

/** Kaldi's spk2gender for each copy's speaker: a fair coin per copy. */
export function drawGenders(random: SeededRandom, copies: number): string[] {
  return Array.from({ length: copies }, () => (random.nextInt(2) === 0 ? 'm' : 'f'));
}

export interface ReceiptInputs {
  setId: string;
  canariesJsonSha256: string;
  canaries: TrainingCanary[];
  copies: PlannedCopy[];
  format: ManifestFormat;
  seed: string;
  sampleRate: number;
  audioDir: string;
  audioMode: InjectionReceipt['audioMode'];
  inputs: FileSummary[];
  outputs: FileSummary[];
  warnings: string[];
  createdAt: string;
}

/** The injection receipt: every copy's position, the files' counts and digests. */
export function buildReceipt(plan: ReceiptInputs): InjectionReceipt {
  return {
    receipt: 2,
    tool: { name: 'rote', version: TOOL_VERSION },
    createdAt: plan.createdAt,
    canarySet: {
      setId: plan.setId,
      canariesJsonSha256: plan.canariesJsonSha256,
      canaryCount: plan.canaries.length,
      copies: plan.copies.length,
    },
    format: plan.format,
    seed: plan.seed,
    sampleRate: plan.sampleRate,
    audioDir: plan.audioDir,
    audioMode: plan.audioMode,
    inputs: plan.inputs,
    outputs: plan.outputs,
    canaries: plan.canaries.map((canary) => ({
      id: canary.id,
      repetitions: canary.repetitions,
      positions: plan.copies.filter((c) => c.canaryId === canary.id).flatMap((c) => c.positions),
    })),
    warnings: plan.warnings,
  };
}

/**
 * The receipt of an injection is named after its output manifest: `OUT.receipt.json`
 * next to OUT (a file, or the directory of shards or a Kaldi data dir), so two
 * injections into one folder keep their own receipts and `verify` finds it.
 */
export function receiptPathFor(output: string): string {
  return `${output.replace(/\/+$/, '')}.receipt.json`;
}
