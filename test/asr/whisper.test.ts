/**
 * Whisper as Optimum exports it, on the tiny random fixture of
 * scripts/models/make_whisper_model.py: detection, greedy transcripts and
 * teacher-forced decoder scores equal to the torch reference
 * (scripts/models/whisper_reference.py -> expected.json), batched or not,
 * audio over 30 s refused, inspect-model and an audit end to end.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  detectModel,
  featureFramesOfWav,
  loadModel,
  referenceFrameBudget,
  transcribeFiles,
  type AsrModel,
} from '../../src/asr/index.ts';
import { encodeWav16 } from '../../src/audio/wav.ts';
import { errorRates, normalizeTranscript } from '../../src/audit/stats/metrics.ts';
import { MODELS, SPEECH, temporaryDirectory, readWhisperExpected } from './helpers.ts';
import { readPcm16 } from '../audio/fixtures.ts';

const MODEL = join(MODELS, 'whisper-optimum');
/** The same weights with the two decoders merged behind use_cache_branch (Optimum's default post-processing). */
const MERGED = join(MODELS, 'whisper-optimum-merged');
const ROTE = fileURLToPath(new URL('../../bin/rote.js', import.meta.url));

const expected = readWhisperExpected(MODEL);

let model: AsrModel;
let merged: AsrModel;
test.before(async () => {
  model = await loadModel(MODEL, { provider: 'cpu' });
  merged = await loadModel(MERGED, { provider: 'cpu' });
});
test.after(async () => {
  await model.close();
  await merged.close();
});

test('the reference covers both stops (end-of-text and max_length) and differing transcripts', () => {
  const stops = new Set(expected.utterances.map((u) => u.stoppedAt));
  assert.equal(stops, new Set(['end-of-text', 'max_length']));
  assert.ok(new Set(expected.utterances.map((u) => u.transcript)).size >= 5);
  assert.ok(expected.utterances.every((u) => u.generatedIds.length >= 5));
  // suppress_tokens and begin_suppress_tokens change every greedy output of this model: they are exercised.
  assert.ok(expected.utterances.every((u) => u.generatedIds.join() !== u.generatedIdsWithoutSuppression.join()));
});

test('detected as whisper-optimum from its files alone, with the reasons', async () => {
  const detected = await detectModel(MODEL);
  assert.is(detected.family, 'whisper-optimum');
  assert.ok(detected.because.some((line) => line.includes('decoder_with_past_model.onnx')));
  assert.is(model.info.frontend.type, 'whisper-mel');
  assert.is(model.info.vocabulary.kind, 'byte-level-bpe');
  assert.equal(model.info.decoder, { kind: 'encoder-decoder' });
  assert.ok(model.info.detectedBecause.some((line) => line.includes(`prompt ${JSON.stringify(expected.prompt)}`)));
  const detectedMerged = await detectModel(MERGED);
  assert.is(detectedMerged.family, 'whisper-optimum');
  assert.ok(
    detectedMerged.because.some(
      (line) => line.includes('decoder_model_merged.onnx: ') || line.includes('(merged decoder, use_cache_branch)'),
    ),
  );
  assert.equal(
    merged.info.files.map((f) => f.path.split('/').pop()).filter((name) => name!.endsWith('.onnx')),
    ['encoder_model.onnx', 'decoder_model_merged.onnx'],
  );
});

test('a directory without the with-past decoder: the error names the missing file', async () => {
  const { dir, remove } = temporaryDirectory('whisper-missing');
  try {
    for (const name of readdirSync(MODEL))
      if (name !== 'decoder_with_past_model.onnx') copyFileSync(join(MODEL, name), join(dir, name));
    const error = await detectModel(dir).then(
      () => null,
      (e: Error) => e,
    );
    assert.ok(error);
    assert.match(
      error.message,
      /whisper-optimum \(.*\): missing decoder_model\.onnx .* with decoder_with_past_model\.onnx .*, or decoder_model_merged\.onnx/,
    );
  } finally {
    remove();
  }
});

async function transcribeAll(which: AsrModel, batchFrames: number) {
  const items = expected.utterances.map((u) => ({ id: u.id, path: join(SPEECH, u.file), reference: u.reference }));
  const rows = [];
  for await (const row of transcribeFiles(which, items, { batchFrames, featureWorkers: 0 })) rows.push(row);
  return rows;
}

