/**
 * writeTranscriptions() (`rote transcribe`): audio files named one of three ways (paths, a list file,
 * a canary set) through a model into a JSONL file written atomically, with a summary of the run.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { readCanarySetLanguage, readCanaryTexts } from '../canary/canary-set.ts';
import { temporarySibling } from '../util/atomic.ts';
import { refuseOutputsOnInputs } from '../util/output-guard.ts';
import { explainWriteFailure, RoteError } from '../util/errors.ts';
import { OptionError, resolveOptions, type OptionsOf } from '../util/options.ts';
import { defaultBatchFrames, fixedWindowFrames } from './batching.ts';
import { engineOf, loadModel, type AsrModel } from './model.ts';
import { TRANSCRIBE_OPTION_SPECS } from './options.ts';
import type { ProviderReport } from './runtime.ts';
import {
  sessionRunTime,
  transcribeFiles,
  type SkippedItem,
  type TranscribeItem,
  type TranscribeStats,
} from './transcribe.ts';

/**
 * A list file: one utterance per line, `PATH`, `ID<TAB>PATH` or `ID<TAB>PATH<TAB>REFERENCE`;
 * blank lines and lines starting with # are ignored; relative paths are relative to the list file.
 */
export async function readListFile(path: string): Promise<TranscribeItem[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new OptionError(
      (name) =>
        `${path}: cannot read the ${name('list')} file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      { cause: error },
    );
  }
  const base = dirname(resolve(path));
  const items: TranscribeItem[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (!line.trim() || line.startsWith('#')) return;
    const fields = line.split('\t');
    if (fields.length > 3)
      throw new RoteError(
        `${path}:${index + 1}: expected PATH, ID<TAB>PATH or ID<TAB>PATH<TAB>REFERENCE, got ${fields.length} tab-separated fields`,
      );
    const [id, file, reference] =
      fields.length === 1
        ? [basename(fields[0]!, extname(fields[0]!)), fields[0]!, undefined]
        : [fields[0]!, fields[1]!, fields[2]];
    if (!file.trim()) throw new RoteError(`${path}:${index + 1}: empty path`);
    items.push({
      id,
      path: isAbsolute(file) ? file : join(base, file),
      ...(reference !== undefined ? { reference } : {}),
    });
  });
  if (items.length === 0) throw new OptionError((name) => `${path}: the ${name('list')} file names no audio files`);
  return items;
}

/** Every canary of a canary-set directory, with its text as the reference. */
export async function readCanarySetItems(dir: string): Promise<TranscribeItem[]> {
  return (await readCanaryTexts(dir)).map(({ id, path, text }) => ({ id, path, reference: text }));
}

/** Audio files by path; ids are the file names without extension (#2, #3, ... for repeats). */
export function itemsFromPaths(paths: string[]): TranscribeItem[] {
  const seen = new Map<string, number>();
  return paths.map((path) => {
    let id = basename(path, extname(path));
    const count = seen.get(id) ?? 0;
    seen.set(id, count + 1);
    if (count > 0) id = `${id}#${count + 1}`;
    return { id, path };
  });
}

/**
 * The options of writeTranscriptions: one per TRANSCRIBE_OPTION_SPECS (types, defaults and help there; exactly one of
 * input, list and canaries), and the callbacks.
 */
export interface WriteTranscriptionsOptions extends OptionsOf<typeof TRANSCRIBE_OPTION_SPECS> {
  /** Told once the model is loaded (before any audio is read). */
  onModelLoaded?: (model: AsrModel) => void;
  onProgress?: (done: number, total: number) => void;
}

export interface TranscribeFileSummary {
  model: { dir: string; family: string; frontend: string };
  provider: ProviderReport;
  out: string;
  utterances: number;
  skipped: SkippedItem[];
  audioSec: number;
  loadSec: number;
  wallSec: number;
  utterancesPerSec: number;
  rtfx: number;
  sessionRunSec: number;
  sessionRuns: number;
  sessionRunShare: number;
  batchFrames: number;
  threads: number | null;
  cores: number;
  featureWorkers: number;
  featureSec: number;
  featureWaitSec: number;
  featureWorkersError: string | null;
}

/** The language to tell the model: --language, else the canary set's; a --language other than the set's is refused. */
async function audioLanguage(canaries: string | undefined, language: string | undefined): Promise<string | undefined> {
  if (!canaries) return language;
  const setLanguage = await readCanarySetLanguage(canaries);
  if (language !== undefined && language !== setLanguage)
    throw new OptionError(
      (name) =>
        `${name('language')} ${language}, but the canary set ${canaries} is in "${setLanguage}"; drop ${name('language')} (the set's language is used)`,
    );
  return setLanguage;
}

