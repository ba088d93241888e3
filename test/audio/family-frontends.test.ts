/**
 * The frontends of the Hugging Face and WeNet CTC families against the golden values
 * scripts/models/make_ctc_family_models.py wrote with ctc_family_reference.py (numpy's
 * Wav2Vec2FeatureExtractor normalization; torchaudio's Kaldi fbank with each runtime's settings).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createFrontend, SHERPA_WENET_FBANK, WENET_FBANK, type FeatureMatrix } from '../../src/audio/index.ts';
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
}

function golden(family: string): Golden {
  return JSON.parse(readFileSync(`${MODELS}ctc-reference/${family}.json`, 'utf8')) as Golden;
}

function speech(id: string): Float32Array {
  return readPcm16(`${MODELS}speech/${id}.wav`);
}

test('waveform frontend: Wav2Vec2FeatureExtractor normalization of each utterance (numpy float32 reference)', () => {
  const frontend = createFrontend({ type: 'waveform', sampleRate: 16000, normalize: 'per_utterance' });
  assert.is(frontend.numBins, 1);
  for (const utt of golden('hf-ctc').utterances) {
    const samples = speech(utt.id);
    assert.is(samples.length, utt.numSamples);
    const features = frontend.compute(samples);
    assert.is(features.numFrames, samples.length);
    for (const [index, expected] of Object.entries(utt.inputValues!)) {
      const actual = features.data[Number(index)]!;
      assert.ok(
        Math.abs(actual - expected) <= 2e-6 * Math.max(1, Math.abs(expected)),
        `${utt.id}[${index}]: ${actual} vs ${expected}`,
      );
    }
  }
});

function maxDifference(features: FeatureMatrix, frame: number, expected: number[]): number {
  let worst = 0;
  for (let b = 0; b < expected.length; b++)
    worst = Math.max(worst, Math.abs(features.data[frame * features.numBins + b]! - expected[b]!));
  return worst;
}

for (const [family, options, what] of [
  ['wenet-ctc', WENET_FBANK, "WeNet's compute_fbank (x32768, snip_edges, high_freq Nyquist)"],
  ['sherpa-wenet-ctc', SHERPA_WENET_FBANK, "sherpa-onnx's WeNet fbank (x32768, its defaults)"],
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
