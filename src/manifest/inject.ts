/**
 * `injectCanaries`: weaves a canary set's inserted canaries into a training
 * manifest in two streaming passes. Pass 1 (scan.ts) validates and counts
 * every record, keeping a checkpoint every few records (and, for formats with
 * ids, the ids in a fixed-size Bloom filter); then each canary copy gets a
 * seeded, uniformly random slot among the manifest's records (across all
 * shards); pass 2 (splice.ts) finds each slot's byte offset from the nearest
 * checkpoint and copies the input bytes unchanged in large chunks with the
 * canary records spliced in. A second thread (worker.ts) reads the input for
 * that copy and computes the input and output digests from the same read.
 * Kaldi tables are sorted, so there the slot is the sorted place of a random,
 * corpus-shaped id.
 */
import { access, constants, mkdir, readdir, realpath, rename, rm, stat, copyFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { RoteError } from '../util/errors.ts';
import { SeededRandom } from '../util/random.ts';
import { TOOL_VERSION } from '../util/version.ts';
import type { FileHashAlgorithm } from '../util/hash.ts';
import { temporarySibling, writeFileAtomic } from '../util/atomic.ts';
import type { TrainingCanary } from '../canary/types.ts';
import { loadTrainingList } from './canaries.ts';
import { detectManifestFormat, expandManifestPaths } from './detect.ts';
import { adapterFor } from './formats/index.ts';
import { KALDI_DROPPED, mergeKaldiTable, scanKaldiDir, type KaldiLine } from './formats/kaldi.ts';
import { BloomFilter, caseLike, drawUniqueId, mimicId } from './ids.ts';
import { isGzip } from './lines.ts';
import { ManifestWorker } from './worker.ts';
import { scanManifestFile, type CheckDepth, type FileScan } from './scan.ts';
import { locateSlots, spliceCopy, type Insertion } from './splice.ts';
import { createRing, RingReader } from './ring.ts';
import { placeCanaryAudio, prepareCanaryAudio, removeQuietly, type PreparedCanaryAudio } from './audio.ts';
import { probeSampleRate } from '../audio/sample-rate.ts';
import { ManifestWriter } from './writer.ts';
import type { CanaryCopy, CopyPosition, FileSummary, InjectionReceipt, ManifestFormat, ManifestRecord, RecordAdapter } from './types.ts';

export interface InjectOptions {
  /** Manifest files, globs (in the file name), or one Kaldi data directory. */
  manifests: string[];
  /** Canary-set directory or its for-training/ directory. */
  canaries: string;
  /** Output file (one input file) or directory (shards, a lhotse pair, a Kaldi dir). */
  output: string;
  /** Where canary WAVs are written (created if missing). */
  audioDir: string;
  /** Force a format instead of detecting it. */
  format?: ManifestFormat;
  /** Seed for ids and positions (default: the canary set's id). */
  seed?: string;
  /** Hard-link canary audio instead of copying it (falls back to copying across file systems). */
  link?: boolean;
  /** Prefix for inserted ids (default none: ids look like the corpus's own). */
  idPrefix?: string;
  /** Corpus sample rate (default: read from the manifest or its first audio file). */
  sampleRate?: number;
  /** Receipt path (default: injection-receipt.json next to the output). */
  receipt?: string;
  /**
   * How deeply pass 1 checks records of large JSON-lines manifests (NeMo):
   * 'structure' (default) parses the first FULL_CHECK_RECORDS records and
   * checks every later line for UTF-8 and a JSON object's braces; 'full'
   * checks every line as JSON with the format's fields. Other formats are
   * always checked in full.
   */
  check?: CheckDepth;
  /** Digest of input and output files in the receipt (default xxh3; sha256 to resist deliberate tampering). */
  hash?: FileHashAlgorithm;
  /** Called as records are written (pass 2; estimated from the bytes copied). */
  onProgress?: (written: number, total: number) => void;
}

interface PlannedCopy extends CanaryCopy {
  canary: TrainingCanary;
  positions: CopyPosition[];
}

/** Canaries whose audio is placed at the same time. */
const AUDIO_LANES = 8;

export async function injectCanaries(options: InjectOptions): Promise<InjectionReceipt> {
  const training = await loadTrainingList(options.canaries);
  const canaryIds = new Set(training.list.canaries.map((c) => c.id));
  const inputs = await expandManifestPaths(options.manifests);
  const detected = options.format && !options.format.startsWith('lhotse-')
    ? { format: options.format, files: inputs.map((path) => ({ path, format: options.format! })) }
    : await detectManifestFormat(inputs);
  const format = options.format ?? detected.format;
  const seed = options.seed ?? training.list.setId;
  const hash = options.hash ?? 'xxh3';
  const random = new SeededRandom(seed);
  const audioDir = resolve(options.audioDir);
  await prepareAudioDir(audioDir);
  const warnings: string[] = [];
  if (training.list.canaries.length === 0) warnings.push('the canary list is empty: the output equals the input');

  if (format === 'kaldi') {
    if (inputs.length !== 1) throw new RoteError('a Kaldi data dir is injected alone: give exactly one directory');
    const dir = (await stat(inputs[0]!)).isDirectory() ? inputs[0]! : dirname(inputs[0]!);
    return injectKaldi(dir, options, training, canaryIds, random, audioDir, seed, warnings);
  }

  // Tables: one for most formats; recordings and supervisions for a lhotse pair.
  const tables: Array<{ adapter: RecordAdapter; files: string[] }> = [];
  for (const file of detected.files) {
    const fileFormat = options.format && !(options.format.startsWith('lhotse-') && file.format.startsWith('lhotse-')) ? options.format : file.format;
    if (fileFormat === 'kaldi') throw new RoteError(`${file.path}: a Kaldi data dir cannot be combined with other manifests`);
    let table = tables.find((t) => t.adapter.format === fileFormat);
    if (!table) tables.push((table = { adapter: adapterFor(fileFormat), files: [] }));
    table.files.push(file.path);
  }
  tables.sort((a, b) => Number(a.adapter.format === 'lhotse-supervisions') - Number(b.adapter.format === 'lhotse-supervisions'));
  const outputs = await planOutputs(inputs, options.output);

  // Pass 1: records checked and counted.
  const ids = tables.some((t) => t.adapter.hasIds) ? new BloomFilter(24) : null;
  const scans = new Map<string, FileScan>();
  const before = new Map<string, { size: number; mtimeMs: number }>();
  // Plain input to plain output: both digests come from the worker in pass 2, from one read.
  const digestsInPass2 = (file: string): boolean => !isGzip(file) && !isGzip(outputs.get(file)!);
  // The others' input digests, awaited only for the receipt.
  const inputHashes = new Map<string, Promise<{ hash: string }>>();
  // Started now, its ~30 ms start overlaps pass 1, so pass 2 finds it ready.
  const worker = new ManifestWorker(hash);
  worker.start();
  try {
    for (const table of tables) {
      for (const file of table.files) {
        before.set(file, await stat(file));
        if (!digestsInPass2(file)) {
          const hashed = worker.hashFile(file);
          hashed.catch(() => undefined);
          inputHashes.set(file, hashed);
        }
        scans.set(file, await scanManifestFile(file, table.adapter, { ids, canaryIds, depth: options.check ?? 'structure' }));
      }
    }
    const main = tables[0]!;
    const mainFirst = main.files.map((f) => scans.get(f)!.first).find((r) => r !== undefined);
    const textTemplate = tables.map((t) => t.files.map((f) => scans.get(f)!.first?.text).find((x) => x !== undefined)).find((x) => x !== undefined);
    const sampleRate = await corpusSampleRate(options.sampleRate, mainFirst, main, training.list.sampleRate, warnings);

    // Ids, audio, copies.
    const idTemplate = mainFirst?.id ?? (mainFirst?.audio ? basename(mainFirst.audio).replace(/\.[^.]*$/, '') : '');
    const speakerTemplate = tables.map((t) => t.files.map((f) => scans.get(f)!.first?.speaker).find((x) => x !== undefined)).find((x) => x !== undefined) ?? '';
    const idRandom = random.fork('ids');
    const taken = new Set<string>();
    const copies: PlannedCopy[] = [];
    for (const canary of training.list.canaries) {
      for (let k = 0; k < canary.repetitions; k++) {
        let recordId: string;
        do recordId = (options.idPrefix ?? '') + drawUniqueId(idTemplate, idRandom, ids, taken);
        while (existsSync(join(audioDir, `${recordId}.wav`)));
        const speaker = speakerTemplate ? drawUniqueId(speakerTemplate, idRandom, ids, taken) : mimicId('', idRandom);
        copies.push({
          canary, canaryId: canary.id, copyIndex: k, recordId, recordingId: recordId, speaker,
          text: caseLike(canary.text, textTemplate), audioPath: join(audioDir, `${recordId}.wav`),
          sampleRate, numSamples: 0, durationSec: 0, positions: [],
        });
      }
    }

    const created: string[] = [];
    const writers: ManifestWriter[] = [];
    let placing: Promise<InjectionReceipt['audioMode']> | null = null;
    try {
      const prepared = prepareAudio(copies, training.dir, sampleRate);
      // The copies are written into the audio dir while pass 2 copies the manifest.
      placing = placeAudio(copies, prepared, options.link ?? false, created);
      placing.catch(() => undefined);

      // Pass 2.
      const outputSummaries: FileSummary[] = [];
      const total = [...scans.values()].reduce((sum, s) => sum + s.dataRecords, 0);
      let written = 0;
      for (const [tableIndex, table] of tables.entries()) {
        const tableRecords = table.files.reduce((sum, f) => sum + scans.get(f)!.dataRecords, 0);
        if (tableRecords === 0) warnings.push(`${table.files.join(', ')}: no records; the canaries are the whole manifest`);
        const slotRandom = random.fork(`positions/${table.adapter.format}/${tableIndex}`);
        const slots = copies.map((_, index) => ({ index, slot: slotRandom.nextInt(tableRecords + 1) }));
        slots.sort((a, b) => a.slot - b.slot || a.index - b.index);
        let cursor = 0;
        let recordBase = 0;
        for (const [fileIndex, file] of table.files.entries()) {
          const scan = scans.get(file)!;
          // Slot k means "before the table's record k"; the end of the table belongs to its last file.
          const limit = recordBase + scan.dataRecords + (fileIndex === table.files.length - 1 ? 1 : 0);
          const mine: Array<{ index: number; slot: number }> = [];
          while (cursor < slots.length && slots[cursor]!.slot < limit) mine.push({ index: slots[cursor]!.index, slot: slots[cursor++]!.slot - recordBase });
          const target = outputs.get(file)!;
          const hashOnWorker = digestsInPass2(file);
          const writer = new ManifestWriter(target, { hash: hashOnWorker ? false : hash });
          writers.push(writer);
          const { insertions, inserted } = await planInsertions(file, table.adapter, scan, target, mine, copies);
          // Plain to plain: the worker reads the input once, for this thread's copy and both digests.
          const ring = hashOnWorker ? createRing() : null;
          const digests = ring ? worker.spliceThroughRing(file, insertions, ring) : null;
          digests?.catch(() => undefined);
          if (digests) {
            const inputDigest = digests.then((d) => ({ hash: d.input }));
            inputDigest.catch(() => undefined);
            inputHashes.set(file, inputDigest);
          }
          const copied = await spliceCopy(file, insertions, writer, (bytes) => {
            options.onProgress?.(written + Math.round((scan.dataRecords * bytes) / Math.max(1, scan.summary.bytes)), total);
          }, ring && digests ? new RingReader(ring, digests) : undefined);
          written += scan.dataRecords;
          await refuseChanged(file, before.get(file)!, copied, scan);
          const writerHash = await writer.finish();
          const outputDigest = digests ? (await digests).output : writerHash;
          outputSummaries.push({ path: writer.target, hash: outputDigest, records: scan.summary.records + inserted, lines: scan.summary.lines + inserted });
          recordBase += scan.dataRecords;
        }
      }
      options.onProgress?.(written, total);
      const audioMode = await placing;
      for (const [file, hashed] of inputHashes) scans.get(file)!.summary.hash = (await hashed).hash;
      for (const writer of writers) await writer.commit();
      const receipt: InjectionReceipt = {
        receipt: 2,
        tool: { name: 'rote', version: TOOL_VERSION },
        createdAt: new Date().toISOString(),
        canarySet: { setId: training.list.setId, canariesJsonSha256: training.sha256, canaryCount: training.list.canaries.length, copies: copies.length },
        format,
        seed,
        sampleRate,
        audioDir,
        audioMode,
        inputs: tables.flatMap((t) => t.files).map((f) => ({ path: f, hash: scans.get(f)!.summary.hash, records: scans.get(f)!.summary.records, lines: scans.get(f)!.summary.lines })),
        outputs: outputSummaries,
        canaries: receiptCanaries(training.list.canaries, copies),
        warnings,
      };
      await writeFileAtomic(options.receipt ?? join(outputs.receiptDir, 'injection-receipt.json'), `${JSON.stringify(receipt, null, 2)}\n`);
      return receipt;
    } catch (error) {
      await placing?.catch(() => undefined);
      await Promise.all(writers.map((w) => w.abort()));
      await removeQuietly(created);
      throw error;
    }
  } finally {
    await worker.close();
  }
}

/** The canary records of one file, as byte insertions at their slots' offsets; fills in the copies' positions. */
async function planInsertions(file: string, adapter: RecordAdapter, scan: FileScan, target: string, mine: Array<{ index: number; slot: number }>, copies: PlannedCopy[]): Promise<{ insertions: Insertion[]; inserted: number }> {
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
      copy.positions.push({ file: target, record: place.slot + inserted + 1, line: place.line + inserted, recordId: adapter.hasIds ? copy.recordId : undefined, audio: copy.audioPath });
      inserted++;
    }
    insertions.push({ offset: place.offset, bytes: Buffer.from(parts.join(''), 'utf8') });
  }
  return { insertions, inserted };
}

