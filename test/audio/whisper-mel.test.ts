/**
 * Whisper's log-mel frontend against a torch reference of openai/whisper's
 * log_mel_spectrogram and WhisperFeatureExtractor
 * (scripts/parity/make_whisper_mel_fixture.py wrote the fixture).
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createFrontend, whisperLogMel } from '../../src/audio/index.ts';
import { PARITY_DIR, readPcm16 } from './fixtures.ts';

interface WhisperMelCase {
  name: string;
  input: { kind: 'wav'; file: string; tile?: number };
  numBins: number;
  firstFrame: number;
  numStoredFrames: number;
  floorAfterStored: number | null;
  offset: number;
}

const TOLERANCE = 1e-3;
const meta = JSON.parse(readFileSync(PARITY_DIR + 'whisper-mel.json', 'utf8')) as { cases: WhisperMelCase[] };
const raw = readFileSync(PARITY_DIR + 'whisper-mel.f32');
const reference = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));

function input(spec: WhisperMelCase['input']): Float32Array {
  const once = readPcm16(PARITY_DIR + spec.file);
  const tile = spec.tile ?? 1;
  const samples = new Float32Array(once.length * tile);
  for (let t = 0; t < tile; t++) samples.set(once, t * once.length);
  return samples;
}

test('the fixture covers 80 and 128 bins and a trimmed input over 30 s', () => {
  assert.equal(new Set(meta.cases.map((c) => c.numBins)), new Set([80, 128]));
  assert.ok(meta.cases.some((c) => c.floorAfterStored === null && c.firstFrame > 0));
});

for (const c of meta.cases) {
  test(`whisper-mel parity: ${c.name}`, () => {
    const samples = input(c.input);
    const frontend = createFrontend({ type: 'whisper-mel', numBins: c.numBins });
    const result = frontend.compute(samples);
    assert.is(result.numFrames, 3000);
    assert.is(result.numBins, c.numBins);
    assert.is(frontend.framesFor(samples.length), 3000);
    let worst = 0;
    for (let f = 0; f < c.numStoredFrames; f++)
      for (let b = 0; b < c.numBins; b++) {
        const expected = reference[c.offset + f * c.numBins + b]!;
        const actual = result.data[(c.firstFrame + f) * c.numBins + b]!;
        worst = Math.max(worst, Math.abs(expected - actual));
      }
    assert.ok(worst <= TOLERANCE, `max |diff| ${worst}`);
    if (c.floorAfterStored !== null) {
      for (let i = (c.firstFrame + c.numStoredFrames) * c.numBins; i < result.data.length; i++)
        if (Math.abs(result.data[i]! - c.floorAfterStored) > TOLERANCE)
          assert.unreachable(`frame ${Math.floor(i / c.numBins)}: ${result.data[i]} != floor ${c.floorAfterStored}`);
    }
  });
}

test('whisperLogMel: digital silence is all (log10(1e-10) + 4) / 4 = -1.5; values stay within 2 of the maximum', () => {
  const silence = whisperLogMel(new Float32Array(16000));
  assert.ok(silence.data.every((v) => Math.abs(v - -1.5) < 1e-6));
  const tone = new Float32Array(32000);
  for (let i = 0; i < tone.length; i++) tone[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / 16000);
  const features = whisperLogMel(tone, { numBins: 128 });
  let max = -Infinity;
  let min = Infinity;
  for (const v of features.data) {
    max = Math.max(max, v);
    min = Math.min(min, v);
  }
  assert.ok(Math.abs(max - min - 2) < 1e-5, `range ${max - min}`); // the max - 8 floor, divided by 4
});

test('whisper-mel rejects a bin count that is not a positive integer', () => {
  assert.throws(() => createFrontend({ type: 'whisper-mel', numBins: 0 }), /numBins must be an integer/);
});

test.run();
