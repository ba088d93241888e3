/**
 * rote vs sherpa-onnx-node (its OfflineCanaryModelConfig) on the sherpa-onnx Canary fixture and the
 * same files (12 speech fixtures, each also at 1.6x speed): with sherpa-onnx's frontend
 * (sherpaCompatible), rote's greedy transcripts equal sherpa-onnx's, with the prompt in English and
 * in German.
 * sherpa-onnx builds its own prompt and decodes one token per call; agreeing on every file is
 * the evidence that the layout (input names, the position after the tokens, the memories, the
 * prompt) is read as sherpa-onnx reads it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resample } from '../../src/audio/index.ts';
import { loadModel, transcribeFiles } from '../../src/asr/index.ts';
import { encodeWav16, readWav } from '../../src/audio/wav.ts';
import { MODELS, speechFixtures, temporaryDirectory } from './helpers.ts';
import { sherpaResults } from './sherpa-peer.ts';

const MODEL = join(MODELS, 'canary-sherpa');

function sherpaTranscripts(language: string, paths: string[]): Map<string, string> {
  const config = {
    canary: {
      encoder: join(MODEL, 'encoder.onnx'),
      decoder: join(MODEL, 'decoder.onnx'),
      srcLang: language,
      tgtLang: language,
      usePnc: 1,
    },
    tokens: join(MODEL, 'tokens.txt'),
  };
  return new Map([...sherpaResults(config, paths, 128)].map(([path, result]) => [path, result.text]));
}

async function roteTranscripts(language: string, paths: string[]): Promise<Map<string, string>> {
  const model = await loadModel(MODEL, { provider: 'cpu', threads: 1, sherpaCompatible: true, language });
  const result = new Map<string, string>();
  try {
    for await (const row of transcribeFiles(
      model,
      paths.map((path, i) => ({ id: String(i), path })),
      { featureWorkers: 0 },
    ))
      result.set(row.path, row.hypothesis);
  } finally {
    await model.close();
  }
  return result;
}

const work = temporaryDirectory('canary-parity');
const paths: string[] = [];

test.before(async () => {
  for (const s of speechFixtures().slice(0, 12)) {
    paths.push(s.path);
    const audio = await readWav(s.path);
    const fast = join(work.dir, `${s.id}-x1.6.wav`);
    writeFileSync(fast, encodeWav16(resample(audio.samples, Math.round(16000 * 1.6), 16000), 16000));
    paths.push(fast);
  }
});
test.after(() => work.remove());

for (const language of ['en', 'de']) {
  test(`canary-sherpa (sherpa-compatible) transcribes as sherpa-onnx-node does, prompt in "${language}"`, async () => {
    const theirs = sherpaTranscripts(language, paths);
    const ours = await roteTranscripts(language, paths);
    const differences = [...theirs]
      .filter(([path, text]) => ours.get(path) !== text)
      .map(([path, text]) => `${path}: rote ${JSON.stringify(ours.get(path))} vs sherpa ${JSON.stringify(text)}`);
    assert.equal(differences, []);
    // Not vacuous: the transcripts are many and differ between files.
    assert.ok(new Set(theirs.values()).size >= paths.length / 2);
    assert.ok([...theirs.values()].every((text) => text.length >= 3));
  });
}

test('the two prompts decode differently (the language token reaches the decoder)', async () => {
  const english = await roteTranscripts('en', paths.slice(0, 6));
  const german = await roteTranscripts('de', paths.slice(0, 6));
  assert.ok([...english].some(([path, text]) => german.get(path) !== text));
});

test.run();
