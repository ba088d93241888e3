/**
 * NeMo Canary in its two ONNX layouts (onnx-asr's and sherpa-onnx's), on the tiny random fixtures
 * of scripts/models/make_canary_models.py (the same weights in both): detection with no sidecar,
 * greedy transcripts and teacher-forced decoder scores equal to the torch reference
 * (scripts/models/canary_reference.py -> expected.json), batched or not, the prompt in the
 * canaries' language, a missing file named, and inspect-model.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detectModel, loadModel, transcribeFiles, type AsrModel } from '../../src/asr/index.ts';
import { MODELS, SPEECH, temporaryDirectory } from './helpers.ts';

const ONNX_ASR = join(MODELS, 'canary-onnx-asr');
const SHERPA = join(MODELS, 'canary-sherpa');
const ROTE = fileURLToPath(new URL('../../bin/rote.js', import.meta.url));

interface ExpectedUtterance {
  id: string;
  file: string;
  transcript: string;
  generatedIds: number[];
  stoppedAt: 'end-of-text' | 'max_length';
  reference: string;
  referenceIds: number[];
  logLikelihood: number;
  characters: number;
  perCharacter: number;
}
interface Expected {
  prompt: number[];
  utterances: ExpectedUtterance[];
}
const expectedOf = (dir: string): Expected => JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;

const models = new Map<string, AsrModel>();
test.before(async () => {
  for (const dir of [ONNX_ASR, SHERPA]) models.set(dir, await loadModel(dir, { provider: 'cpu', threads: 1 }));
});
test.after(async () => {
  for (const model of models.values()) await model.close();
});

test('the references stop at end-of-text with several, differing tokens; the two prompts differ by the leading "▁"', () => {
  for (const dir of [ONNX_ASR, SHERPA]) {
    const e = expectedOf(dir);
    assert.ok(e.utterances.every((u) => u.stoppedAt === 'end-of-text' && u.generatedIds.length >= 6));
    assert.ok(new Set(e.utterances.map((u) => u.transcript)).size >= 5);
  }
  assert.equal(expectedOf(ONNX_ASR).prompt.slice(1), expectedOf(SHERPA).prompt);
  assert.is(expectedOf(SHERPA).prompt.length, 9);
});

for (const [dir, family, line] of [
  [ONNX_ASR, 'canary-onnx-asr', "onnx-asr's NeMo Canary (AED) export"],
  [SHERPA, 'canary-sherpa', "sherpa-onnx's Canary export"],
] as const) {
  test(`${family}: detected from its files alone, with the reasons`, async () => {
    const detected = await detectModel(dir);
    assert.is(detected.family, family);
    assert.ok(
      detected.because.some((l) => l.includes(line)),
      detected.because.join('\n'),
    );
    const model = models.get(dir)!;
    assert.equal(model.info.decoder, { kind: 'encoder-decoder' });
    assert.is(model.info.frontend.type, 'nemo-mel');
    assert.is((model.info.frontend as { numBins: number }).numBins, 128);
    assert.is(model.info.subsampling, 8);
    assert.ok(
      model.info.detectedBecause.some((l) => l.includes(`prompt ${JSON.stringify(expectedOf(dir).prompt)}`)),
      model.info.detectedBecause.join('\n'),
    );
  });

  for (const [label, batchFrames] of [
    ['one canary per batch', 300],
    ['all six in one batch', 60000],
  ] as const) {
    test(`${family}: transcripts and decoder scores equal the torch reference (${label})`, async () => {
      const e = expectedOf(dir);
      const items = e.utterances.map((u) => ({ id: u.id, path: join(SPEECH, u.file), reference: u.reference }));
      const rows = [];
      for await (const row of transcribeFiles(models.get(dir)!, items, { batchFrames, featureWorkers: 0 }))
        rows.push(row);
      assert.is(rows.length, e.utterances.length);
      for (const row of rows) {
        const u = e.utterances.find((x) => x.id === row.id)!;
        assert.equal(row.tokenIds, u.generatedIds.slice(0, -1), row.id);
        assert.is(row.hypothesis, u.transcript, row.id);
        const score = row.referenceScore!;
        assert.is(score.tokens, u.referenceIds.length - 1, row.id);
        assert.is(score.characters, u.characters);
        assert.ok(
          Math.abs(score.logLikelihood - u.logLikelihood) <= 1e-4 * Math.abs(u.logLikelihood),
          `${row.id}: ${score.logLikelihood} vs ${u.logLikelihood}`,
        );
      }
    });
  }
}

test("the prompt names the canaries' language; one the vocabulary lacks is refused, naming the file", async () => {
  const german = await loadModel(SHERPA, { provider: 'cpu', language: 'de' });
  try {
    const prompt = [...expectedOf(SHERPA).prompt];
    prompt[3] = 16;
    prompt[4] = 16;
    assert.ok(german.info.detectedBecause.some((l) => l.includes(`prompt ${JSON.stringify(prompt)}`)));
  } finally {
    await german.close();
  }
  const error = await loadModel(ONNX_ASR, { provider: 'cpu', language: 'it' }).then(
    () => null,
    (e: Error) => e,
  );
  assert.match(error!.message, /vocab\.txt: no <\|it\|> token for the canaries' language "it"/);
});

for (const [dir, family, drop, pattern] of [
  [
    ONNX_ASR,
    'canary-onnx-asr',
    'decoder-model.onnx',
    /canary-onnx-asr \(.*\): missing decoder-model\.onnx \(input_ids/,
  ],
  [SHERPA, 'canary-sherpa', 'tokens.txt', /canary-sherpa \(.*\): missing tokens\.txt/],
] as const) {
  test(`${family}: a directory without ${drop}: the error names it`, async () => {
    const { dir: copy, remove } = temporaryDirectory('canary-missing');
    try {
      for (const name of readdirSync(dir)) if (name !== drop) copyFileSync(join(dir, name), join(copy, name));
      const error = await detectModel(copy).then(
        () => null,
        (e: Error) => e,
      );
      assert.match(error!.message, pattern);
    } finally {
      remove();
    }
  });
}

test('bad files are refused naming the file and the field: vocab_size vs tokens.txt, features_size vs the encoder', async () => {
  const { dir: sherpaCopy, remove: removeSherpa } = temporaryDirectory('canary-bad-tokens');
  const { dir: onnxAsrCopy, remove: removeOnnxAsr } = temporaryDirectory('canary-bad-config');
  try {
    for (const name of readdirSync(SHERPA)) copyFileSync(join(SHERPA, name), join(sherpaCopy, name));
    const lines = readFileSync(join(SHERPA, 'tokens.txt'), 'utf8').trimEnd().split('\n');
    writeFileSync(join(sherpaCopy, 'tokens.txt'), lines.slice(0, -1).join('\n') + '\n');
    const tokensError = await loadModel(sherpaCopy, { provider: 'cpu' }).then(
      () => null,
      (e: Error) => e,
    );
    assert.match(tokensError!.message, /tokens\.txt: 78 tokens but .*encoder\.onnx metadata says vocab_size=79/);

    for (const name of readdirSync(ONNX_ASR)) copyFileSync(join(ONNX_ASR, name), join(onnxAsrCopy, name));
    const config = JSON.parse(readFileSync(join(ONNX_ASR, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(onnxAsrCopy, 'config.json'), JSON.stringify({ ...config, features_size: 80 }));
    const configError = await loadModel(onnxAsrCopy, { provider: 'cpu' }).then(
      () => null,
      (e: Error) => e,
    );
    assert.match(
      configError!.message,
      /config\.json: features_size 80 but .*encoder-model\.onnx declares audio_signal with 128 bins/,
    );
  } finally {
    removeSherpa();
    removeOnnxAsr();
  }
});

test("a vocab.txt one token longer than the decoder's logits is refused when decoding starts, not misread", async () => {
  const { dir: copy, remove } = temporaryDirectory('canary-vocab-width');
  try {
    for (const name of readdirSync(ONNX_ASR)) copyFileSync(join(ONNX_ASR, name), join(copy, name));
    const lines = readFileSync(join(ONNX_ASR, 'vocab.txt'), 'utf8').trimEnd().split('\n');
    writeFileSync(join(copy, 'vocab.txt'), [...lines, `zzq ${lines.length}`].join('\n') + '\n');
    const model = await loadModel(copy, { provider: 'cpu' });
    try {
      const items = [{ id: 'a', path: join(SPEECH, 'utt-00.wav') }];
      const error = await (async () => {
        for await (const row of transcribeFiles(model, items, { featureWorkers: 0 })) void row;
      })().then(
        () => null,
        (e: Error) => e,
      );
      assert.match(error!.message, /the decoder gave 79 logits per position, the vocabulary has 80 tokens/);
    } finally {
      await model.close();
    }
  } finally {
    remove();
  }
});

test('inspect-model names the family, the prompt and the decoder score', async () => {
  for (const [dir, family] of [
    [ONNX_ASR, 'canary-onnx-asr'],
    [SHERPA, 'canary-sherpa'],
  ] as const) {
    const { stdout } = await promisify(execFile)(process.execPath, [ROTE, 'inspect-model', dir]);
    assert.match(stdout, new RegExp(family));
    assert.match(stdout, /decoder score/);
    assert.match(stdout, /canary2 format/);
  }
});

test.run();
