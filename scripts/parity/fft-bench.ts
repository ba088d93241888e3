/**
 * Micro-benchmark: power spectrum of 512-point real frames, hand-written real
 * FFT vs fft.js. Each implementation is timed in its own Node process (sharing
 * one process makes the call site polymorphic and favours whichever runs
 * first); processes alternate so machine load hits both alike.
 * A third contender, PFFFT compiled to WebAssembly with SIMD
 * (@echogarden/pffft-wasm, float32), is timed when it is installed; it is not
 * a dependency: `npm i --no-save @echogarden/pffft-wasm@0.4.2` to include it
 * (its time counts copying the frame into and the spectrum out of wasm memory,
 * which any use from the frontends would need).
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
  for (let i = 0; i < size; i++)
    input[i] = Math.sin(i * 0.37) + 0.3 * Math.cos(i * 1.91) + ((i * 7919) % 13) / 13 - 0.5;
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

interface PffftModule {
  HEAPF32: Float32Array;
  _pffft_new_setup(n: number, kind: number): number;
  _pffft_aligned_malloc(bytes: number): number;
  _pffft_transform_ordered(setup: number, input: number, output: number, work: number, direction: number): void;
}
const PFFFT_PACKAGE = '@echogarden/pffft-wasm/simd';

async function pffftPowerSpectrum(n: number): Promise<PowerSpectrum> {
  const { default: create } = (await import(PFFFT_PACKAGE)) as { default: () => Promise<PffftModule> };
  const m = await create();
  const setup = m._pffft_new_setup(n, 0); // PFFFT_REAL
  const [input, output, work] = [
    m._pffft_aligned_malloc(4 * n),
    m._pffft_aligned_malloc(4 * n),
    m._pffft_aligned_malloc(4 * n),
  ];
  return {
    size: n,
    compute(frame, power) {
      const heap = m.HEAPF32;
      const i0 = input >> 2;
      const o0 = output >> 2;
      for (let i = 0; i < n; i++) heap[i0 + i] = frame[i]!;
      m._pffft_transform_ordered(setup, input, output, work, 0); // PFFFT_FORWARD; out: r0, r(n/2), then (re, im) pairs
      power[0] = heap[o0]! * heap[o0]!;
      power[n / 2] = heap[o0 + 1]! * heap[o0 + 1]!;
      for (let k = 1; k < n / 2; k++) power[k] = heap[o0 + 2 * k]! ** 2 + heap[o0 + 2 * k + 1]! ** 2;
    },
  };
}

async function pffftInstalled(): Promise<boolean> {
  try {
    await import(PFFFT_PACKAGE);
    return true;
  } catch {
    return false;
  }
}

if (only) {
  const fft =
    only === 'hand'
      ? createRealFftPowerSpectrum(size)
      : only === 'pffft'
        ? await pffftPowerSpectrum(size)
        : createFftJsPowerSpectrum(size);
  console.log(bestMicroseconds(fft));
} else {
  const names: ('hand' | 'fftjs' | 'pffft')[] = ['hand', 'fftjs'];
  if (await pffftInstalled()) names.push('pffft');
  const best: Record<string, number> = { hand: Infinity, fftjs: Infinity, pffft: Infinity };
  for (let round = 0; round < 3; round++) {
    for (const name of names) {
      const out = execFileSync(
        process.execPath,
        [...process.execArgv, fileURLToPath(import.meta.url), String(size), name],
        { encoding: 'utf8' },
      );
      best[name] = Math.min(best[name]!, Number(out.trim()));
    }
  }
  console.log(`hand-written n=${size}: ${best.hand!.toFixed(2)} us/frame`);
  console.log(`fft.js       n=${size}: ${best.fftjs!.toFixed(2)} us/frame`);
  if (names.includes('pffft'))
    console.log(
      `pffft-wasm   n=${size}: ${best.pffft!.toFixed(2)} us/frame (SIMD, float32, copies in and out included)`,
    );
  else console.log(`pffft-wasm: not installed (npm i --no-save @echogarden/pffft-wasm@0.4.2 to time it too)`);
  console.log(
    `fft.js / hand-written time ratio: ${(best.fftjs! / best.hand!).toFixed(2)}${names.includes('pffft') ? `, pffft-wasm / hand-written ${(best.pffft! / best.hand!).toFixed(2)}` : ''} (best of 3 processes x 7 rounds x ${frames} frames each)`,
  );
}
