/**
 * Injection into a Kaldi / ESPnet data dir. Its tables are sorted, so a copy's
 * place is the sorted place of a random, corpus-shaped id (each copy shaped
 * after a random corpus utterance); every table is merged in one stream into
 * a temporary sibling of the output dir, renamed into place on commit.
 */
import { copyFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RoteError } from '../../util/errors.ts';
import { temporarySibling } from '../../util/atomic.ts';
import { removeOnSignal } from '../../util/interrupt.ts';
import { breaksLineFormat } from '../../util/line-fields.ts';
import type { SeededRandom } from '../../util/random.ts';
import type { GuardedInput, GuardedOutput } from '../../util/output-guard.ts';
import type { FileHashAlgorithm } from '../../util/hash.ts';
import {
  KALDI_DROPPED,
  isKaldiDir,
  mergeKaldiTable,
  scanKaldiDir,
  type KaldiLine,
  type KaldiScan,
} from '../formats/kaldi.ts';
import { BloomFilter, drawUniqueId, mimicId } from '../ids.ts';
import { drawGenders, type CopyIdentity, type PlannedCopy } from '../inject-plan.ts';
import { ManifestWriter } from '../stream/writer.ts';
import type { CanaryTexts } from '../stream/canary-texts.ts';
import { makeDirectory } from '../write-error.ts';
import type { FileSummary } from '../types.ts';
import type { InjectionTarget, ScanProgress } from './target.ts';

export class KaldiDirTarget implements InjectionTarget {
  readonly format = 'kaldi' as const;
  readonly warnings: string[] = [];
  private readonly ids = new BloomFilter(24);
  private kaldi: KaldiScan | null = null;
  private readonly outputDir: string;
  private readonly temporaryDir: string;
  private replace = false;
  /** Cancels the removal of the temporary dir on Ctrl-C. */
  private forget = (): void => {};

  constructor(
    private readonly dir: string,
    readonly output: string,
    private readonly random: SeededRandom,
    private readonly options: { canaryIds: Set<string>; canaryTexts: CanaryTexts; hash: FileHashAlgorithm },
  ) {
    this.outputDir = resolve(output);
    this.temporaryDir = temporarySibling(this.outputDir);
  }

  /** The output dir is written whole: it may not be the input dir, nor hold it; no output may be one of its tables. */
  async planOutputs(): Promise<{ inputs: GuardedInput[]; outputs: GuardedOutput[] }> {
    const tables = (await readdir(this.dir)).map((name) => join(this.dir, name));
    return {
      inputs: [
        { path: this.dir, what: 'the training data dir', key: 'manifests' },
        ...tables.map((path) => ({ path, what: 'a table of the training data dir', key: 'manifests' })),
      ],
      outputs: [{ path: this.outputDir, key: 'output', kind: 'folder' }],
    };
  }

  /** The output dir must be new or empty; with --force, an existing Kaldi data dir is replaced. */
  async checkOutputs(force: boolean): Promise<void> {
    const { outputDir } = this;
    if (existsSync(outputDir) && (await readdir(outputDir)).length > 0) {
      if (!force)
        throw new RoteError(
          `${outputDir}: output data dir exists and is not empty; choose a new directory, or pass --force to replace an earlier output`,
        );
      if (!(await isKaldiDir(outputDir)))
        throw new RoteError(
          `${outputDir}: exists and is not a Kaldi data dir; --force replaces only an earlier output data dir, choose a new directory`,
        );
      this.replace = true;
    }
  }

  outputPaths(): string[] {
    return [this.outputDir];
  }

  async scan(onProgress?: ScanProgress): Promise<void> {
    this.kaldi = await scanKaldiDir(
      this.dir,
      this.ids,
      { ids: this.options.canaryIds, texts: this.options.canaryTexts },
      this.random.fork('id-samples'),
      this.options.hash,
    );
    onProgress?.(1, 1);
  }

  sampleRateSource(): { stated?: number; audio?: string } {
    const wav = this.kaldi!.template.wav.trim();
    return { audio: wav && !wav.endsWith('|') ? resolve(this.dir, wav) : undefined };
  }

  textTemplate(): string | undefined {
    return this.kaldi!.template.text;
  }

  drawIdentity(
    random: SeededRandom,
    taken: Set<string>,
    prefix: string,
    nameTaken: (recordId: string) => boolean,
  ): CopyIdentity {
    let speaker: string;
    let utt: string;
    // Each copy is shaped after a random corpus utterance, so it sorts to a random place.
    const { idSamples } = this.kaldi!;
    const { utt: templateUtt, spk: templateSpk } = idSamples[random.nextInt(idSamples.length)] ?? { utt: '', spk: '' };
    const speakerIsPrefix = templateSpk.length > 0 && templateUtt.startsWith(templateSpk);
    do {
      speaker = prefix + drawUniqueId(templateSpk, random, this.ids, taken);
      utt = speakerIsPrefix
        ? speaker + mimicId(templateUtt.slice(templateSpk.length), random)
        : prefix + mimicId(templateUtt, random);
    } while (taken.has(utt) || this.ids.mightContain(utt) || nameTaken(utt));
    taken.add(utt);
    return { recordId: utt, speaker };
  }

