/**
 * Whisper in sherpa-onnx's layout, on the tiny random fixture of
 * scripts/models/make_whisper_sherpa_model.py (the weights of the Optimum fixture):
 * detection and inspect-model, greedy transcripts and teacher-forced decoder scores
 * equal to the torch reference (scripts/models/whisper_reference.py -> expected.json,
 * openai/whisper's rules read from the metadata), the reference tokenized as tiktoken
 * does, the same transcripts and scores as the Optimum layout under the same rules,
 * the int8 file names, and a missing file named.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detectModel, loadModel, transcribeFiles, type AsrModel } from '../../src/asr/index.ts';
import { engineOf } from '../../src/asr/model.ts';
import { MODELS, SPEECH, speechFixtures, temporaryDirectory, readWhisperExpected } from './helpers.ts';

const MODEL = join(MODELS, 'whisper-sherpa');
const OPTIMUM = join(MODELS, 'whisper-optimum');
const ROTE = fileURLToPath(new URL('../../bin/rote.js', import.meta.url));

const expected = readWhisperExpected(MODEL);
const optimumExpected = readWhisperExpected(OPTIMUM);

let model: AsrModel;
test.before(async () => {
  model = await loadModel(MODEL, { provider: 'cpu' });
});
test.after(async () => {
  await model.close();
});

function copyModel(from: string, dir: string, rename: (name: string) => string | null = (n) => n): void {
  for (const name of readdirSync(from)) {
    const target = rename(name);
    if (target) copyFileSync(join(from, name), join(dir, target));
  }
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => null,
    (e: Error) => e,
  );
  assert.ok(error, 'expected an error');
  return error;
}

async function transcribeAll(which: AsrModel, batchFrames: number) {
  const items = expected.utterances.map((u) => ({ id: u.id, path: join(SPEECH, u.file), reference: u.reference }));
  const rows = [];
  for await (const row of transcribeFiles(which, items, { batchFrames, featureWorkers: 0 })) rows.push(row);
  return rows;
}

test('the reference exercises suppression and differs from the Optimum fixture only by its rules', () => {
  assert.ok(new Set(expected.utterances.map((u) => u.transcript)).size >= 5);
  assert.ok(expected.utterances.every((u) => u.generatedIds.length >= 5));
  // suppression changes five of the six greedy outputs (utt-01's never meets a suppressed token).
  assert.is(
    expected.utterances.filter((u) => u.generatedIds.join() !== u.generatedIdsWithoutSuppression.join()).length,
    5,
  );
  // The same weights and the same prompt: the teacher-forced scores are the Optimum fixture's.
  assert.equal(expected.prompt, optimumExpected.prompt);
  for (const u of expected.utterances) {
    const o = optimumExpected.utterances.find((e) => e.id === u.id)!;
    assert.equal(u.referenceIds, o.referenceIds, u.id);
    assert.ok(Math.abs(u.logLikelihood - o.logLikelihood) < 1e-9, u.id);
  }
});

test('detected as whisper-sherpa from its files alone, with the reasons', async () => {
  const detected = await detectModel(MODEL);
  assert.is(detected.family, 'whisper-sherpa');
  assert.ok(detected.because.some((line) => line.includes('tiny-random-decoder.onnx')));
  assert.is(model.info.frontend.type, 'whisper-mel');
  assert.is(model.info.vocabulary.kind, 'byte-level-bpe');
  assert.equal(model.info.decoder, { kind: 'encoder-decoder' });
  assert.ok(model.info.detectedBecause.some((line) => line.includes(`prompt ${JSON.stringify(expected.prompt)}`)));
  assert.ok(model.info.detectedBecause.some((line) => line.includes('max_length 228')));
  assert.equal(
    model.info.files.map((f) => f.path.split('/').pop()),
    ['tiny-random-encoder.onnx', 'tiny-random-decoder.onnx', 'tiny-random-tokens.txt'],
  );
});

test('inspect-model names the family, the decoding and the decoder score', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [ROTE, 'inspect-model', MODEL]);
  assert.match(stdout, /whisper-sherpa/);
  assert.match(stdout, /tiktoken ranks/);
  assert.match(stdout, /decoder score/);
});

for (const [label, batchFrames] of [
  ['one canary per batch', 3000],
  ['all six in one batch', 60000],
] as const) {
  test(`transcripts and decoder scores equal the torch reference (${label})`, async () => {
    const rows = await transcribeAll(model, batchFrames);
    assert.is(rows.length, expected.utterances.length);
    for (const row of rows) {
      const u = expected.utterances.find((e) => e.id === row.id)!;
      assert.is(row.hypothesis, u.transcript, row.id);
      assert.equal(row.tokenIds, u.stoppedAt === 'end-of-text' ? u.generatedIds.slice(0, -1) : u.generatedIds);
      const score = row.referenceScore!;
      assert.is(score.tokens, u.referenceIds.length - 1, row.id);
      assert.ok(
        Math.abs(score.logLikelihood - u.logLikelihood) <= 1e-5 * Math.abs(u.logLikelihood),
        `${row.id}: ${score.logLikelihood} vs ${u.logLikelihood}`,
      );
    }
  });
}

test("the reference is tokenized as tiktoken tokenizes it from the ranks file, and as the Optimum fixture's tokenizer.json", () => {
  const encode = engineOf(model).vocabulary.tokenizer!.encodeReference;
  for (const u of expected.utterances) assert.equal(encode(u.reference), u.referenceIds.slice(0, -1), u.id);
  // The byte-level BPE tokenizer.json of the same vocabulary (GPT-2-style merges) on many more texts.
  const optimum = new Tokenizer(JSON.parse(readFileSync(join(OPTIMUM, 'tokenizer.json'), 'utf8')), {});
  const texts = [
    ...speechFixtures().map((s) => s.text),
    'Hello, World! The other tenth-theatre, at seven?',
    "don't  stop   there's   rather 42 answers.",
  ];
  for (const text of texts)
    assert.equal(encode(text), optimum.encode(' ' + text, { add_special_tokens: false }).ids, text);
});

test('a pre-token that is itself a token is taken whole, as tiktoken does, even where no merge makes it', async () => {
  const { dir, remove } = temporaryDirectory('whisper-sherpa-ranks');
  try {
    copyModel(MODEL, dir);
    // " zq" as token 96 (the fixture's <|0.02|>): no two ranked tokens concatenate to it.
    const tokens = join(dir, 'tiny-random-tokens.txt');
    writeFileSync(tokens, readFileSync(tokens, 'utf8') + 'IHpx 96\n');
    const withToken = await loadModel(dir, { provider: 'cpu' });
    try {
      const encode = engineOf(withToken).vocabulary.tokenizer!.encodeReference;
      assert.equal(encode('zq'), [96]);
      assert.equal(encode('zqz'), [68, 25, 16, 25]);
    } finally {
      await withToken.close();
    }
  } finally {
    remove();
  }
});

test('the same weights in the Optimum layout, under the same rules, give the same transcripts and scores', async () => {
  const { dir, remove } = temporaryDirectory('whisper-rules');
  try {
    copyModel(OPTIMUM, dir);
    // openai/whisper's rules as the sherpa metadata implies them: SuppressBlank is " " and end-of-text; sample_len 224.
    const space = 68;
    for (const name of ['config.json', 'generation_config.json']) {
      const json = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;
      assert.equal(json.begin_suppress_tokens, [space, 69, 85], 'the Optimum fixture also blocks " t" at the start');
      json.begin_suppress_tokens = [space, 85];
      if (name === 'generation_config.json') json.max_length = 4 + 224;
      writeFileSync(join(dir, name), JSON.stringify(json));
    }
    const optimum = await loadModel(dir, { provider: 'cpu' });
    try {
      const ours = await transcribeAll(model, 60000);
      const theirs = await transcribeAll(optimum, 60000);
      for (const row of ours) {
        const other = theirs.find((r) => r.id === row.id)!;
        assert.is(row.hypothesis, other.hypothesis, row.id);
        assert.equal(row.tokenIds, other.tokenIds, row.id);
        assert.ok(Math.abs(row.referenceScore!.logLikelihood - other.referenceScore!.logLikelihood) < 1e-3, row.id);
      }
    } finally {
      await optimum.close();
    }
  } finally {
    remove();
  }
});

test('int8 file names: used when alone, the float files preferred when both are there', async () => {
  const { dir, remove } = temporaryDirectory('whisper-int8');
  try {
    copyModel(MODEL, dir, (name) => name.replace(/\.onnx$/, '.int8.onnx'));
    const detected = await detectModel(dir);
    assert.is(detected.family, 'whisper-sherpa');
    assert.ok(detected.because[0]!.startsWith('tiny-random-encoder.int8.onnx'), detected.because[0]);
    assert.ok(detected.because[0]!.includes('tiny-random-decoder.int8.onnx'));
    copyModel(MODEL, dir);
    const both = await detectModel(dir);
    assert.ok(
      both.because[0]!.startsWith('tiny-random-encoder.onnx (') &&
        both.because[0]!.includes('tiny-random-decoder.onnx ('),
    );
  } finally {
    remove();
  }
});

for (const [left, named] of [
  [
    'tiny-random-decoder.onnx',
    /whisper-sherpa \(.*\): missing tiny-random-decoder\.onnx \(tokens, in_n_layer_self_k_cache/,
  ],
  ['tiny-random-tokens.txt', /whisper-sherpa \(.*\): missing tiny-random-tokens\.txt/],
  [
    'tiny-random-encoder.onnx',
    /whisper-sherpa \(.*\): missing <name>-encoder\.onnx \(mel -> n_layer_cross_k, n_layer_cross_v\)/,
  ],
] as const) {
  test(`a directory without ${left}: the error names it`, async () => {
    const { dir, remove } = temporaryDirectory('whisper-sherpa-missing');
    try {
      copyModel(MODEL, dir, (name) => (name === left ? null : name));
      assert.match((await failure(detectModel(dir))).message, named);
    } finally {
      remove();
    }
  });
}

test("the prompt names the language; one the model's metadata lacks is refused, naming the file", async () => {
  const german = await loadModel(MODEL, { provider: 'cpu', language: 'de' });
  try {
    assert.ok(german.info.detectedBecause.some((line) => line.includes('prompt [86,88,90,94] (<|de|>, transcribe')));
  } finally {
    await german.close();
  }
  const error = await failure(loadModel(MODEL, { provider: 'cpu', language: 'fr' }));
  assert.match(
    error.message,
    /tiny-random-encoder\.onnx: metadata all_language_codes has no <\|fr\|> for language "fr"/,
  );
});

test('an English-only export (metadata is_multilingual=0): the prompt has no language, another language is refused', async () => {
  const { dir, remove } = temporaryDirectory('whisper-sherpa-en');
  try {
    copyModel(MODEL, dir);
    // Flip the metadata value in place: the entry is key "is_multilingual", then the value "1" (tag 0x12, length 1).
    const path = join(dir, 'tiny-random-encoder.onnx');
    const bytes = readFileSync(path);
    const entry = Buffer.concat([Buffer.from('is_multilingual'), Buffer.from([0x12, 0x01]), Buffer.from('1')]);
    const at = bytes.indexOf(entry);
    assert.ok(at > 0 && bytes.indexOf(entry, at + 1) < 0);
    bytes[at + entry.length - 1] = '0'.charCodeAt(0);
    writeFileSync(path, bytes);
    const english = await loadModel(dir, { provider: 'cpu' });
    try {
      assert.ok(
        english.info.detectedBecause.some((line) => line.includes('prompt [86,94] (English-only: no timestamps)')),
      );
    } finally {
      await english.close();
    }
    const error = await failure(loadModel(dir, { provider: 'cpu', language: 'de' }));
    assert.match(
      error.message,
      /an English-only Whisper \(tiny-random-encoder\.onnx metadata is_multilingual=0\) cannot transcribe language "de"/,
    );
  } finally {
    remove();
  }
});

test.run();