/** A file written to while rote read it gives a receipt that matches neither version: refused. */
async function refuseChanged(file: string, before: { size: number; mtimeMs: number }, copied: number, scan: FileScan): Promise<void> {
  const after = await stat(file);
  if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || copied !== scan.summary.bytes) {
    throw new RoteError(`${file}: changed while rote was reading it; run inject again on a file nobody is writing`);
  }
}

function receiptCanaries(canaries: TrainingCanary[], copies: PlannedCopy[]): InjectionReceipt['canaries'] {
  return canaries.map((canary) => ({
    id: canary.id,
    repetitions: canary.repetitions,
    positions: copies.filter((c) => c.canaryId === canary.id).flatMap((c) => c.positions),
  }));
}

async function prepareAudioDir(audioDir: string): Promise<void> {
  try {
    await mkdir(audioDir, { recursive: true });
    await access(audioDir, constants.W_OK | constants.R_OK | constants.X_OK);
  } catch (error) {
    throw new RoteError(`${audioDir}: audio dir is not a readable, writable directory (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); pass --audio-dir a directory you can write`, { cause: error });
  }
}

async function corpusSampleRate(option: number | undefined, first: ManifestRecord | undefined, main: { adapter: RecordAdapter; files: string[] }, fallback: number, warnings: string[]): Promise<number> {
  if (option !== undefined) {
    if (!Number.isInteger(option) || option <= 0) throw new RoteError(`--sample-rate must be a positive integer (got ${option})`);
    return option;
  }
  if (first?.sampleRate) return first.sampleRate;
  const audio = first ? main.adapter.resolveAudio(first, main.files[0]!) : undefined;
  const probed = audio ? await probeSampleRate(audio) : undefined;
  if (probed) return probed;
  warnings.push(`could not read the corpus sample rate from ${audio ?? 'the manifest'}; used the canary set's ${fallback} Hz (pass --sample-rate to choose)`);
  return fallback;
}