export async function writeTranscriptions(options: WriteTranscriptionsOptions): Promise<TranscribeFileSummary> {
  const resolved = resolveOptions(TRANSCRIBE_OPTION_SPECS, options);
  const { model: modelDir, out, provider, deviceId, threads, batchFrames, featureWorkers } = resolved;
  const { maxDurationSec, maxSymbolsPerFrame, head } = resolved;
  const sources = (['input', 'list', 'canaries'] as const).filter((key) =>
    key === 'input' ? options.input?.length : options[key],
  );
  if (sources.length !== 1)
    throw new OptionError(
      (name) =>
        `give exactly one of ${name('input')}, ${name('list')} or ${name('canaries')} (got ${sources.length === 0 ? 'none' : sources.map(name).join(', ')})`,
    );
  const items = options.list
    ? await readListFile(options.list)
    : options.canaries
      ? await readCanarySetItems(options.canaries)
      : itemsFromPaths(options.input!);
  await refuseOutputsOnInputs(
    [
      { path: modelDir, what: 'the model', key: 'model', tree: true },
      ...(options.list ? [{ path: options.list, what: 'the list', key: 'list' }] : []),
      ...(options.canaries ? [{ path: options.canaries, what: 'the canary set', key: 'canaries', tree: true }] : []),
      ...items.map((item) => ({ path: item.path, what: 'audio', key: sources[0]! })),
    ],
    [{ path: out, key: 'out', kind: 'file' }],
    { force: false },
  );

  const language = await audioLanguage(options.canaries, options.language);
  const loadStarted = performance.now();
  const model = await loadModel(modelDir, {
    ...(language ? { language } : {}),
    provider,
    deviceId,
    ...(threads !== undefined ? { threads } : {}),
    ...(options.sherpaCompatible ? { sherpaCompatible: true } : {}),
    ...(maxSymbolsPerFrame !== undefined ? { maxSymbolsPerFrame } : {}),
    ...(head ? { head } : {}),
  });
  const loadSec = (performance.now() - loadStarted) / 1000;
  try {
    options.onModelLoaded?.(model);
    await mkdir(dirname(resolve(out)), { recursive: true }).catch(async (error: unknown) => {
      throw await explainWriteFailure(error, out, '--out');
    });
    const temporary = temporarySibling(out);
    const stream = createWriteStream(temporary);
    const skipped: SkippedItem[] = [];
    let audioSec = 0;
    let rows = 0;
    let featureStats = undefined as TranscribeStats | undefined;
    const started = performance.now();
    try {
      for await (const row of transcribeFiles(model, items, {
        ...(batchFrames !== undefined ? { batchFrames } : {}),
        ...(featureWorkers !== undefined ? { featureWorkers } : {}),
        ...(maxDurationSec !== undefined ? { maxDurationSec } : {}),
        onStats: (stats) => (featureStats = stats),
        skipBad: options.skipBad ?? false,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        onSkip: (item) => skipped.push(item),
      })) {
        rows++;
        audioSec += row.durationSec;
        if (!stream.write(`${JSON.stringify(row)}\n`)) await once(stream, 'drain');
      }
      stream.end();
      await once(stream, 'finish');
      await rename(temporary, out);
    } catch (error) {
      stream.destroy();
      await rm(temporary, { force: true });
      throw await explainWriteFailure(error, out, '--out');
    }
    const wallSec = (performance.now() - started) / 1000;
    const run = sessionRunTime(model);
    return {
      model: { dir: model.info.dir, family: model.info.family, frontend: model.info.frontend.type },
      provider: model.provider,
      out,
      utterances: rows,
      skipped,
      audioSec,
      loadSec,
      wallSec,
      utterancesPerSec: wallSec > 0 ? rows / wallSec : 0,
      rtfx: wallSec > 0 ? audioSec / wallSec : 0,
      sessionRunSec: run.seconds,
      sessionRuns: run.runs,
      sessionRunShare: wallSec > 0 ? run.seconds / wallSec : 0,
      batchFrames: batchFrames ?? defaultBatchFrames(model.provider.used, fixedWindowFrames(engineOf(model).frontend)),
      threads: threads ?? null,
      cores: availableParallelism(),
      featureWorkers: featureStats?.featureWorkers ?? 0,
      featureSec: featureStats?.featureSec ?? 0,
      featureWaitSec: featureStats?.featureWaitSec ?? 0,
      featureWorkersError: featureStats?.featureWorkersError ?? null,
    };
  } finally {
    await model.close();
  }
}
