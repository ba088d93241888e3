import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { speedUp, speedUpMany, synthesizeSpeech } from '../../src/canary/index.ts';
import { sine, toneAmplitude } from '../audio/signals.ts';

/** First and last 10 ms frame whose RMS is within 30 dB of the loudest frame: where speech starts and ends. */
function speechSpanSeconds(samples: Float32Array, sampleRate: number): number {
  const frame = Math.round(sampleRate * 0.01);
  const rms: number[] = [];
  for (let start = 0; start + frame <= samples.length; start += frame) {
    let sum = 0;
    for (let i = start; i < start + frame; i++) sum += samples[i]! * samples[i]!;
    rms.push(Math.sqrt(sum / frame));
  }
  const threshold = Math.max(...rms) * 10 ** (-30 / 20);
  const first = rms.findIndex((v) => v > threshold);
  const last = rms.length - 1 - [...rms].reverse().findIndex((v) => v > threshold);
  return ((last - first + 1) * frame) / sampleRate;
}

const speechPromise = synthesizeSpeech('window garden thunder pocket silver morning', { voice: 'en-us', rate: 100 });

for (const method of ['tempo', 'resample'] as const) {
  for (const factor of [2, 3, 5]) {
    test(`${method} ${factor}x: file and speech durations shrink by the factor (within 2%)`, async () => {
      const speech = await speechPromise;
      const fast = await speedUp(speech.samples, speech.sampleRate, { factor, method, outputRate: 16000 });
      const fileRatio = speech.samples.length / speech.sampleRate / (fast.length / 16000);
      assert.ok(Math.abs(fileRatio / factor - 1) < 0.02, `file duration ratio ${fileRatio}`);
      const spanRatio = speechSpanSeconds(speech.samples, speech.sampleRate) / speechSpanSeconds(fast, 16000);
      assert.ok(Math.abs(spanRatio / factor - 1) < 0.02, `speech span ratio ${spanRatio} for factor ${factor}`);
    });
  }
}

test('resample: a tone above the new Nyquist comes out >= 40 dB down (no aliasing)', async () => {
  // 3 kHz sped up 3x is 9 kHz, above 8 kHz: without a low-pass it would alias to 16 - 9 = 7 kHz.
  const tone = sine(3000, 22050, 2);
  const fast = await speedUp(tone, 22050, { factor: 3, method: 'resample', outputRate: 16000 });
  const alias = toneAmplitude(fast, 16000, 7000);
  const db = 20 * Math.log10(alias / 0.5);
  assert.ok(db <= -40, `alias at 7 kHz only ${db.toFixed(1)} dB down`);
  // and a tone well inside the band passes at about its level, at 3x the pitch
  const low = await speedUp(sine(1000, 22050, 2), 22050, { factor: 3, method: 'resample', outputRate: 16000 });
  const passed = toneAmplitude(low, 16000, 3000);
  assert.ok(Math.abs(20 * Math.log10(passed / 0.5)) < 1, `in-band tone level ${passed}`);
});

test('tempo keeps the pitch; resample raises it by the factor', async () => {
  const tone = sine(500, 22050, 2);
  const tempo = await speedUp(tone, 22050, { factor: 2, method: 'tempo', outputRate: 16000 });
  const resampled = await speedUp(tone, 22050, { factor: 2, method: 'resample', outputRate: 16000 });
  assert.ok(toneAmplitude(tempo, 16000, 500) > 0.3, 'tempo output lost the 500 Hz tone');
  assert.ok(toneAmplitude(tempo, 16000, 1000) < 0.05, 'tempo output moved the pitch');
  assert.ok(toneAmplitude(resampled, 16000, 1000) > 0.3, 'resample output should be at 1 kHz');
});

test('tempo: an utterance comes out the same alone or in a batch, at any position and next to other rates', async () => {
  const speech = await speechPromise;
  const other = { samples: sine(440, 22050, 0.77), sampleRate: 22050 };
  const odd = { samples: sine(300, 24000, 1.3), sampleRate: 24000 };
  const options = { factor: 3, method: 'tempo' as const, outputRate: 16000 };
  const alone = await speedUp(speech.samples, speech.sampleRate, options);
  const batch = await speedUpMany([other, odd, speech, other], options);
  assert.is(batch.length, 4);
  assert.equal(Array.from(batch[2]!), Array.from(alone));
  assert.equal(Array.from(batch[0]!), Array.from(batch[3]!));
  assert.is(batch[1]!.length, Math.round((1.3 / 3) * 16000));
  assert.ok(toneAmplitude(batch[1]!, 16000, 300) > 0.3, 'the 24 kHz input lost its tone');
});

test.run();
