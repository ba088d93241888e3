import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createFftJsPowerSpectrum,
  createMixedRadixPowerSpectrum,
  createPowerSpectrum,
  createRealFftPowerSpectrum,
} from '../../src/audio/fft.ts';

function directPowerSpectrum(x: Float64Array): Float64Array {
  const n = x.length;
  const out = new Float64Array(n / 2 + 1);
  for (let k = 0; k <= n / 2; k++) {
    let re = 0;
    let im = 0;
    for (let t = 0; t < n; t++) {
      re += x[t]! * Math.cos((2 * Math.PI * k * t) / n);
      im -= x[t]! * Math.sin((2 * Math.PI * k * t) / n);
    }
    out[k] = re * re + im * im;
  }
  return out;
}

function speechLikeFrame(n: number): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++)
    x[i] = Math.sin(i * 0.21) * 0.6 + Math.sin(i * 1.3 + 0.4) * 0.2 + (((i * 2654435761) >>> 0) / 2 ** 32 - 0.5) * 0.05;
  return x;
}

for (const [name, create] of [
  ['hand-written', createRealFftPowerSpectrum],
  ['fft.js', createFftJsPowerSpectrum],
] as const) {
  test(`${name} power spectrum equals a direct DFT (n = 8 .. 1024)`, () => {
    for (const n of [8, 16, 32, 256, 512, 1024]) {
      const x = speechLikeFrame(n);
      const expected = directPowerSpectrum(x);
      const actual = new Float64Array(n / 2 + 1);
      create(n).compute(x, actual);
      const peak = Math.max(...expected);
      for (let k = 0; k <= n / 2; k++)
        assert.ok(Math.abs(actual[k]! - expected[k]!) <= peak * 1e-12, `n=${n} k=${k}: ${actual[k]} vs ${expected[k]}`);
    }
  });
}

test('a pure tone puts its power in its own bin', () => {
  const n = 512;
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.cos((2 * Math.PI * 37 * i) / n);
  const power = new Float64Array(n / 2 + 1);
  createPowerSpectrum(n).compute(x, power);
  assert.ok(Math.abs(power[37]! - (n / 2) ** 2) < 1e-6);
  for (let k = 0; k <= n / 2; k++) if (k !== 37) assert.ok(power[k]! < 1e-12, `bin ${k}`);
});

test('the input frame is not modified and bad sizes are refused', () => {
  const x = speechLikeFrame(64);
  const copy = x.slice();
  createPowerSpectrum(64).compute(x, new Float64Array(33));
  assert.equal(Array.from(x), Array.from(copy));
  assert.throws(() => createPowerSpectrum(400), /power of two/);
  assert.throws(() => createPowerSpectrum(4), /power of two/);
});

test('mixed-radix power spectrum equals a direct DFT for lengths that are not powers of two (Whisper: 400)', () => {
  for (const n of [2, 6, 12, 30, 98, 100, 400, 512]) {
    const x = speechLikeFrame(n);
    const expected = directPowerSpectrum(x);
    const actual = new Float64Array(n / 2 + 1);
    createMixedRadixPowerSpectrum(n).compute(x, actual);
    const peak = Math.max(...expected);
    for (let k = 0; k <= n / 2; k++)
      assert.ok(Math.abs(actual[k]! - expected[k]!) <= peak * 1e-12, `n=${n} k=${k}: ${actual[k]} vs ${expected[k]}`);
  }
});

test.run();