  async write(copies: PlannedCopy[], random: SeededRandom): Promise<FileSummary[]> {
    const { dir, outputDir, temporaryDir } = this;
    const kaldi = this.kaldi!;
    const hash = this.options.hash;
    const genders = drawGenders(random.fork('gender'), copies.length);
    this.forget = removeOnSignal(temporaryDir);
    await makeDirectory(temporaryDir);
    const outputs: FileSummary[] = [];
    for (const name of kaldi.skipped)
      this.warnings.push(
        `${join(dir, name)}: sub-directory not copied (split dirs are stale after injection; recreate them)`,
      );
    for (const file of kaldi.files) {
      const target = join(temporaryDir, file.name);
      if (KALDI_DROPPED.has(file.name)) {
        this.warnings.push(
          `${file.path}: left out of the output; compute features again for the injected data dir (e.g. steps/make_fbank.sh)`,
        );
        continue;
      }
      if (file.key === null) {
        await copyFile(file.path, target);
        outputs.push({
          path: join(outputDir, file.name),
          hash: file.summary.hash,
          records: file.summary.records,
          lines: file.summary.lines,
        });
        continue;
      }
      const lines: KaldiLine[] = copies.map((copy, index) => {
        const key = file.key === 'spk' ? copy.speaker : file.key === 'rec' ? copy.recordingId : copy.recordId;
        const value = kaldiValue(file.name, copy, genders[index]!, file.firstValue);
        if (breaksLineFormat(key) || breaksLineFormat(value))
          throw new RoteError(
            `${file.path}: canary ${copy.canaryId}'s ${file.name} entry ${JSON.stringify(value)} contains a line break or tab, which a Kaldi table (one record a line) cannot hold; ${file.name === 'wav.scp' ? 'choose an --audio-dir without one' : 'fix the canary set'}`,
          );
        return { key: Buffer.from(key), line: `${key} ${value}`, copy: index };
      });
      lines.sort((a, b) => Buffer.compare(a.key, b.key));
      const writer = new ManifestWriter(target, { hash });
      try {
        const merged = await mergeKaldiTable(file, lines, writer, file.summary.eol, hash);
        if (merged.summary.hash !== file.summary.hash)
          throw new RoteError(`${file.path}: changed while rote was reading it; run inject again`);
        const outputDigest = await writer.finish();
        await writer.commit();
        if (file.name === 'text') {
          for (const [index, line] of merged.copyLines) {
            copies[index]!.positions.push({
              file: join(outputDir, 'text'),
              record: line,
              line,
              recordId: copies[index]!.recordId,
              audio: copies[index]!.audioPath,
            });
          }
        }
        outputs.push({
          path: join(outputDir, file.name),
          hash: outputDigest,
          records: merged.lines,
          lines: merged.lines,
        });
      } catch (error) {
        await writer.abort();
        throw error;
      }
    }
    return outputs;
  }

  inputs(): FileSummary[] {
    return this.kaldi!.files.map((f) => ({
      path: f.path,
      hash: f.summary.hash,
      records: f.summary.records,
      lines: f.summary.lines,
    }));
  }

  async commit(): Promise<void> {
    if (this.replace || existsSync(this.outputDir)) await rm(this.outputDir, { recursive: true });
    await rename(this.temporaryDir, this.outputDir);
    this.forget();
  }

  async abort(): Promise<void> {
    await rm(this.temporaryDir, { recursive: true, force: true });
    this.forget();
  }
}

/** The dir a Kaldi input names: the directory itself, or the one holding the given wav.scp or text. */
export async function kaldiInputDir(path: string): Promise<string> {
  return (await stat(path)).isDirectory() ? path : resolve(path, '..');
}

function kaldiValue(table: string, copy: PlannedCopy, gender: string, templateValue: string): string {
  const duration = String(Math.round(copy.durationSec * 1000) / 1000);
  switch (table) {
    case 'text':
      return copy.text;
    case 'wav.scp':
      return copy.audioPath;
    case 'utt2spk':
      return copy.speaker;
    case 'spk2utt':
      return copy.recordId;
    case 'segments':
      return `${copy.recordingId} 0.00 ${(Math.floor(copy.durationSec * 100) / 100).toFixed(2)}`;
    case 'utt2dur':
    case 'reco2dur':
      return duration;
    case 'spk2gender':
      return gender;
    case 'utt2uniq':
      return copy.recordId;
    case 'reco2file_and_channel':
      return `${copy.recordingId} A`;
    default:
      return templateValue;
  }
}
