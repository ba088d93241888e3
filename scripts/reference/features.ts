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
 *     --canaries canaries/demo
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createFrontend } from '../../src/audio/index.ts';
import { loadAudio } from '../../src/audio/load.ts';
import type { CanarySet } from '../../src/canary/types.ts';
import { writeFileAtomic } from '../../src/util/atomic.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { toHalfBits } from './half.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    index: { type: 'string', multiple: true, default: [] },
    canaries: { type: 'string' },
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

async function readNemoManifest(path: string): Promise<{ id: string; text: string; audio: string }[]> {
  const rows: { id: string; text: string; audio: string }[] = [];
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (!line.trim()) continue;
    const record = JSON.parse(line) as { audio_filepath?: string; text?: string; offset?: number };
    if (typeof record.audio_filepath !== 'string' || typeof record.text !== 'string') throw new Error(`${path}:${lineNo}: needs audio_filepath and text`);
    if (record.offset) throw new Error(`${path}:${lineNo}: offset segments are not supported by the reference recipe`);
    const audio = isAbsolute(record.audio_filepath) ? record.audio_filepath : resolve(dirname(path), record.audio_filepath);
    rows.push({ id: basename(audio).replace(/\.wav$/i, ''), text: record.text, audio });
  }
  return rows;
}

async function main(): Promise<void> {
  if (!values.out) throw new Error('--out DIR is required');
  const out = resolve(values.out);
  await mkdir(out, { recursive: true });
  const frontend = createFrontend({ type: 'nemo-mel' });
  if (frontend.numBins !== 80) throw new Error('expected 80 mel bins');
  const storePath = join(out, 'features.f16');
  const temporary = `${storePath}.tmp`;
  const handle = await open(temporary, 'w');
  const byHash = new Map<string, { offset: number; frames: number }>();
  let nextRow = 0;
  let audioSec = 0;
  const started = Date.now();

  async function features(audio: string): Promise<{ offset: number; frames: number }> {
    const bytes = await readFile(audio);
    const hash = sha256Hex(bytes);
    const known = byHash.get(hash);
    if (known) return known;
    const { samples } = await loadAudio(audio, frontend.sampleRate);
    audioSec += samples.length / frontend.sampleRate;
    const matrix = frontend.compute(samples);
    const half = new Uint16Array(matrix.data.length);
    for (let i = 0; i < half.length; i++) half[i] = toHalfBits(matrix.data[i]!);
    await handle.write(new Uint8Array(half.buffer));
    const entry = { offset: nextRow, frames: matrix.numFrames };
    nextRow += matrix.numFrames;
    byHash.set(hash, entry);
    return entry;
  }

  const indexes: Record<string, Utterance[]> = {};
  try {
    for (const spec of values.index!) {
      const [name, manifest] = spec.split('=');
      if (!name || !manifest) throw new Error(`--index ${spec}: expected NAME.json=MANIFEST`);
      const rows = await readNemoManifest(resolve(manifest));
      indexes[name] = [];
      for (const row of rows) indexes[name].push({ ...row, ...(await features(row.audio)) });
      process.stderr.write(`${name}: ${rows.length} utterances from ${manifest}\n`);
    }
    if (values.canaries) {
      const setDir = resolve(values.canaries);
      const set = JSON.parse(await readFile(join(setDir, 'canary-set.json'), 'utf8')) as CanarySet;
      indexes['canaries.json'] = [];
      for (const canary of set.canaries) {
        const audio = join(setDir, canary.audio);
        indexes['canaries.json'].push({ id: canary.id, text: canary.text, audio, repetitions: canary.repetitions, ...(await features(audio)) });
      }
      process.stderr.write(`canaries.json: ${set.canaries.length} canaries from ${setDir}\n`);
    }
  } finally {
    await handle.close();
  }
  await rename(temporary, storePath);
  for (const [name, utterances] of Object.entries(indexes)) {
    await writeFileAtomic(join(out, name), JSON.stringify({ format: 1, featureDim: 80, dtype: 'float16', frontend: frontend.resolved, utterances }) + '\n');
  }
  const summary = {
    frontend: frontend.resolved, uniqueUtterances: byHash.size, frames: nextRow, bytes: nextRow * 80 * 2,
    audioSec: Math.round(audioSec), computeSec: Math.round((Date.now() - started) / 1000),
    indexes: Object.fromEntries(Object.entries(indexes).map(([k, v]) => [k, v.length])),
  };
  await writeFileAtomic(join(out, 'store.json'), JSON.stringify(summary, null, 1) + '\n');
  console.log(JSON.stringify(summary));
}

await main();
