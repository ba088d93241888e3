/**
 * The reference recipe's feature store, computed by rote's own NeMo frontend
 * (src/audio `createFrontend({ type: 'nemo-mel' })`, defaults), so training sees
 * exactly the features the audit computes from the same WAVs.
 *
 * Store layout (read by train.py):
 *   features.f16   little-endian float16 frames [N, 80], utterances back to back;
 *                  identical audio (a canary repeated by inject) is stored once
 *   <name>.json    {format, featureDim, dtype, frontend, utterances: [{id, text,
 *                  audio, offset (frame row in features.f16), frames[, repetitions]}]}
 *   store.json     what went in and how big it is
 *
 *   node --import tsx scripts/reference/features.ts --out DIR \
 *     --index train-injected.json=INJECTED_MANIFEST --index dev.json=DEV_MANIFEST \
 *     --canaries canaries/demo [--jobs N]
 *
 * `--jobs N` (N > 1) computes the features in N child processes, each over a
 * contiguous share of the distinct audio files; the store is the same byte for
 * byte as with one process. (`--worker LIST` is how the parent starts a child.)
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createFrontend } from '../../src/audio/index.ts';
import { loadAudio } from '../../src/audio/load.ts';
import { readCanarySet } from '../../src/canary/canary-set.ts';
import { writeFileAtomic } from '../../src/util/atomic.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { toHalfBits } from './half.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    index: { type: 'string', multiple: true, default: [] },
    canaries: { type: 'string' },
    jobs: { type: 'string', default: '1' },
    worker: { type: 'string' },
  },
});

interface Utterance {
  id: string;
  text: string;
  audio: string;
  offset: number;
  frames: number;
  repetitions?: number | null;
}

/** One audio file's features: its sha256, frame count, fp16 bits and duration. */
interface Computed {
  hash: string;
  frames: number;
  half: Uint16Array;
  audioSec: number;
}

async function readNemoManifest(path: string): Promise<{ id: string; text: string; audio: string }[]> {
  const rows: { id: string; text: string; audio: string }[] = [];
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (!line.trim()) continue;
    const record = JSON.parse(line) as { audio_filepath?: string; text?: string; offset?: number };
    if (typeof record.audio_filepath !== 'string' || typeof record.text !== 'string')
      throw new Error(`${path}:${lineNo}: needs audio_filepath and text`);
    if (record.offset) throw new Error(`${path}:${lineNo}: offset segments are not supported by the reference recipe`);
    const audio = isAbsolute(record.audio_filepath)
      ? record.audio_filepath
      : resolve(dirname(path), record.audio_filepath);
    rows.push({ id: basename(audio).replace(/\.wav$/i, ''), text: record.text, audio });
  }
  return rows;
}

/** Computes the features of `paths` in order on this thread; a file whose bytes were already seen is not computed again. */
async function* computeAll(paths: string[]): AsyncGenerator<Computed> {
  const frontend = createFrontend({ type: 'nemo-mel' });
  if (frontend.numBins !== 80) throw new Error('expected 80 mel bins');
  const seen = new Map<string, Computed>();
  for (const path of paths) {
    const bytes = await readFile(path);
    const hash = sha256Hex(bytes);
    const known = seen.get(hash);
    if (known) {
      yield known;
      continue;
    }
    const { samples } = await loadAudio(path, frontend.sampleRate);
    const matrix = frontend.compute(samples);
    const half = new Uint16Array(matrix.data.length);
    for (let i = 0; i < half.length; i++) half[i] = toHalfBits(matrix.data[i]!);
    const computed = { hash, frames: matrix.numFrames, half, audioSec: samples.length / frontend.sampleRate };
    seen.set(hash, computed);
    yield computed;
  }
}

/** A child process: the features of the files listed in LIST, into LIST.f16 (back to back, duplicates once) and LIST.out.json. */
async function worker(list: string): Promise<void> {
  const paths = JSON.parse(await readFile(list, 'utf8')) as string[];
  const handle = await open(`${list}.f16`, 'w');
  const entries: { hash: string; frames: number; row: number; audioSec: number }[] = [];
  const rowOf = new Map<string, number>();
  let row = 0;
  try {
    for await (const computed of computeAll(paths)) {
      if (!rowOf.has(computed.hash)) {
        rowOf.set(computed.hash, row);
        await handle.write(new Uint8Array(computed.half.buffer));
        row += computed.frames;
      }
      entries.push({
        hash: computed.hash,
        frames: computed.frames,
        row: rowOf.get(computed.hash)!,
        audioSec: computed.audioSec,
      });
    }
  } finally {
    await handle.close();
  }
  await writeFile(`${list}.out.json`, JSON.stringify(entries));
}

