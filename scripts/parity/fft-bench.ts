/**
 * Micro-benchmark: power spectrum of 512-point real frames, hand-written real
 * FFT vs fft.js. Each implementation is timed in its own Node process (sharing
 * one process makes the call site polymorphic and favours whichever runs
 * first); processes alternate so machine load hits both alike.
 * Run: node --import tsx scripts/parity/fft-bench.ts [size]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createFftJsPowerSpectrum, createRealFftPowerSpectrum, type PowerSpectrum } from '../../src/audio/fft.ts';

const size = Number(process.argv[2] ?? 512);
const only = process.argv[3];
const frames = 20000;

function bestMicroseconds(fft: PowerSpectrum): number {
  const input = new Float64Array(size);
  for (let i = 0; i < size; i++) input[i] = Math.sin(i * 0.37) + 0.3 * Math.cos(i * 1.91) + ((i * 7919) % 13) / 13 - 0.5;
  const power = new Float64Array(size / 2 + 1);
  for (let i = 0; i < 5000; i++) fft.compute(input, power);
  let best = Infinity;
  for (let round = 0; round < 7; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < frames; i++) fft.compute(input, power);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / frames / 1000);
  }
  return best;
}

if (only) {
  const fft = only === 'hand' ? createRealFftPowerSpectrum(size) : createFftJsPowerSpectrum(size);
  console.log(bestMicroseconds(fft));
} else {
  const best = { hand: Infinity, fftjs: Infinity };
  for (let round = 0; round < 3; round++) {
    for (const name of ['hand', 'fftjs'] as const) {
      const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), String(size), name], { encoding: 'utf8' });
      best[name] = Math.min(best[name], Number(out.trim()));
    }
  }
  console.log(`hand-written n=${size}: ${best.hand.toFixed(2)} us/frame`);
  console.log(`fft.js       n=${size}: ${best.fftjs.toFixed(2)} us/frame`);
  console.log(`fft.js / hand-written time ratio: ${(best.fftjs / best.hand).toFixed(2)} (best of 3 processes x 7 rounds x ${frames} frames each)`);
}
