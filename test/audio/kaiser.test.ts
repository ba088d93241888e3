import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { besselI0, designLowPass, filterZeroPhase, kaiserBeta, kaiserWindow } from '../../src/audio/kaiser.ts';
import { sine, toneAmplitude } from './signals.ts';

test('I0 and the Kaiser window: I0(0) = 1, known values; window 1 at the centre, 1/I0(beta) at the edges', () => {
  assert.is(besselI0(0), 1);
  // I0(1) = 1.2660658777520082, I0(5) = 27.239871823604442 (Abramowitz & Stegun table 9.8)
  assert.ok(Math.abs(besselI0(1) - 1.2660658777520082) < 1e-14);
  assert.ok(Math.abs(besselI0(5) / 27.239871823604442 - 1) < 1e-14);
  assert.is(kaiserWindow(0, 8), 1);
  assert.ok(Math.abs(kaiserWindow(1, 8) - 1 / besselI0(8)) < 1e-15);
  assert.is(kaiserWindow(1.5, 8), 0);
  assert.ok(Math.abs(kaiserBeta(60) - 5.65326) < 1e-5);
});

test('low-pass design: unit gain at DC, in-band tone kept, >= 60 dB down in the stop band', () => {
  const taps = designLowPass(22050, { cutoffHz: 2400, transitionHz: 533, attenuationDb: 60 });
  assert.ok(taps.length % 2 === 1);
  assert.ok(Math.abs(taps.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  const pass = filterZeroPhase(sine(1000, 22050, 1), taps);
  assert.ok(Math.abs(20 * Math.log10(toneAmplitude(pass, 22050, 1000) / 0.5)) < 0.1);
  const stop = filterZeroPhase(sine(2900, 22050, 1), taps);
  assert.ok(20 * Math.log10(toneAmplitude(stop, 22050, 2900) / 0.5) < -60);
  assert.throws(() => designLowPass(16000, { cutoffHz: 9000, transitionHz: 100, attenuationDb: 60 }), /cut-off/);
});

test.run();