/** The features of `paths` in order, computed by `jobs` child processes over contiguous shares. */
async function* computeInChildren(paths: string[], jobs: number, scratch: string): AsyncGenerator<Computed> {
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  const share = Math.ceil(paths.length / jobs);
  const lists: string[] = [];
  for (let k = 0; k * share < paths.length; k++) {
    lists.push(join(scratch, `share-${k}.json`));
    await writeFile(lists[k]!, JSON.stringify(paths.slice(k * share, (k + 1) * share)));
  }
  const script = fileURLToPath(import.meta.url);
  await Promise.all(
    lists.map(
      (list, k) =>
        new Promise<void>((done, fail) => {
          const child = spawn(process.execPath, [...process.execArgv, script, '--worker', list], {
            stdio: ['ignore', 'inherit', 'inherit'],
          });
          child.on('error', fail);
          child.on('exit', (code, signal) =>
            code === 0 ? done() : fail(new Error(`features share ${k} failed (${signal ?? `exit ${code}`})`)),
          );
        }),
    ),
  );
  for (const list of lists) {
    const bytes = await readFile(`${list}.f16`);
    const rows = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
    for (const entry of JSON.parse(await readFile(`${list}.out.json`, 'utf8')) as {
      hash: string;
      frames: number;
      row: number;
      audioSec: number;
    }[]) {
      yield {
        hash: entry.hash,
        frames: entry.frames,
        audioSec: entry.audioSec,
        half: rows.subarray(entry.row * 80, (entry.row + entry.frames) * 80),
      };
    }
  }
  await rm(scratch, { recursive: true, force: true });
}

async function main(): Promise<void> {
  if (values.worker) return worker(values.worker);
  if (!values.out) throw new Error('--out DIR is required');
  const out = resolve(values.out);
  await mkdir(out, { recursive: true });
  const started = Date.now();
  const jobs = Math.max(1, Number(values.jobs));

  // Every index's rows first, then the distinct files in the order they first appear.
  const rowsByIndex: Record<string, Omit<Utterance, 'offset' | 'frames'>[]> = {};
  for (const spec of values.index!) {
    const [name, manifest] = spec.split('=');
    if (!name || !manifest) throw new Error(`--index ${spec}: expected NAME.json=MANIFEST`);
    rowsByIndex[name] = await readNemoManifest(resolve(manifest));
    process.stderr.write(`${name}: ${rowsByIndex[name].length} utterances from ${manifest}\n`);
  }
  if (values.canaries) {
    const setDir = resolve(values.canaries);
    const set = await readCanarySet(setDir);
    rowsByIndex['canaries.json'] = set.canaries.map((canary) => ({
      id: canary.id,
      text: canary.text,
      audio: join(setDir, canary.audio),
      repetitions: canary.repetitions,
    }));
    process.stderr.write(`canaries.json: ${set.canaries.length} canaries from ${setDir}\n`);
  }
  const paths = [...new Set(Object.values(rowsByIndex).flatMap((rows) => rows.map((row) => row.audio)))];

  const storePath = join(out, 'features.f16');
  const temporary = `${storePath}.tmp`;
  const handle = await open(temporary, 'w');
  const byHash = new Map<string, { offset: number; frames: number }>();
  const byPath = new Map<string, { offset: number; frames: number }>();
  let nextRow = 0;
  let audioSec = 0;
  try {
    const stream =
      jobs > 1 && paths.length > 1 ? computeInChildren(paths, jobs, join(out, '.jobs')) : computeAll(paths);
    let i = 0;
    for await (const computed of stream) {
      let entry = byHash.get(computed.hash);
      if (!entry) {
        await handle.write(new Uint8Array(computed.half.buffer, computed.half.byteOffset, computed.half.byteLength));
        entry = { offset: nextRow, frames: computed.frames };
        nextRow += computed.frames;
        audioSec += computed.audioSec;
        byHash.set(computed.hash, entry);
      }
      byPath.set(paths[i++]!, entry);
    }
    if (i !== paths.length) throw new Error(`features for ${i} of ${paths.length} files`);
  } finally {
    await handle.close();
  }
  await rename(temporary, storePath);
  const indexes: Record<string, Utterance[]> = {};
  for (const [name, rows] of Object.entries(rowsByIndex))
    indexes[name] = rows.map((row) => ({ ...row, ...byPath.get(row.audio)! }));
  const frontend = createFrontend({ type: 'nemo-mel' });
  for (const [name, utterances] of Object.entries(indexes)) {
    await writeFileAtomic(
      join(out, name),
      JSON.stringify({ format: 1, featureDim: 80, dtype: 'float16', frontend: frontend.resolved, utterances }) + '\n',
    );
  }
  const summary = {
    frontend: frontend.resolved,
    uniqueUtterances: byHash.size,
    frames: nextRow,
    bytes: nextRow * 80 * 2,
    audioSec: Math.round(audioSec),
    computeSec: Math.round((Date.now() - started) / 1000),
    jobs,
    indexes: Object.fromEntries(Object.entries(indexes).map(([k, v]) => [k, v.length])),
  };
  await writeFileAtomic(join(out, 'store.json'), JSON.stringify(summary, null, 1) + '\n');
  console.log(JSON.stringify(summary));
}

await main();
