/**
 * What an injection writes into: record-format manifests (one file, shards, a
 * lhotse pair; record-tables.ts) and Kaldi data dirs (kaldi-dir.ts) implement
 * the same steps, which the executor (inject.ts) runs in order:
 * planOutputs, checkOutputs, scan (pass 1), the plan's ids (drawIdentity), write (pass 2,
 * into temporary files), then commit or abort.
 */
import type { SeededRandom } from '../../util/random.ts';
import type { GuardedInput, GuardedOutput } from '../../util/output-guard.ts';
import type { CopyIdentity, PlannedCopy } from '../inject-plan.ts';
import type { FileSummary, ManifestFormat } from '../types.ts';

export interface ScanProgress {
  /** Input bytes checked so far, of `total`. */
  (done: number, total: number): void;
}

export interface InjectionTarget {
  readonly format: ManifestFormat;
  /** The output manifest as the user named it (a file or a directory): the receipt is named after it. */
  readonly output: string;
  /** The outputs this target writes and what it reads (for the guard that no output lands on an input). */
  planOutputs(): Promise<{ inputs: GuardedInput[]; outputs: GuardedOutput[] }>;
  /** After planOutputs: existing outputs are refused without --force. */
  checkOutputs(force: boolean): Promise<void>;
  /** Directories and files an interrupted run may have left temporary siblings in. */
  outputPaths(): string[];
  /** Pass 1: every record checked and counted, the corpus's ids collected; errors name file and line. */
  scan(onProgress?: ScanProgress): Promise<void>;
  /** After scan: a sample rate the manifest states, or the audio file of a record to probe. */
  sampleRateSource(): { stated?: number; audio?: string };
  /** After scan: the transcript whose case canary transcripts follow. */
  textTemplate(): string | undefined;
  /** After scan: the ids of the next copy, unique in the corpus and among `taken`; `nameTaken` refuses an id whose audio name exists. */
  drawIdentity(
    random: SeededRandom,
    taken: Set<string>,
    prefix: string,
    nameTaken: (recordId: string) => boolean,
  ): CopyIdentity;
  /** Pass 2: the outputs with every copy in place (positions filled in), written to temporary files. */
  write(
    copies: PlannedCopy[],
    random: SeededRandom,
    onProgress?: (written: number, total: number) => void,
  ): Promise<FileSummary[]>;
  /** After write: the inputs' counts and digests. */
  inputs(): FileSummary[];
  readonly warnings: string[];
  /** Renames the temporary outputs into place. */
  commit(): Promise<void>;
  /** Removes whatever write left. */
  abort(): Promise<void>;
}