for (const [label, batchFrames, useMerged] of [
  ['split decoders, one canary per batch', 3000, false],
  ['split decoders, all six in one batch', 60000, false],
  ['merged decoder, all six in one batch', 60000, true],
] as const) {
  test(`transcripts and decoder scores equal the torch reference (${label})`, async () => {
    const rows = await transcribeAll(useMerged ? merged : model, batchFrames);
    assert.is(rows.length, expected.utterances.length);
    for (const row of rows) {
      const u = expected.utterances.find((e) => e.id === row.id)!;
      assert.is(row.hypothesis, u.transcript, row.id);
      const generated = u.stoppedAt === 'end-of-text' ? u.generatedIds.slice(0, -1) : u.generatedIds;
      assert.equal(row.tokenIds, generated, row.id);
      const score = row.referenceScore!;
      // The reference is tokenized as Whisper tokenizes a transcript (leading space); end-of-text is scored, not counted.
      assert.is(score.tokens, u.referenceIds.length - 1, row.id);
      assert.is(score.characters, u.characters);
      assert.ok(
        Math.abs(score.logLikelihood - u.logLikelihood) <= 1e-5 * Math.abs(u.logLikelihood),
        `${row.id}: ${score.logLikelihood} vs ${u.logLikelihood}`,
      );
      assert.ok(Math.abs(score.perCharacter - u.perCharacter) <= 1e-5 * Math.abs(u.perCharacter));
    }
  });
}

test('audio over 30 s: a row saying why, no transcript or score, never cut; infeasible for check-canaries', async () => {
  const { dir, remove } = temporaryDirectory('whisper-long');
  try {
    const once = readPcm16(join(SPEECH, 'utt-00.wav'));
    const samples = new Float32Array(16000 * 31);
    for (let i = 0; i < samples.length; i++) samples[i] = once[i % once.length]!;
    const path = join(dir, 'long.wav');
    writeFileSync(path, encodeWav16(samples, 16000));
    const rows = [];
    const items = [
      { id: 'long', path, reference: 'the quick brown fox' },
      { id: 'short', path: join(SPEECH, 'utt-00.wav'), reference: 'the quick brown fox' },
    ];
    for await (const row of transcribeFiles(model, items, { featureWorkers: 0 })) rows.push(row);
    const long = rows.find((row) => row.id === 'long')!;
    assert.is(long.hypothesis, '');
    assert.is(long.referenceScore, null);
    assert.is(long.frames, 0);
    assert.ok(Math.abs(long.durationSec - 31) < 1e-9);
    assert.match(
      long.notes.join(' '),
      /31\.0 s of audio; this model \(whisper-optimum\) reads at most 30 s and rote never cuts a canary/,
    );
    assert.ok(
      rows.find((row) => row.id === 'short')!.referenceScore !== null,
      'the other file is transcribed and scored',
    );
    // check-canaries and the audit count such a canary infeasible; a short one fits.
    assert.is(featureFramesOfWav(model, path), 0);
    assert.not.ok(referenceFrameBudget(model, 'the quick brown fox', featureFramesOfWav(model, path)).feasible);
    const short = join(SPEECH, 'utt-00.wav');
    assert.is(featureFramesOfWav(model, short), 3000);
    assert.ok(referenceFrameBudget(model, 'the quick brown fox', featureFramesOfWav(model, short)).feasible);
  } finally {
    remove();
  }
});

test('the audit\'s normalization makes a Whisper-style hypothesis match: "Hello, world." = "hello world"', () => {
  assert.is(normalizeTranscript('Hello, world.'), 'hello world');
  assert.is(errorRates('hello world', 'Hello, world.').cer, 0);
  assert.is(errorRates('hello world', ' Hello, World!').wer, 0);
  assert.is(errorRates("don't stop", "Don't stop.").cer, 0);
});

test("the prompt names the canaries' language; one Whisper does not know is refused, naming the file", async () => {
  const german = await loadModel(MODEL, { provider: 'cpu', language: 'de' });
  try {
    assert.ok(german.info.detectedBecause.some((line) => line.includes('prompt [86,88,90,94] (<|de|>, transcribe')));
  } finally {
    await german.close();
  }
  assert.ok(model.info.detectedBecause.some((line) => line.includes('(<|en|>, transcribe')));
  const error = await loadModel(MODEL, { provider: 'cpu', language: 'fr' }).then(
    () => null,
    (e: Error) => e,
  );
  assert.match(error!.message, /generation_config\.json: lang_to_id has no <\|fr\|> for language "fr"/);
});

test('inspect-model names the family, the decoding and the decoder score', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [ROTE, 'inspect-model', MODEL]);
  assert.match(stdout, /whisper-optimum/);
  assert.match(stdout, /decoder score/);
  assert.match(stdout, /audio over 30 s is refused/);
});

test.run();