/**
 * Canary audio in two steps: `prepareAudio` reads and checks each canary's WAV
 * (and resamples it when the corpus rate differs), which sets every copy's
 * duration for its manifest record; `placeAudio` then writes the copies into
 * the audio dir, which can run while the manifest is copied.
 */
function prepareAudio(copies: PlannedCopy[], trainingDir: string, sampleRate: number): Map<string, PreparedCanaryAudio> {
  const prepared = new Map<string, PreparedCanaryAudio>();
  for (const copy of copies) {
    const { canary } = copy;
    if (!prepared.has(canary.id)) prepared.set(canary.id, prepareCanaryAudio(resolve(trainingDir, canary.audio), canary.sha256, sampleRate));
  }
  for (const copy of copies) {
    const audio = prepared.get(copy.canaryId)!;
    copy.numSamples = audio.numSamples;
    copy.durationSec = audio.numSamples / sampleRate;
  }
  return prepared;
}

async function placeAudio(copies: PlannedCopy[], prepared: Map<string, PreparedCanaryAudio>, link: boolean, created: string[]): Promise<InjectionReceipt['audioMode']> {
  let mode: InjectionReceipt['audioMode'] = link ? 'link' : 'copy';
  const byCanary = new Map<string, PlannedCopy[]>();
  for (const copy of copies) byCanary.set(copy.canaryId, [...(byCanary.get(copy.canaryId) ?? []), copy]);
  // One canary's copies in order (later ones may link to the first).
  await inLanes([...byCanary.values()], async (group) => {
    const audio = prepared.get(group[0]!.canaryId)!;
    let firstCopy: string | undefined;
    for (const copy of group) {
      const placed = await placeCanaryAudio(audio, copy.audioPath, link, firstCopy);
      created.push(copy.audioPath);
      firstCopy ??= copy.audioPath;
      if (placed === 'resample') mode = 'resample';
    }
  });
  return mode;
}

