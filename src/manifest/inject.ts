/**
 * `injectCanaries`, the executor of an injection: it checks the options,
 * runs a target's passes (targets/: record-format manifests or a Kaldi data
 * dir), draws the plan (inject-plan.ts: ids, copies, slots, receipt), and
 * places the canary audio. Nothing is left half-written: outputs are written
 * to temporary siblings, and the canary WAVs to a staging folder inside the
 * audio dir, moved to their names only once every output is complete; an
 * interrupted run's leftovers are removed by the next run (leftovers.ts).
 */
import { access, constants, mkdir, readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { RoteError } from '../util/errors.ts';
import { resolveOptions, type OptionsOf, type ResolvedOptions } from '../util/options.ts';
import { INJECT_OPTION_SPECS } from './options.ts';
import { SeededRandom } from '../util/random.ts';
import type { FileHashAlgorithm } from '../util/hash.ts';
import { temporarySibling, writeFileAtomic } from '../util/atomic.ts';
import { probeSampleRate } from '../audio/sample-rate.ts';
import { canarySetPaths } from '../canary/canary-set.ts';
import { loadTrainingList, type LoadedTrainingList } from './canaries.ts';
import { refuseLinkLoop, refuseOutputsOnInputs, type GuardedInput } from '../util/output-guard.ts';
import { expandManifestPaths, manifestFormats } from './detect.ts';
import {
  placeCanaryAudio,
  prepareCanaryAudio,
  publishStagedAudio,
  removeQuietly,
  type PreparedCanaryAudio,
} from './canary-audio.ts';
import {
  audioNameTaken,
  audioPathOf,
  buildReceipt,
  planCopies,
  receiptPathFor,
  takenAudioStems,
  withDurations,
  type PlannedCopy,
} from './inject-plan.ts';
import { removeDeadLeftovers } from './leftovers.ts';
import { CanaryTexts } from './stream/canary-texts.ts';
import { KaldiDirTarget, kaldiInputDir } from './targets/kaldi-dir.ts';
import { RecordTablesTarget } from './targets/record-tables.ts';
import type { InjectionTarget } from './targets/target.ts';
import { makeDirectory, whyNotWritable, writeError } from './write-error.ts';
import { lockOutputFile, outputLockPath, type DirectoryLock } from '../util/lock.ts';
import { cleanUpOnSignal, removeEmptyDirsOnSignal, removeOnSignal } from '../util/interrupt.ts';
import type { InjectionReceipt, ManifestFormat } from './types.ts';

export { receiptPathFor } from './inject-plan.ts';

/** The options of injectCanaries: one per INJECT_OPTION_SPECS (types, defaults and help there), and the callbacks. */
export interface InjectOptions extends OptionsOf<typeof INJECT_OPTION_SPECS> {
  /** Called as records are written (pass 2; estimated from the bytes copied). */
  onProgress?: (written: number, total: number) => void;
  /** Called as pass 1 checks the input (bytes read of the inputs' total). */
  onScanProgress?: (done: number, total: number) => void;
}

/** Canaries whose audio is placed at the same time. */
const AUDIO_LANES = 8;
/** The staging folder's name in the audio dir (a temporary sibling of this name). */
const STAGING = 'rote-canary-audio';

export async function injectCanaries(injectOptions: InjectOptions): Promise<InjectionReceipt> {
  const options = { ...injectOptions, ...resolveOptions(INJECT_OPTION_SPECS, injectOptions) };
  await refuseLinkLoop(options.canaries);
  const training = await loadTrainingList(options.canaries);
  const canaryIds = new Set(training.list.canaries.map((c) => c.id));
  const canaryTexts = new CanaryTexts(training.list.canaries);
  const audioDir = resolve(options.audioDir);
  const inputs = await expandManifestPaths(options.manifests);
  const { format, files } = await manifestFormats(inputs, options.format);
  const seed = options.seed ?? training.list.setId;
  const hash: FileHashAlgorithm = options.hash;
  const random = new SeededRandom(seed);
  const force = options.force;

  let target: InjectionTarget;
  if (format === 'kaldi') {
    if (inputs.length !== 1) throw new RoteError('a Kaldi data dir is injected alone: give exactly one directory');
    target = new KaldiDirTarget(await kaldiInputDir(inputs[0]!), options.output, random, {
      canaryIds,
      canaryTexts,
      hash,
    });
  } else {
    target = new RecordTablesTarget(format, files, options.output, {
      canaryIds,
      canaryTexts,
      check: options.check,
      hash,
    });
  }
  const receiptPath = resolve(options.receipt ?? receiptPathFor(resolve(options.output)));
  const planned = await target.planOutputs();
  await refuseOutputsOnInputs(
    [...planned.inputs, ...canarySetInputs(training)],
    [
      ...planned.outputs,
      { path: receiptPath, key: 'receipt', kind: 'file' },
      { path: audioDir, key: 'audioDir', kind: 'into' },
    ],
  );
  // One run at a time per --out: the lock is held from before the existing outputs are checked until the commit.
  const output = resolve(options.output);
  const created = await makeParents(output);
  const lockNotices: string[] = [];
  let lock: DirectoryLock;
  try {
    lock = await lockOutputFile(output, `rote inject --out ${output}`, (_message, stale) =>
      lockNotices.push(
        `removed ${outputLockPath(output)}: left by an interrupted rote run (process ${stale?.pid ?? 'unknown'} is gone)`,
      ),
    );
  } catch (error) {
    await removeEmptyDirs(created);
    throw error instanceof RoteError
      ? error
      : writeError(output, error, 'cannot lock the output; choose a writable --out');
  }
  const releaseOnSignal = cleanUpOnSignal(() => lock.releaseSync());
  const forgetCreated = removeEmptyDirsOnSignal(created);
  try {
    await checkAudioDir(audioDir);
    await target.checkOutputs(force);
    await checkReceiptPath(receiptPath, force);
    return await injectLocked({
      ...options,
      training,
      audioDir,
      target,
      format,
      random,
      seed,
      receiptPath,
      lockNotices,
    });
  } catch (error) {
    await lock.release();
    await removeEmptyDirs(created);
    throw error;
  } finally {
    releaseOnSignal();
    forgetCreated();
    await lock.release();
  }
}

/** The parents of `path` that are missing, created now (deepest first, for removeEmptyDirs). */
async function makeParents(path: string): Promise<string[]> {
  const created: string[] = [];
  for (let dir = dirname(path); !existsSync(dir) && dirname(dir) !== dir; dir = dirname(dir)) created.push(dir);
  await makeDirectory(dirname(path));
  return created;
}

/** Removes the folders a failed run created, where they are still empty. */
async function removeEmptyDirs(dirs: string[]): Promise<void> {
  for (const dir of dirs) await rmdir(dir).catch(() => undefined);
}

/** The injection itself, once the options, inputs and outputs have passed their checks and --out is locked. */
async function injectLocked(
  options: ResolvedOptions<typeof INJECT_OPTION_SPECS> &
    InjectOptions & {
      training: LoadedTrainingList;
      audioDir: string;
      target: InjectionTarget;
      format: ManifestFormat;
      random: SeededRandom;
      seed: string;
      receiptPath: string;
      lockNotices: string[];
    },
): Promise<InjectionReceipt> {
  const { training, audioDir, target, format, random, seed, receiptPath } = options;
  const warnings: string[] = [...options.lockNotices];
  for (const { path, pid } of await removeLeftovers([...target.outputPaths(), receiptPath], audioDir)) {
    warnings.push(`removed ${path}: left by an interrupted rote run (process ${pid} is gone)`);
  }
  if (training.list.canaries.length === 0) warnings.push('the canary list is empty: the output equals the input');

  // Pass 1, then the plan: every check that can fail on the input runs before anything is written.
  await target.scan(options.onScanProgress);
  const sampleRate = await corpusSampleRate(
    options.sampleRate,
    target.sampleRateSource(),
    training.list.sampleRate,
    warnings,
  );
  const existingNames = await audioNames(audioDir);
  const idRandom = random.fork('ids');
  const taken = new Set<string>();
  const planned = planCopies(
    training.list.canaries,
    () => target.drawIdentity(idRandom, taken, options.idPrefix, (id) => audioNameTaken(existingNames, id)),
    { audioDir, sampleRate, textTemplate: target.textTemplate() },
  );
  const prepared = prepareAudio(planned, training.dir, sampleRate);
  const copies = withDurations(planned, (id) => prepared.get(id)!.numSamples, sampleRate);

  const createdAudioDir = !existsSync(audioDir);
  const staging = temporarySibling(join(audioDir, STAGING));
  const placed: string[] = [];
  let placing: Promise<InjectionReceipt['audioMode']> | null = null;
  let forgetStaging = (): void => {};
  let forgetAudioDir = (): void => {};
  try {
    forgetStaging = removeOnSignal(staging);
    if (createdAudioDir) forgetAudioDir = removeEmptyDirsOnSignal([audioDir]);
    await mkdir(staging, { recursive: true }).catch(async (error: unknown) => {
      throw writeError(
        audioDir,
        await whyNotWritable(audioDir, error),
        'cannot create the audio dir; pass --audio-dir a directory you can write',
      );
    });
    // The copies are written into the staging folder while pass 2 copies the manifest.
    placing = placeAudio(copies, prepared, options.link, staging);
    placing.catch(() => undefined);
    const outputs = await target.write(copies, random, options.onProgress);
    const audioMode = await placing;
    await publishStagedAudio(
      copies.map((copy) => ({ from: stagedPath(staging, copy), to: copy.audioPath })),
      placed,
    );
    await target.commit();
    await rm(staging, { recursive: true, force: true });
    forgetStaging();
    forgetAudioDir();
    const receipt = buildReceipt({
      setId: training.list.setId,
      canariesJsonSha256: training.sha256,
      canaries: training.list.canaries,
      copies,
      format,
      seed,
      sampleRate,
      audioDir,
      audioMode,
      inputs: target.inputs(),
      outputs,
      warnings: [...warnings, ...target.warnings],
      createdAt: new Date().toISOString(),
    });
    await writeFileAtomic(receiptPath, `${JSON.stringify(receipt, null, 2)}\n`).catch((error: unknown) => {
      throw writeError(
        receiptPath,
        error,
        'cannot write the injection receipt; choose a writable place with --receipt',
      );
    });
    return receipt;
  } catch (error) {
    await placing?.catch(() => undefined);
    await target.abort();
    await rm(staging, { recursive: true, force: true });
    forgetStaging();
    await removeQuietly(placed);
    // An audio dir this run created goes too when nothing else is in it.
    if (createdAudioDir) await rmdir(audioDir).catch(() => undefined);
    forgetAudioDir();
    throw error;
  }
}

/** Leftovers of interrupted runs for the names this run writes: outputs, receipt, the audio staging folder. */
async function removeLeftovers(paths: string[], audioDir: string): Promise<Array<{ path: string; pid: number }>> {
  const byDir = new Map<string, Set<string>>([[audioDir, new Set([STAGING])]]);
  for (const path of paths) {
    const names = byDir.get(dirname(path)) ?? new Set<string>();
    names.add(basename(path));
    byDir.set(dirname(path), names);
  }
  const removed: Array<{ path: string; pid: number }> = [];
  for (const [dir, names] of byDir) removed.push(...(await removeDeadLeftovers(dir, names)));
  return removed;
}

/** What inject reads of the canary set: its folders (nothing may be written inside them) and every canary WAV. */
function canarySetInputs(training: LoadedTrainingList): GuardedInput[] {
  const inputs: GuardedInput[] = [
    { path: training.dir, what: "the canary set's for-training folder", key: 'canaries', tree: true },
  ];
  const setDir = dirname(training.dir);
  if (existsSync(canarySetPaths(setDir).setFile))
    inputs.push({ path: setDir, what: 'the canary set', key: 'canaries', tree: true });
  for (const canary of training.list.canaries)
    inputs.push({ path: resolve(training.dir, canary.audio), what: 'canary audio', key: 'canaries' });
  return inputs;
}

/** An existing receipt is replaced only with --force, and only when it is a receipt rote wrote. */
async function checkReceiptPath(receiptPath: string, force: boolean): Promise<void> {
  let text: string;
  try {
    text = await readFile(receiptPath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'EISDIR')
      throw new RoteError(`${receiptPath}: is a folder; the receipt is a file, choose another --receipt`);
    throw writeError(receiptPath, error, 'cannot check the receipt path; choose another --receipt');
  }
  let ours = false;
  try {
    const value = JSON.parse(text) as Partial<InjectionReceipt>;
    ours = typeof value.receipt === 'number' && value.tool?.name === 'rote';
  } catch {
    ours = false;
  }
  if (!ours)
    throw new RoteError(
      `${receiptPath}: a file that is not a receipt written by rote inject is there; rote would replace it with the receipt, so it refuses (even with --force): choose another --receipt (or --out)`,
    );
  if (!force)
    throw new RoteError(
      `${receiptPath}: the receipt of an earlier injection is there; pass --force to replace that injection's output and receipt, or choose another --out (or --receipt)`,
    );
}

/** The audio dir must be a writable directory, or creatable (it is created only once the input has passed its checks). */
async function checkAudioDir(audioDir: string): Promise<void> {
  let existing = audioDir;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  try {
    if (!(await stat(existing)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    await access(existing, constants.W_OK | constants.R_OK | constants.X_OK);
  } catch (error) {
    throw writeError(
      audioDir,
      error,
      'the audio dir is not a readable, writable directory; pass --audio-dir a directory you can write',
    );
  }
}

/** The names already in the audio dir that canary audio may not take (takenAudioStems). */
async function audioNames(audioDir: string): Promise<Set<string>> {
  try {
    return takenAudioStems(await readdir(audioDir));
  } catch {
    return new Set();
  }
}

async function corpusSampleRate(
  option: number | undefined,
  source: { stated?: number; audio?: string },
  fallback: number,
  warnings: string[],
): Promise<number> {
  if (option !== undefined) return option;
  if (source.stated) return source.stated;
  const probed = source.audio ? await probeSampleRate(source.audio) : undefined;
  if (probed) return probed;
  warnings.push(
    `could not read the corpus sample rate from ${source.audio ?? 'the manifest'}; used the canary set's ${fallback} Hz (pass --sample-rate to choose)`,
  );
  return fallback;
}

/**
 * Reads and checks each canary's WAV (and resamples it when the corpus rate
 * differs), once per canary.
 */
function prepareAudio(
  copies: PlannedCopy[],
  trainingDir: string,
  sampleRate: number,
): Map<string, PreparedCanaryAudio> {
  const prepared = new Map<string, PreparedCanaryAudio>();
  for (const { canary } of copies) {
    if (!prepared.has(canary.id))
      prepared.set(canary.id, prepareCanaryAudio(resolve(trainingDir, canary.audio), canary.sha256, sampleRate));
  }
  return prepared;
}

function stagedPath(staging: string, copy: PlannedCopy): string {
  return audioPathOf(staging, basename(copy.audioPath, '.wav'));
}

/** Writes every copy into the staging folder; one canary's copies in order (later ones may link to the first). */
async function placeAudio(
  copies: PlannedCopy[],
  prepared: Map<string, PreparedCanaryAudio>,
  link: boolean,
  staging: string,
): Promise<InjectionReceipt['audioMode']> {
  let mode: InjectionReceipt['audioMode'] = link ? 'link' : 'copy';
  const byCanary = new Map<string, PlannedCopy[]>();
  for (const copy of copies) byCanary.set(copy.canaryId, [...(byCanary.get(copy.canaryId) ?? []), copy]);
  await inLanes([...byCanary.values()], async (group) => {
    const audio = prepared.get(group[0]!.canaryId)!;
    let firstCopy: string | undefined;
    for (const copy of group) {
      const path = stagedPath(staging, copy);
      const placed = await placeCanaryAudio(audio, path, link, firstCopy);
      firstCopy ??= path;
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
