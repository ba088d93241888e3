/**
 * Injection into record-format manifests (NeMo, lhotse, audiofolder, WeNet,
 * SpeechBrain, Common Voice; one file, shards, or a lhotse recordings +
 * supervisions pair). Pass 1 (stream/scan.ts) validates and counts every
 * record, keeping a checkpoint every few records (and, for formats with ids,
 * the ids in a fixed-size Bloom filter) and the input's digest from the same
 * read; each copy gets a seeded, uniformly random slot among a table's
 * records (across all shards); pass 2 (stream/splice.ts) finds each slot's
 * byte offset from the nearest checkpoint and copies the input bytes
 * unchanged in large chunks with the canary records spliced in.
 */
import { stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { RoteError } from '../../util/errors.ts';
import type { SeededRandom } from '../../util/random.ts';
import type { GuardedInput, GuardedOutput } from '../../util/output-guard.ts';
import type { FileHashAlgorithm } from '../../util/hash.ts';
import { adapterFor } from '../formats/index.ts';
import { BloomFilter, IdSet, drawUniqueId, mimicId } from '../ids.ts';
import { drawSlots, type CopyIdentity, type PlannedCopy } from '../inject-plan.ts';
import { scanManifestFile, type FileScan } from '../stream/scan.ts';
import type { CanaryTexts } from '../stream/canary-texts.ts';
import { locateSlots, spliceCopy, type Insertion } from '../stream/splice.ts';
import { ManifestWriter } from '../stream/writer.ts';
import type { DetectedFile } from '../detect.ts';
import type { CheckDepth, FileSummary, ManifestFormat, ManifestRecord, RecordAdapter } from '../types.ts';
import { makeDirectory } from '../write-error.ts';
import type { InjectionTarget, ScanProgress } from './target.ts';

interface Table {
  adapter: RecordAdapter;
  files: string[];
}

export class RecordTablesTarget implements InjectionTarget {
  readonly warnings: string[] = [];
  /** Tables: one for most formats; recordings and supervisions for a lhotse pair (supervisions last). */
  private readonly tables: Table[] = [];
  private readonly ids: BloomFilter | null;
  private readonly scans = new Map<string, FileScan>();
  private readonly before = new Map<string, { size: number; mtimeMs: number }>();
  private outputs = new Map<string, string>();
  private readonly writers: ManifestWriter[] = [];
  private first: ManifestRecord | undefined;

  constructor(
    readonly format: ManifestFormat,
    files: DetectedFile[],
    readonly output: string,
    private readonly options: {
      canaryIds: Set<string>;
      canaryTexts: CanaryTexts;
      check: CheckDepth;
      hash: FileHashAlgorithm;
    },
  ) {
    for (const file of files) {
      if (file.format === 'kaldi')
        throw new RoteError(`${file.path}: a Kaldi data dir cannot be combined with other manifests`);
      let table = this.tables.find((t) => t.adapter.format === file.format);
      if (!table) this.tables.push((table = { adapter: adapterFor(file.format), files: [] }));
      table.files.push(file.path);
    }
    this.tables.sort(
      (a, b) => Number(a.adapter.format === 'lhotse-supervisions') - Number(b.adapter.format === 'lhotse-supervisions'),
    );
    this.ids = this.tables.some((t) => t.adapter.hasIds) ? new BloomFilter(24) : null;
  }

  private get inputFiles(): string[] {
    return this.tables.flatMap((t) => t.files);
  }

  /** Output path for each input: a file for one input, or a file per input in a directory. */
  async planOutputs(): Promise<{ inputs: GuardedInput[]; outputs: GuardedOutput[] }> {
    const inputs = this.inputFiles;
    const target = resolve(this.output);
    const targetIsDir =
      inputs.length > 1 || this.output.endsWith('/') || (existsSync(target) && (await stat(target)).isDirectory());
    const map = new Map<string, string>();
    for (const input of inputs) {
      const path = targetIsDir ? join(target, basename(input)) : target;
      if ([...map.values()].includes(path))
        throw new RoteError(
          `two inputs are named ${basename(input)}; shards written into one --out directory need distinct names`,
        );
      map.set(input, path);
    }
    this.outputs = map;
    return {
      inputs: inputs.map((path) => ({ path, what: 'the training manifest', key: 'manifests' })),
      outputs: [...map.values()].map((path) => ({ path, key: 'output', kind: 'file' as const })),
    };
  }

  /** Existing outputs are refused without --force. */
  async checkOutputs(force: boolean): Promise<void> {
    for (const out of this.outputs.values()) {
      if (!force && existsSync(out))
        throw new RoteError(
          `${out}: already exists; rote does not replace an existing output manifest unless you pass --force (or choose another --out)`,
        );
    }
  }

  outputPaths(): string[] {
    return [...this.outputs.values()];
  }

  async scan(onProgress?: ScanProgress): Promise<void> {
    const sizes = new Map<string, number>();
    for (const file of this.inputFiles) {
      const info = await stat(file);
      this.before.set(file, info);
      sizes.set(file, info.size);
    }
    const total = [...sizes.values()].reduce((a, b) => a + b, 0);
    let done = 0;
    for (const table of this.tables) {
      // Duplicate ids are refused within a table (a lhotse supervision may share its recording's id).
      const seen = table.adapter.hasIds ? new IdSet() : undefined;
      for (const file of table.files) {
        const scan = await scanManifestFile(file, table.adapter, {
          ids: this.ids,
          seen,
          canaryIds: this.options.canaryIds,
          canaryTexts: this.options.canaryTexts,
          depth: this.options.check,
          hash: this.options.hash,
          onBytes: onProgress ? (bytes) => onProgress(done + Math.min(bytes, sizes.get(file)!), total) : undefined,
        });
        this.scans.set(file, scan);
        done += sizes.get(file)!;
        onProgress?.(done, total);
      }
    }
    const main = this.tables[0]!;
    this.first = main.files.map((f) => this.scans.get(f)!.first).find((r) => r !== undefined);
  }

  private firstOf<K extends 'text' | 'speaker'>(key: K): string | undefined {
    return this.tables
      .map((t) => t.files.map((f) => this.scans.get(f)!.first?.[key]).find((x) => x !== undefined))
      .find((x) => x !== undefined);
  }

  sampleRateSource(): { stated?: number; audio?: string } {
    const main = this.tables[0]!;
    return {
      stated: this.first?.sampleRate,
      audio: this.first ? main.adapter.resolveAudio(this.first, main.files[0]!) : undefined,
    };
  }

  textTemplate(): string | undefined {
    return this.firstOf('text');
  }

  drawIdentity(
    random: SeededRandom,
    taken: Set<string>,
    prefix: string,
    nameTaken: (recordId: string) => boolean,
  ): CopyIdentity {
    const first = this.first;
    const idTemplate = first?.id ?? (first?.audio ? basename(first.audio).replace(/\.[^.]*$/, '') : '');
    const speakerTemplate = this.firstOf('speaker') ?? '';
    let recordId: string;
    do recordId = prefix + drawUniqueId(idTemplate, random, this.ids, taken);
    while (nameTaken(recordId));
    const speaker = speakerTemplate ? drawUniqueId(speakerTemplate, random, this.ids, taken) : mimicId('', random);
    return { recordId, speaker };
  }

  async write(
    copies: PlannedCopy[],
    random: SeededRandom,
    onProgress?: (written: number, total: number) => void,
  ): Promise<FileSummary[]> {
    const summaries: FileSummary[] = [];
    const total = [...this.scans.values()].reduce((sum, s) => sum + s.dataRecords, 0);
    let written = 0;
    for (const [tableIndex, table] of this.tables.entries()) {
      const tableRecords = table.files.reduce((sum, f) => sum + this.scans.get(f)!.dataRecords, 0);
      if (tableRecords === 0)
        this.warnings.push(`${table.files.join(', ')}: no records; the canaries are the whole manifest`);
      const slots = drawSlots(
        random.fork(`positions/${table.adapter.format}/${tableIndex}`),
        copies.length,
        tableRecords,
      );
      let cursor = 0;
      let recordBase = 0;
      for (const [fileIndex, file] of table.files.entries()) {
        const scan = this.scans.get(file)!;
        // Slot k means "before the table's record k"; the end of the table belongs to its last file.
        const limit = recordBase + scan.dataRecords + (fileIndex === table.files.length - 1 ? 1 : 0);
        const mine: Array<{ index: number; slot: number }> = [];
        while (cursor < slots.length && slots[cursor]!.slot < limit)
          mine.push({ index: slots[cursor]!.index, slot: slots[cursor++]!.slot - recordBase });
        const target = this.outputs.get(file)!;
        await makeDirectory(dirname(target));
        const writer = new ManifestWriter(target, { hash: this.options.hash });
        this.writers.push(writer);
        const { insertions, inserted } = await planInsertions(file, table.adapter, scan, target, mine, copies);
        const copied = await spliceCopy(file, insertions, writer, (bytes) => {
          onProgress?.(written + Math.round((scan.dataRecords * bytes) / Math.max(1, scan.summary.bytes)), total);
        });
        written += scan.dataRecords;
        await refuseChanged(file, this.before.get(file)!, copied, scan);
        const digest = await writer.finish();
        summaries.push({
          path: writer.target,
          hash: digest,
          records: scan.summary.records + inserted,
          lines: scan.summary.lines + inserted,
        });
        recordBase += scan.dataRecords;
      }
    }
    onProgress?.(written, total);
    return summaries;
  }

  inputs(): FileSummary[] {
    return this.inputFiles.map((f) => {
      const { summary } = this.scans.get(f)!;
      return { path: f, hash: summary.hash, records: summary.records, lines: summary.lines };
    });
  }

  async commit(): Promise<void> {
    for (const writer of this.writers) await writer.commit();
  }

  async abort(): Promise<void> {
    await Promise.all(this.writers.map((w) => w.abort()));
  }
}

/** The canary records of one file, as byte insertions at their slots' offsets; fills in the copies' positions. */
async function planInsertions(
  file: string,
  adapter: RecordAdapter,
  scan: FileScan,
  target: string,
  mine: Array<{ index: number; slot: number }>,
  copies: PlannedCopy[],
): Promise<{ insertions: Insertion[]; inserted: number }> {
  const places = await locateSlots(file, adapter, scan, [...new Set(mine.map((m) => m.slot))]);
  const eol = scan.summary.eol;
  const context = { manifestDir: dirname(target), header: scan.header, eol, templateText: '' };
  const insertions: Insertion[] = [];
  let inserted = 0;
  let k = 0;
  for (const place of places) {
    const template = adapter.parse(place.template.text, { file, line: place.template.line }, scan.header);
    context.templateText = place.template.text;
    const parts: string[] = [];
    if (place.slot === scan.dataRecords && !scan.summary.endsWithNewline && scan.summary.bytes > 0) parts.push(eol);
    for (; k < mine.length && mine[k]!.slot === place.slot; k++) {
      const copy = copies[mine[k]!.index]!;
      parts.push(adapter.formatCanary(copy, template, context) + eol);
      copy.positions.push({
        file: target,
        record: place.slot + inserted + 1,
        line: place.line + inserted,
        recordId: adapter.hasIds ? copy.recordId : undefined,
        audio: copy.audioPath,
      });
      inserted++;
    }
    insertions.push({ offset: place.offset, bytes: Buffer.from(parts.join(''), 'utf8') });
  }
  return { insertions, inserted };
}

/** A file written to while rote read it gives a receipt that matches neither version: refused. */
async function refuseChanged(
  file: string,
  before: { size: number; mtimeMs: number },
  copied: number,
  scan: FileScan,
): Promise<void> {
  const after = await stat(file);
  if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || copied !== scan.summary.bytes) {
    throw new RoteError(`${file}: changed while rote was reading it; run inject again on a file nobody is writing`);
  }
}