/** Runs `work` on the items AUDIO_LANES at a time (file creation overlaps in libuv's thread pool); the first failure, once all have settled. */
async function inLanes<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(AUDIO_LANES, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  const settled = await Promise.allSettled(lanes);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
}

/** Output path for each input (a file for one input, a directory otherwise); refuses to overwrite an input. */
async function planOutputs(inputs: string[], output: string): Promise<Map<string, string> & { receiptDir: string }> {
  const target = resolve(output);
  const targetIsDir = inputs.length > 1 || output.endsWith('/') || (existsSync(target) && (await stat(target)).isDirectory());
  const map = new Map<string, string>() as Map<string, string> & { receiptDir: string };
  if (targetIsDir) {
    await mkdir(target, { recursive: true });
    for (const input of inputs) {
      const name = basename(input);
      const path = join(target, name);
      if ([...map.values()].includes(path)) throw new RoteError(`two inputs are named ${name}; shards written into one --output directory need distinct names`);
      map.set(input, path);
    }
    map.receiptDir = target;
  } else {
    await mkdir(dirname(target), { recursive: true });
    map.set(inputs[0]!, target);
    map.receiptDir = dirname(target);
  }
  for (const [input, out] of map) await refuseSameFile(input, out);
  return map;
}

async function refuseSameFile(input: string, output: string): Promise<void> {
  const realInput = await realpath(input);
  let realOutput: string;
  try {
    realOutput = await realpath(output);
  } catch {
    realOutput = join(await realpath(dirname(output)), basename(output));
  }
  let sameInode = false;
  try {
    const [a, b] = await Promise.all([stat(realInput), stat(realOutput)]);
    sameInode = a.ino === b.ino && a.dev === b.dev;
  } catch {
    sameInode = false;
  }
  if (realInput === realOutput || sameInode) {
    throw new RoteError(`${output}: output is the input manifest; rote never modifies a training manifest in place, choose another --output`);
  }
}

