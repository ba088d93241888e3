/**
 * The Hugging Face (Optimum), WeNet (sherpa-onnx and export_onnx_cpu.py) and Zipformer CTC
 * families on their standard export files, no sidecar: detection and its reasons, a
 * directory missing one file, and transcripts and CTC scores equal to the Python reference
 * (scripts/models/make_ctc_family_models.py with ctc_family_reference.py).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { detectModel, loadModel, transcribeFiles, withMetadata } from '../../src/asr/index.ts';
import { hfOutputFrames } from '../../src/asr/families/hf-ctc.ts';
import { engineOf } from '../../src/asr/model.ts';
import { readOnnxFile } from '../../src/asr/onnx-file.ts';
import { loadAudio } from '../../src/audio/index.ts';
import { RoteError } from '../../src/util/errors.ts';
import { MODELS, speechFixtures, temporaryDirectory } from './helpers.ts';

interface Golden {
  utterances: {
    id: string;
    tokenIds: number[];
    transcript: string;
    reference: string;
    logLikelihood: number;
    outFrames: number;
  }[];
}

const FAMILIES = [
  {
    dir: 'hf-ctc',
    family: 'hf-ctc',
    because: ['input_values', 'blank = pad token "[PAD]" (id 29)', 'each file runs on its own'],
  },
  { dir: 'hf-ctc-masked', family: 'hf-ctc', because: ['feat_extract_norm "layer"', 'batches padded and masked'] },
  { dir: 'sherpa-wenet-ctc', family: 'sherpa-wenet-ctc', because: ['model_type=wenet_ctc', 'samples x 32768'] },
  { dir: 'wenet-ctc', family: 'wenet-ctc', because: ['forward_chunk', 'whole utterance as one chunk', 'snip_edges'] },
  { dir: 'zipformer-ctc', family: 'zipformer-ctc', because: ['model_type=zipformer2_ctc', 'samples in [-1, 1]'] },
] as const;

const golden = (family: string): Golden =>
  JSON.parse(readFileSync(join(MODELS, 'ctc-reference', `${family}.json`), 'utf8')) as Golden;

const speech = new Map(speechFixtures().map((s) => [s.id, s]));

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => null,
    (e: Error) => e,
  );
  assert.ok(error, 'expected a failure');
  return error!;
}

function copyWithout(dir: string, omit: string): { dir: string; remove: () => void } {
  const copy = temporaryDirectory(`${dir}-without`);
  for (const name of readdirSync(join(MODELS, dir)))
    if (name !== omit) copyFileSync(join(MODELS, dir, name), join(copy.dir, name));
  return copy;
}

/** Transcribes the golden file's utterances with `modelDir` and checks tokens, text and ln P against it. */
async function expectGolden(modelDir: string, goldenName: string, because: readonly string[]): Promise<void> {
  const model = await loadModel(modelDir, { provider: 'cpu', threads: 1 });
  try {
    const reasons = model.info.detectedBecause.join('\n');
    for (const text of because) assert.ok(reasons.includes(text), `${goldenName}: "${text}" not in\n${reasons}`);
    const expected = golden(goldenName).utterances;
    const items = expected.map((u) => ({ id: u.id, path: speech.get(u.id)!.path, reference: u.reference }));
    const rows = [];
    for await (const row of transcribeFiles(model, items)) rows.push(row);
    assert.is(rows.length, expected.length);
    for (const want of expected) {
      const row = rows.find((r) => r.id === want.id)!;
      assert.equal(row.tokenIds, want.tokenIds, `${goldenName} ${want.id} tokens`);
      assert.is(row.hypothesis, want.transcript, `${goldenName} ${want.id} transcript`);
      const got = row.referenceScore?.logLikelihood ?? null;
      assert.ok(got !== null, `${goldenName} ${want.id}: no score (${row.notes.join('; ')})`);
      assert.ok(
        Math.abs(got! - want.logLikelihood) <= 1e-4 * Math.abs(want.logLikelihood) + 1e-3,
        `${goldenName} ${want.id}: ln P ${got} vs reference ${want.logLikelihood}`,
      );
    }
  } finally {
    await model.close();
  }
}

for (const { dir, family, because } of FAMILIES) {
  test(`${dir}: detected with no sidecar; transcripts and CTC scores equal the Python reference`, async () => {
    assert.is((await detectModel(join(MODELS, dir))).family, family);
    await expectGolden(join(MODELS, dir), dir, because);
  });
}

test("WeNet export with chunk_size 16: decoded chunk by chunk with the caches, as WeNet's runtime (Python reference of its loop)", async () => {
  const copy = copyWithout('wenet-ctc', 'encoder.onnx');
  try {
    const path = join(MODELS, 'wenet-ctc', 'encoder.onnx');
    const { metadata } = await readOnnxFile(path);
    writeFileSync(
      join(copy.dir, 'encoder.onnx'),
      await withMetadata(readFileSync(path), { ...metadata, chunk_size: '16' }),
    );
    await expectGolden(copy.dir, 'wenet-ctc-chunk16', ['chunks of 16 output frames (64 feature frames)']);
  } finally {
    copy.remove();
  }
});

