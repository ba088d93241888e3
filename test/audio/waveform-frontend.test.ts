import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createFrontend } from '../../src/audio/index.ts';
import { RoteError } from '../../src/util/errors.ts';
import { makeInput } from './fixtures.ts';

const speech = makeInput({ kind: 'wav', file: 'espeak-1.wav' });

test('waveform frontend: one frame per sample, one bin, the samples unchanged by default', () => {
  const frontend = createFrontend({ type: 'waveform' });
  assert.is(frontend.numBins, 1);
  assert.is(frontend.sampleRate, 16000);
  const m = frontend.compute(speech);
  assert.is(m.numFrames, speech.length);
  assert.is(frontend.framesFor(speech.length), speech.length);
  assert.equal(Array.from(m.data.subarray(0, 100)), Array.from(speech.subarray(0, 100)));
  assert.ok(m.data !== speech, 'a copy: the caller keeps its samples');
});

test("waveform frontend: per_utterance is Wav2Vec2FeatureExtractor's (x - mean) / sqrt(var + 1e-7)", () => {
  const frontend = createFrontend({ type: 'waveform', normalize: 'per_utterance' });
  // [1, 2, 3, 4]: mean 2.5, population variance 1.25.
  const worked = frontend.compute(Float32Array.of(1, 2, 3, 4));
  const scale = 1 / Math.sqrt(1.25 + 1e-7);
  [-1.5, -0.5, 0.5, 1.5].forEach((d, i) => assert.ok(Math.abs(worked.data[i]! - d * scale) < 1e-6, `sample ${i}`));
  const m = frontend.compute(speech);
  let mean = 0;
  for (const v of m.data) mean += v;
  mean /= m.numFrames;
  let variance = 0;
  for (const v of m.data) variance += (v - mean) ** 2;
  variance /= m.numFrames;
  assert.ok(Math.abs(mean) < 1e-4, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 1e-3, `variance ${variance}`);
});

test('waveform frontend: bad options name the field', () => {
  assert.throws(
    () => createFrontend({ type: 'waveform', normalize: 'global' as 'none' }),
    (e: Error) => e instanceof RoteError && /normalize must be "none" or "per_utterance"/.test(e.message),
  );
  assert.throws(
    () => createFrontend({ type: 'waveform', sampleRate: 0 }),
    (e: Error) => e instanceof RoteError && /sampleRate must be a positive integer/.test(e.message),
  );
});

test.run();