// ---------------------------------------------------------------- Kaldi

async function injectKaldi(
  dir: string,
  options: InjectOptions,
  training: Awaited<ReturnType<typeof loadTrainingList>>,
  canaryIds: Set<string>,
  random: SeededRandom,
  audioDir: string,
  seed: string,
  warnings: string[],
): Promise<InjectionReceipt> {
  const ids = new BloomFilter(24);
  const hash = options.hash ?? 'xxh3';
  const scan = await scanKaldiDir(dir, ids, canaryIds, random.fork('id-samples'), hash);
  const outputDir = resolve(options.output);
  if ((await realpath(dir)) === resolve(outputDir) || (existsSync(outputDir) && (await realpath(outputDir)) === (await realpath(dir)))) {
    throw new RoteError(`${outputDir}: output is the input data dir; rote never modifies a training manifest in place, choose another --output`);
  }
  if (existsSync(outputDir) && (await readdir(outputDir)).length > 0) {
    throw new RoteError(`${outputDir}: output data dir exists and is not empty; choose a new directory`);
  }
  const sampleRate = await corpusSampleRate(
    options.sampleRate,
    scan.template.wav && !scan.template.wav.trim().endsWith('|') ? { audio: scan.template.wav.trim(), fields: {} } : undefined,
    { adapter: { resolveAudio: (record: ManifestRecord) => resolve(dir, record.audio!) } as unknown as RecordAdapter, files: [join(dir, 'wav.scp')] },
    training.list.sampleRate,
    warnings,
  );

  const idRandom = random.fork('ids');
  const taken = new Set<string>();
  const prefix = options.idPrefix ?? '';
  const copies: PlannedCopy[] = [];
  for (const canary of training.list.canaries) {
    for (let k = 0; k < canary.repetitions; k++) {
      let speaker: string;
      let utt: string;
      // Each copy is shaped after a random corpus utterance, so it sorts to a random place.
      const { utt: templateUtt, spk: templateSpk } = scan.idSamples[idRandom.nextInt(scan.idSamples.length)] ?? { utt: '', spk: '' };
      const speakerIsPrefix = templateSpk.length > 0 && templateUtt.startsWith(templateSpk);
      do {
        speaker = prefix + drawUniqueId(templateSpk, idRandom, ids, taken);
        utt = speakerIsPrefix ? speaker + mimicId(templateUtt.slice(templateSpk.length), idRandom) : prefix + mimicId(templateUtt, idRandom);
      } while (taken.has(utt) || ids.mightContain(utt) || existsSync(join(audioDir, `${utt}.wav`)));
      taken.add(utt);
      copies.push({
        canary, canaryId: canary.id, copyIndex: k, recordId: utt, recordingId: utt, speaker,
        text: caseLike(canary.text, scan.template.text), audioPath: join(audioDir, `${utt}.wav`),
        sampleRate, numSamples: 0, durationSec: 0, positions: [],
      });
    }
  }

  const created: string[] = [];
  const temporaryDir = temporarySibling(outputDir);
  const genderRandom = random.fork('gender');
  const genders = copies.map(() => (genderRandom.nextInt(2) === 0 ? 'm' : 'f'));
  try {
    const audioMode = await placeAudio(copies, prepareAudio(copies, training.dir, sampleRate), options.link ?? false, created);
    await mkdir(temporaryDir, { recursive: true });
    const outputs: FileSummary[] = [];
    for (const name of scan.skipped) warnings.push(`${join(dir, name)}: sub-directory not copied (split dirs are stale after injection; recreate them)`);
    for (const file of scan.files) {
      const target = join(temporaryDir, file.name);
      if (KALDI_DROPPED.has(file.name)) {
        warnings.push(`${file.path}: left out of the output; compute features again for the injected data dir (e.g. steps/make_fbank.sh)`);
        continue;
      }
      if (file.key === null) {
        await copyFile(file.path, target);
        outputs.push({ path: join(outputDir, file.name), hash: file.summary.hash, records: file.summary.records, lines: file.summary.lines });
        continue;
      }
      const lines: KaldiLine[] = copies.map((copy, index) => {
        const key = file.key === 'spk' ? copy.speaker : file.key === 'rec' ? copy.recordingId : copy.recordId;
        return { key: Buffer.from(key), line: `${key} ${kaldiValue(file.name, copy, genders[index]!, file.firstValue)}`, copy: index };
      });
      lines.sort((a, b) => Buffer.compare(a.key, b.key));
      const writer = new ManifestWriter(target, { hash });
      try {
        const merged = await mergeKaldiTable(file, lines, writer, file.summary.eol, hash);
        if (merged.summary.hash !== file.summary.hash) throw new RoteError(`${file.path}: changed while rote was reading it; run inject again`);
        const outputDigest = await writer.finish();
        await writer.commit();
        if (file.name === 'text') {
          for (const [index, line] of merged.copyLines) {
            copies[index]!.positions.push({ file: join(outputDir, 'text'), record: line, line, recordId: copies[index]!.recordId, audio: copies[index]!.audioPath });
          }
        }
        outputs.push({ path: join(outputDir, file.name), hash: outputDigest, records: merged.lines, lines: merged.lines });
      } catch (error) {
        await writer.abort();
        throw error;
      }
    }
    if (existsSync(outputDir)) await rm(outputDir, { recursive: true });
    await rename(temporaryDir, outputDir);
    const receipt: InjectionReceipt = {
      receipt: 2,
      tool: { name: 'rote', version: TOOL_VERSION },
      createdAt: new Date().toISOString(),
      canarySet: { setId: training.list.setId, canariesJsonSha256: training.sha256, canaryCount: training.list.canaries.length, copies: copies.length },
      format: 'kaldi',
      seed,
      sampleRate,
      audioDir,
      audioMode,
      inputs: scan.files.map((f) => ({ path: f.path, hash: f.summary.hash, records: f.summary.records, lines: f.summary.lines })),
      outputs,
      canaries: receiptCanaries(training.list.canaries, copies),
      warnings,
    };
    await writeFileAtomic(options.receipt ?? join(outputDir, 'injection-receipt.json'), `${JSON.stringify(receipt, null, 2)}\n`);
    return receipt;
  } catch (error) {
    await rm(temporaryDir, { recursive: true, force: true });
    await removeQuietly(created);
    throw error;
  }
}

function kaldiValue(table: string, copy: PlannedCopy, gender: string, templateValue: string): string {
  const duration = String(Math.round(copy.durationSec * 1000) / 1000);
  switch (table) {
    case 'text': return copy.text;
    case 'wav.scp': return copy.audioPath;
    case 'utt2spk': return copy.speaker;
    case 'spk2utt': return copy.recordId;
    case 'segments': return `${copy.recordingId} 0.00 ${(Math.floor(copy.durationSec * 100) / 100).toFixed(2)}`;
    case 'utt2dur':
    case 'reco2dur': return duration;
    case 'spk2gender': return gender;
    case 'utt2uniq': return copy.recordId;
    case 'reco2file_and_channel': return `${copy.recordingId} A`;
    default: return templateValue;
  }
}
