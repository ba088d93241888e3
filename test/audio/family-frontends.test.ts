/**
 * The frontends of the Hugging Face, WeNet and Zipformer CTC families against the golden values
 * scripts/models/make_ctc_family_models.py wrote with ctc_family_reference.py (numpy's
 * Wav2Vec2FeatureExtractor normalization, torchaudio's Kaldi fbank with each runtime's settings).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createFrontend, SHERPA_WENET_FBANK, WENET_FBANK, type FeatureMatrix } from '../../src/audio/index.ts';
import { zeroMeanUnitVariance } from '../../src/audio/features/waveform.ts';
import { RoteError } from '../../src/util/errors.ts';
import { readPcm16 } from './fixtures.ts';

const MODELS = fileURLToPath(new URL('../fixtures/models/', import.meta.url));

interface Golden {
  utterances: {
    id: string;
    numSamples?: number;
    inputValues?: Record<string, number>;
    numFrames?: number;
    features?: { numFrames: number; frames: Record<string, number[]> };
  }[];
  maskedNormalization?: { lengths: number[]; scale: number; values: Record<string, number>; tail: number };
}

function golden(family: string): Golden {
  return JSON.parse(readFileSync(`${MODELS}ctc-reference/${family}.json`, 'utf8')) as Golden;
}

function speech(id: string): Float32Array {
  return readPcm16(`${MODELS}speech/${id}.wav`);
}

test('waveform frontend: Wav2Vec2FeatureExtractor normalization of each utterance (numpy float32 reference)', () => {
  const frontend = createFrontend({ type: 'waveform', sampleRate: 16000, doNormalize: true });
  assert.is(frontend.numBins, 1);
  for (const utt of golden('hf-wav2vec2-ctc').utterances) {
    const samples = speech(utt.id);
    assert.is(samples.length, utt.numSamples);
    const features = frontend.compute(samples);
    assert.is(features.numFrames, samples.length);
    assert.is(frontend.framesFor(samples.length), samples.length);
    for (const [index, expected] of Object.entries(utt.inputValues!)) {
      const actual = features.data[Number(index)]!;
      assert.ok(
        Math.abs(actual - expected) <= 2e-6 * Math.max(1, Math.abs(expected)),
        `${utt.id}[${index}]: ${actual} vs ${expected}`,
      );
    }
  }
});

test('waveform frontend: with a valid length, statistics cover the valid samples only and padding takes paddingValue', () => {
  const { maskedNormalization } = golden('hf-wav2vec2-ctc');
  const { lengths, scale, values, tail } = maskedNormalization!;
  const a = speech('utt-00').map((x) => x * scale);
  const b = speech('utt-01');
  const width = Math.max(lengths[0]!, lengths[1]!);
  const padded = new Float32Array(width);
  padded.set(a);
  const normalized = zeroMeanUnitVariance(padded, lengths[0]!, 0);
  for (const [index, expected] of Object.entries(values))
    assert.ok(Math.abs(normalized[Number(index)]! - expected) <= 2e-6, `[${index}]`);
  const shorter = new Float32Array(width);
  shorter.set(b);
  assert.is(zeroMeanUnitVariance(shorter, lengths[1]!, tail).at(-1), tail);
  assert.is(zeroMeanUnitVariance(shorter, lengths[1]!, -5).at(-1), -5);
  // scaling the input does not change the normalized values
  const unscaled = zeroMeanUnitVariance(speech('utt-00'));
  assert.ok(Math.abs(unscaled[lengths[0]! >> 1]! - values[String(lengths[0]! >> 1)]!) < 1e-5);
});

test('waveform frontend: without doNormalize the samples pass unchanged; bad options are named', () => {
  const samples = speech('utt-02');
  const raw = createFrontend({ type: 'waveform', doNormalize: false }).compute(samples);
  assert.equal(Array.from(raw.data.subarray(0, 50)), Array.from(samples.subarray(0, 50)));
  assert.throws(
    () => createFrontend({ type: 'waveform', sampleRate: -1 }),
    (e: unknown) => e instanceof RoteError && /sampleRate/.test((e as Error).message),
  );
  assert.throws(
    () => createFrontend({ type: 'waveform', normalise: true } as never),
    (e: unknown) => e instanceof RoteError && /unknown option "normalise"/.test((e as Error).message),
  );
});

function maxDifference(features: FeatureMatrix, frame: number, expected: number[]): number {
  let worst = 0;
  for (let b = 0; b < expected.length; b++)
    worst = Math.max(worst, Math.abs(features.data[frame * features.numBins + b]! - expected[b]!));
  return worst;
}

for (const [family, options, what] of [
  ['wenet-export', WENET_FBANK, "WeNet's compute_fbank (x32768, snip_edges, high_freq Nyquist)"],
  ['wenet-ctc', SHERPA_WENET_FBANK, "sherpa-onnx's WeNet fbank (x32768, its defaults)"],
] as const) {
  test(`kaldi fbank as ${what} equals torchaudio's`, () => {
    const frontend = createFrontend({ type: 'kaldi-fbank', numBins: 80, ...options });
    for (const utt of golden(family).utterances) {
      const features = frontend.compute(speech(utt.id));
      assert.is(features.numFrames, utt.features!.numFrames, utt.id);
      for (const [frame, expected] of Object.entries(utt.features!.frames)) {
        const worst = maxDifference(features, Number(frame), expected);
        assert.ok(worst < 2e-3, `${family} ${utt.id} frame ${frame}: max difference ${worst}`);
      }
    }
  });
}

test.run();
