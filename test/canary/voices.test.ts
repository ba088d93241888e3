import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import {
  DEFAULT_VOICES,
  ESPEAK_ENGLISH_BASES,
  ESPEAK_VARIANTS,
  getEspeakEngine,
  validateEspeakVoice,
} from '../../src/canary/index.ts';

test('the variant list matches the data compiled into the wasm build (less klatt)', async () => {
  const engine = await getEspeakEngine();
  const inBuild = engine
    .listDataDirectory('voices/!v')
    .filter((name) => !name.startsWith('klatt'))
    .sort();
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
  assert.ok(
    a.length !== b.length || a.some((v, i) => v !== b[i]),
    'the +f3 variant sounds exactly like the plain voice',
  );
});

test('a slower rate gives longer speech', async () => {
  const engine = await getEspeakEngine();
  const slow = engine.synthesize('window garden thunder', { rate: 100 }).samples.length;
  const fast = engine.synthesize('window garden thunder', { rate: 175 }).samples.length;
  assert.ok(slow > 1.4 * fast, `rate 100: ${slow} samples, rate 175: ${fast}`);
});

test('the reused engine (snapshot restore, cached file lookups) speaks exactly like a fresh instance per utterance', async () => {
  // The package's documented use: one Emscripten instance per utterance, main run at start-up.
  // Voices without +f variants: those seed breath noise from the clock, which only our engine fixes.
  const factory = (
    (await import(createRequire(import.meta.url).resolve('espeak-ng'))) as {
      default: (module: Record<string, unknown>) => Promise<{ FS: { readFile(path: string): Uint8Array } }>;
    }
  ).default;
  const engine = await getEspeakEngine();
  engine.synthesize('warm up the engine', { voice: 'en-gb+m3' });
  for (const [text, voice] of [
    ['quiet river lantern', 'en-us'],
    ['seven hungry lions', 'en-gb+m3'],
    ['the ticket office', 'en-gb-x-rp'],
  ] as const) {
    const fresh = await factory({
      arguments: ['-w', '/tmp/fresh.wav', '-v', voice, '-s', '100', '-p', '50', text],
      print: () => {},
      printErr: () => {},
    });
    const expected = fresh.FS.readFile('/tmp/fresh.wav');
    const actual = engine.synthesizeWav(text, { voice, rate: 100, pitch: 50 });
    assert.ok(Buffer.from(actual).equals(Buffer.from(expected)), `"${text}" (${voice}) differs from a fresh instance`);
  }
});

test.run();
