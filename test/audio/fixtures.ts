/** Loads the parity fixtures made by scripts/parity/make_fixtures.py. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FrontendSpec } from '../../src/audio/index.ts';

export const PARITY_DIR = fileURLToPath(new URL('../fixtures/parity/', import.meta.url));

export type InputSpec =
  { kind: 'wav'; file: string; start?: number; length?: number } | { kind: 'silence'; length: number };

export interface ParityCase {
  name: string;
  input: InputSpec;
  numSamples: number;
  frontend: FrontendSpec;
  reference: string;
  offset: number;
  numFrames: number;
  numBins: number;
  /** Only where the reference's float32 rounding dominates (see toleranceReason). */
  tolerance?: number;
  toleranceReason?: string;
}

/** 16-bit PCM mono WAV samples as int16 / 32768 (the convention of torchaudio, soundfile and sherpa-onnx). */
export function readPcm16(path: string): Float32Array {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let position = 12;
  let format: { channels: number; bits: number } | undefined;
  while (position + 8 <= bytes.length) {
    const id = bytes.toString('latin1', position, position + 4);
    const size = view.getUint32(position + 4, true);
    const body = position + 8;
    if (id === 'fmt ') format = { channels: view.getUint16(body + 2, true), bits: view.getUint16(body + 14, true) };
    if (id === 'data') {
      if (!format || format.channels !== 1 || format.bits !== 16) throw new Error(`${path}: expected 16-bit mono PCM`);
      const samples = new Float32Array(size / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(body + 2 * i, true) / 32768;
      return samples;
    }
    position = body + size + (size % 2);
  }
  throw new Error(`${path}: no data chunk`);
}

export function makeInput(spec: InputSpec): Float32Array {
  if (spec.kind === 'silence') return new Float32Array(spec.length);
  const all = readPcm16(PARITY_DIR + spec.file);
  const start = spec.start ?? 0;
  return all.slice(start, start + (spec.length ?? all.length - start));
}

export function loadParityFixtures(): { cases: ParityCase[]; features: Float32Array } {
  const meta = JSON.parse(readFileSync(PARITY_DIR + 'fixtures.json', 'utf8')) as { cases: ParityCase[] };
  const raw = readFileSync(PARITY_DIR + 'features.f32');
  const features = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  return { cases: meta.cases, features };
}
