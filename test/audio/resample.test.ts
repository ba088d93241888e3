import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resample } from '../../src/audio/resample.ts';
import { resample as audioResample } from '../../src/audio/index.ts';
import { sine } from './signals.ts';

/** RMS away from the edges, where the filter sees the signal start and end. */
function innerRms(x: Float32Array, edge: number): number {
  let sum = 0;
  for (let i = edge; i < x.length - edge; i++) sum += x[i]! * x[i]!;
  return Math.sqrt(sum / (x.length - 2 * edge));
}

/** Frequency with the largest DFT magnitude on a 1 Hz grid in [lo, hi]. */
function peakFrequency(x: Float32Array, rate: number, lo: number, hi: number): number {
  let best = lo;
  let bestPower = -1;
  for (let f = lo; f <= hi; f += 1) {
    let re = 0;
    let im = 0;
    for (let i = 0; i < x.length; i++) {
      re += x[i]! * Math.cos((2 * Math.PI * f * i) / rate);
      im += x[i]! * Math.sin((2 * Math.PI * f * i) / rate);
    }
    if (re * re + im * im > bestPower) {
      bestPower = re * re + im * im;
      best = f;
    }
  }
  return best;
}

for (const [from, to, frequency] of [
  [22050, 16000, 1000],
  [44100, 16000, 3000],
  [8000, 16000, 2500],
  [48000, 22050, 440],
] as const) {
  test(`a ${frequency} Hz tone keeps its frequency and level, ${from} -> ${to} Hz`, () => {
    const input = sine(frequency, from, 0.5);
    const output = resample(input, from, to);
    assert.is(output.length, Math.ceil((input.length * to) / from));
    assert.is(peakFrequency(output, to, frequency - 40, frequency + 40), frequency);
    const levelDb = 20 * Math.log10(innerRms(output, 200) / innerRms(input, 200));
    assert.ok(Math.abs(levelDb) < 0.1, `level changed by ${levelDb} dB`);
  });
}

for (const [from, to, frequency] of [
  [22050, 16000, 9000],
  [22050, 16000, 8500],
  [48000, 16000, 12000],
  [16000, 8000, 5000],
] as const) {
  test(`a ${frequency} Hz tone above the new Nyquist (${to / 2} Hz) is attenuated by >= 40 dB, ${from} -> ${to} Hz`, () => {
    const input = sine(frequency, from, 0.5);
    const output = resample(input, from, to);
    const attenuationDb = 20 * Math.log10(innerRms(output, 200) / innerRms(input, 200));
    assert.ok(attenuationDb <= -40, `only ${attenuationDb.toFixed(1)} dB`);
  });
}

test('the audio stage serves this same resampler', () => {
  assert.is(audioResample, resample);
});

test('equal rates return the input; bad rates are refused', () => {
  const x = sine(100, 16000, 0.01);
  assert.is(resample(x, 16000, 16000), x);
  assert.throws(() => resample(x, 0, 16000), /fromRate/);
  assert.throws(() => resample(x, 16000, Number.NaN), /toRate/);
  assert.is(resample(new Float32Array(0), 22050, 16000).length, 0);
});

test.run();