/** One zero-padded batch of two files through the engine, and each file alone: the shorter one's output frames. */
async function paddedAndAlone(
  dir: string,
): Promise<{ padSensitive: boolean; padded: Float32Array; alone: Float32Array }> {
  const model = await loadModel(join(MODELS, dir), { provider: 'cpu', threads: 1 });
  try {
    const engine = engineOf(model);
    const [long, short] = await Promise.all(
      ['utt-00', 'utt-01'].map(async (id) =>
        engine.frontend.compute((await loadAudio(speech.get(id)!.path, 16000)).samples),
      ),
    );
    const maxFrames = long!.numFrames;
    const features = new Float32Array(2 * maxFrames);
    features.set(long!.data);
    features.set(short!.data, maxFrames);
    const [, padded] = await engine.run({
      features,
      frames: [long!.numFrames, short!.numFrames],
      maxFrames,
      numBins: 1,
    });
    const [alone] = await engine.run({
      features: short!.data,
      frames: [short!.numFrames],
      maxFrames: short!.numFrames,
      numBins: 1,
    });
    return { padSensitive: engine.padSensitive === true, padded: padded!.logProbs!, alone: alone!.logProbs! };
  } finally {
    await model.close();
  }
}

const maxDifference = (a: Float32Array, b: Float32Array): number =>
  a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

test('Hugging Face batching: zero padding changes a "group" export without attention_mask (so it runs files alone); a masked "layer" export batches', async () => {
  const group = await paddedAndAlone('hf-ctc');
  assert.is(group.padSensitive, true);
  assert.ok(maxDifference(group.padded, group.alone) > 0.1, 'padding changes the group-norm model');
  const masked = await paddedAndAlone('hf-ctc-masked');
  assert.is(masked.padSensitive, false);
  assert.ok(maxDifference(masked.padded, masked.alone) < 1e-3, 'the mask makes padding harmless');
});

test("Hugging Face output frames follow config.json's convolution stack, as the reference's _get_feat_extract_output_lengths", () => {
  const { outputLengths } = JSON.parse(readFileSync(join(MODELS, 'ctc-reference', 'hf-ctc.json'), 'utf8')) as {
    outputLengths: Record<string, number>;
  };
  const config = JSON.parse(readFileSync(join(MODELS, 'hf-ctc', 'config.json'), 'utf8')) as {
    conv_kernel: number[];
    conv_stride: number[];
  };
  const stack = { kernels: config.conv_kernel, strides: config.conv_stride, adapterLayers: 0, adapterStride: 2 };
  for (const [samples, frames] of Object.entries(outputLengths))
    assert.is(hfOutputFrames(Number(samples), stack), frames, samples);
  // add_adapter: num_adapter_layers stride-2 convolutions (kernel 1 in the length formula) after the stack: 150 -> 75 -> 38 -> 19
  assert.is(hfOutputFrames(48123, { ...stack, adapterLayers: 3 }), 19);
  assert.is(hfOutputFrames(300, stack), 0);
});

test('a directory missing one standard file: the error names the file for its family', async () => {
  for (const [dir, omit] of [
    ['hf-ctc', 'vocab.json'],
    ['hf-ctc', 'preprocessor_config.json'],
    ['sherpa-wenet-ctc', 'tokens.txt'],
    ['wenet-ctc', 'ctc.onnx'],
    ['zipformer-ctc', 'tokens.txt'],
  ] as const) {
    const copy = copyWithout(dir, omit);
    try {
      const error = await failure(detectModel(copy.dir));
      assert.ok(error instanceof RoteError, `${dir} without ${omit}`);
      const line = error.message.split('\n').find((l) => l.trimStart().startsWith(`${dir} (`));
      assert.ok(line?.includes(omit), `${dir} without ${omit}: ${error.message}`);
    } finally {
      copy.remove();
    }
  }
});

test("WeNet export in the 16/4 mode (required_cache_size, att_mask): decoded with WeNet's runtime cache and mask", async () => {
  assert.is((await detectModel(join(MODELS, 'wenet-ctc-16-4'))).family, 'wenet-ctc');
  await expectGolden(join(MODELS, 'wenet-ctc-16-4'), 'wenet-ctc-16-4', [
    'the last 4 chunks of left context (required_cache_size 64, att_mask)',
  ]);
});

test('WeNet export metadata no export mode writes (left_chunks > 0 with chunk_size -1): refused with how to re-export', async () => {
  const copy = copyWithout('wenet-ctc-16-4', 'encoder.onnx');
  try {
    const path = join(MODELS, 'wenet-ctc-16-4', 'encoder.onnx');
    const { metadata } = await readOnnxFile(path);
    writeFileSync(
      join(copy.dir, 'encoder.onnx'),
      await withMetadata(readFileSync(path), { ...metadata, chunk_size: '-1' }),
    );
    const error = await failure(loadModel(copy.dir, { provider: 'cpu', threads: 1 }));
    assert.ok(error instanceof RoteError);
    assert.match(error.message, '--num_decoding_left_chunks -1');
  } finally {
    copy.remove();
  }
});

test('inspect-model names the Hugging Face family and why', async () => {
  const rote = fileURLToPath(new URL('../../bin/rote.js', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [rote, 'inspect-model', join(MODELS, 'hf-ctc')]);
  assert.match(stdout, 'hf-ctc');
  assert.match(stdout, 'each file runs on its own');
  assert.match(stdout, 'waveform');
});

test.run();
