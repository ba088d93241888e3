/**
 * rote vs sherpa-onnx-node (its OfflineRecognizer with modelConfig.whisper) on the same
 * Whisper files (test/fixtures/models/whisper-sherpa, sherpa-onnx's layout: sherpa-onnx's own
 * loader reads them) and the same audio: the 40 committed espeak-ng sentences as they are and
 * sped up 1.6x (as canaries are).
 *
 * sherpa-onnx does not run Whisper as openai/whisper does (offline-recognizer-whisper-impl.h,
 * offline-whisper-greedy-search-decoder.cc): its features are of the audio alone (Kaldi
 * framing, normalized over those frames) followed by 1000 zero frames, not a 30 s window; it
 * suppresses no token; it stops after 6 tokens per second of audio. rote's default is
 * openai/whisper's; with `sherpaCompatible` it decodes as sherpa-onnx does, and then the
 * greedy tokens must be sherpa-onnx's (its text keeps a trailing space that rote strips).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resample } from '../../src/audio/index.ts';
import { loadModel, transcribeFiles } from '../../src/asr/index.ts';
import { engineOf } from '../../src/asr/model.ts';
import { encodeWav16, readWav } from '../../src/audio/wav.ts';
import { MODELS, speechFixtures, temporaryDirectory } from './helpers.ts';
import { sherpa, sherpaResults } from './sherpa-peer.ts';

const DIR = join(MODELS, 'whisper-sherpa');
const work = temporaryDirectory('whisper-peer');
const paths: string[] = [];
const theirs = new Map<string, { text: string; tokens: string[] }>();

test.before(async () => {
  for (const s of speechFixtures()) {
    paths.push(s.path);
    const audio = await readWav(s.path);
    const fast = join(work.dir, `${s.id}-x1.6.wav`);
    writeFileSync(fast, encodeWav16(resample(audio.samples, Math.round(16000 * 1.6), 16000), 16000));
    paths.push(fast);
  }
  const config = {
    whisper: {
      encoder: join(DIR, 'tiny-random-encoder.onnx'),
      decoder: join(DIR, 'tiny-random-decoder.onnx'),
      language: 'en',
      task: 'transcribe',
    },
    tokens: join(DIR, 'tiny-random-tokens.txt'),
  };
  for (const [path, result] of sherpaResults(config, paths)) theirs.set(path, result);
});
test.after(() => work.remove());

async function roteRows(sherpaCompatible: boolean) {
  const model = await loadModel(DIR, { provider: 'cpu', threads: 1, sherpaCompatible });
  const rows = [];
  try {
    const pieces = engineOf(model).vocabulary.pieces;
    for await (const row of transcribeFiles(
      model,
      paths.map((path, i) => ({ id: String(i), path })),
      { featureWorkers: 0 },
    ))
      rows.push({ path: row.path, text: row.hypothesis, tokens: row.tokenIds.map((id) => pieces[id]!) });
  } finally {
    await model.close();
  }
  return rows;
}

test('sherpa-compatible: the greedy tokens and text of sherpa-onnx-node on >= 99% of 80 files', async () => {
  const rows = await roteRows(true);
  assert.ok(new Set(rows.map((r) => r.text)).size > paths.length / 2, 'transcripts differ between files');
  const differences = rows
    .filter((r) => {
      const other = theirs.get(r.path)!;
      return r.tokens.join('\u0000') !== other.tokens.join('\u0000') || r.text !== other.text.trim();
    })
    .map((r) => `${r.path}: rote ${JSON.stringify(r.tokens)} vs sherpa ${JSON.stringify(theirs.get(r.path)!.tokens)}`);
  assert.ok(differences.length <= 0.01 * paths.length, differences.join('\n'));
  // sherpa-onnx's cap, trunc(frames / 100 * 6) tokens, is what ends most of these (random-weight) decodes.
  const capped = rows.filter((r) => {
    const frames = Math.floor((sherpa.readWave(r.path).samples.length + 80) / 160);
    return r.tokens.length === Math.trunc((frames / 100) * 6);
  });
  assert.ok(capped.length >= paths.length / 2, `${capped.length} capped`);
});

test("rote's default (openai/whisper's rules) differs from sherpa-onnx by what sherpa-onnx does not do", async () => {
  const rows = await roteRows(false);
  const suppressed = new Set(['!', '?', '-', 'H', 'z']); // the fixture's non_speech_tokens
  // sherpa-onnx emits tokens openai/whisper suppresses; rote never does.
  assert.ok([...theirs.values()].some((r) => r.tokens.some((t) => suppressed.has(t))));
  assert.not.ok(rows.some((r) => r.tokens.some((t) => suppressed.has(t))));
  const same = rows.filter((r) => r.text === theirs.get(r.path)!.text.trim()).length;
  assert.ok(same < paths.length / 2, `${same} of ${paths.length} equal`);
});

test('a decode that reaches the cap runs no decoder step after its last token', async () => {
  const model = await loadModel(DIR, { provider: 'cpu', threads: 1, sherpaCompatible: true });
  try {
    const clock = engineOf(model).clock;
    let capped = 0;
    for (const path of paths.slice(0, 12)) {
      const before = clock.runs;
      let tokens = -1;
      for await (const row of transcribeFiles(model, [{ id: '0', path }], { featureWorkers: 0 }))
        tokens = row.tokenIds.length;
      const frames = Math.floor((sherpa.readWave(path).samples.length + 80) / 160);
      const atCap = tokens === Math.trunc((frames / 100) * 6);
      if (atCap) capped++;
      // The encoder, the prompt's pass (its last logits give the first token), one step per further token,
      // and one more only where a step's logits must say end-of-text.
      const steps = atCap ? Math.max(0, tokens - 1) : tokens;
      assert.is(clock.runs - before, 2 + steps, `${path}: ${tokens} tokens${atCap ? ' (the cap)' : ''}`);
    }
    assert.ok(capped >= 3, `${capped} capped`);
  } finally {
    await model.close();
  }
});

test.run();
