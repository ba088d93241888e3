import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_VOICES, ESPEAK_ENGLISH_BASES, ESPEAK_VARIANTS, getEspeakEngine, validateEspeakVoice } from '../../src/canary/index.ts';

test('the variant list matches the data compiled into the wasm build (less klatt)', async () => {
  const engine = await getEspeakEngine();
  const inBuild = engine.listDataDirectory('voices/!v').filter((name) => !name.startsWith('klatt')).sort();
  assert.equal([...ESPEAK_VARIANTS].sort(), inBuild);
});

test('every English base voice and every default voice speaks, and differently', async () => {
  const engine = await getEspeakEngine();
  const lengths = new Map<string, number>();
  for (const voice of [...ESPEAK_ENGLISH_BASES, ...DEFAULT_VOICES]) {
    validateEspeakVoice(voice);
    const speech = engine.synthesize('quiet river', { voice, rate: 100 });
    assert.is(speech.sampleRate, 22050);
    assert.ok(speech.samples.length > 0.3 * 22050, `${voice} gave ${speech.samples.length} samples`);
    lengths.set(voice, speech.samples.length);
  }
  const a = engine.synthesize('quiet river', { voice: 'en-us' }).samples;
  const b = engine.synthesize('quiet river', { voice: 'en-us+f3' }).samples;
  assert.ok(a.length !== b.length || a.some((v, i) => v !== b[i]), 'the +f3 variant sounds exactly like the plain voice');
});

test('a slower rate gives longer speech', async () => {
  const engine = await getEspeakEngine();
  const slow = engine.synthesize('window garden thunder', { rate: 100 }).samples.length;
  const fast = engine.synthesize('window garden thunder', { rate: 175 }).samples.length;
  assert.ok(slow > 1.4 * fast, `rate 100: ${slow} samples, rate 175: ${fast}`);
});

test.run();
