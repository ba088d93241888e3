/**
 * The demo canaries' features in float32 (features.f32 + canaries.json, the feature-store
 * layout of features.ts otherwise), for `train.py canary-transcripts`: the PyTorch models'
 * canary transcripts from the same fp32 features rote's audit computes, so comparing them with
 * rote's ONNX transcripts compares the engines, not fp16 storage.
 *
 *   node --import tsx scripts/reference/canary-features-f32.ts [--canaries canaries/demo] [--out .cache/reference/store-canaries-f32]
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createFrontend } from '../../src/audio/index.ts';
import { loadAudio } from '../../src/audio/load.ts';
import { canarySetPaths, readCanarySet } from '../../src/canary/canary-set.ts';
import { writeFileAtomic } from '../../src/util/atomic.ts';

const { values } = parseArgs({
  options: {
    canaries: { type: 'string', default: 'canaries/demo' },
    out: { type: 'string', default: '.cache/reference/store-canaries-f32' },
  },
});
const setDir = resolve(values.canaries!);
const out = resolve(values.out!);
await mkdir(out, { recursive: true });
if (!existsSync(canarySetPaths(setDir).setFile)) {
  console.error(`canary-features-f32.ts: ${setDir} holds no canary-set.json (--canaries names a canary set)`);
  process.exit(2);
}
const set = await readCanarySet(setDir);
const frontend = createFrontend({ type: 'nemo-mel' });
const chunks: Float32Array[] = [];
const utterances = [];
let offset = 0;
for (const canary of set.canaries) {
  const { samples } = await loadAudio(join(setDir, canary.audio), frontend.sampleRate);
  const matrix = frontend.compute(samples);
  chunks.push(Float32Array.from(matrix.data));
  utterances.push({
    id: canary.id,
    text: canary.text,
    audio: join(setDir, canary.audio),
    repetitions: canary.repetitions,
    offset,
    frames: matrix.numFrames,
  });
  offset += matrix.numFrames;
}
const temporary = join(out, 'features.f32.tmp');
await writeFile(temporary, Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength))));
await rename(temporary, join(out, 'features.f32'));
await writeFileAtomic(
  join(out, 'canaries.json'),
  JSON.stringify({
    format: 1,
    featureDim: frontend.numBins,
    dtype: 'float32',
    frontend: frontend.resolved,
    utterances,
  }) + '\n',
);
console.log(`${out}: ${utterances.length} canaries, ${offset} frames, float32`);
