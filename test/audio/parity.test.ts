/**
 * Frontend parity against reference implementations: torchaudio's
 * compliance.kaldi.fbank and a torch re-implementation of NeMo's
 * FilterbankFeatures (scripts/parity/make_fixtures.py made the fixtures).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createFrontend } from '../../src/audio/index.ts';
import { loadParityFixtures, makeInput } from './fixtures.ts';

const TOLERANCE = 1e-3;
const { cases, features } = loadParityFixtures();

test('the fixtures cover kaldi fbank and NeMo mel (normalized and not) on several utterances', () => {
  const names = cases.map((c) => c.name);
  for (const prefix of ['kaldi-default/espeak-', 'nemo-normalized/espeak-', 'nemo-unnormalized/espeak-']) {
    assert.ok(names.filter((n) => n.startsWith(prefix)).length >= 3, prefix);
  }
  assert.ok(names.some((n) => n.includes('silence')));
  assert.ok(names.some((n) => n.includes('short')));
});

for (const c of cases) {
  test(`parity: ${c.name}`, () => {
    const samples = makeInput(c.input);
    assert.is(samples.length, c.numSamples, 'input length');
    const frontend = createFrontend(c.frontend);
    const result = frontend.compute(samples);
    assert.is(result.numFrames, c.numFrames, 'frame count');
    assert.is(frontend.framesFor(samples.length), c.numFrames, 'framesFor');
    assert.is(result.numBins, c.numBins, 'bins');
    assert.is(result.data.length, c.numFrames * c.numBins);
    let worst = 0;
    let where = -1;
    for (let i = 0; i < result.data.length; i++) {
      const diff = Math.abs(result.data[i]! - features[c.offset + i]!);
      if (!(diff <= worst)) {
        worst = diff;
        where = i;
      }
    }
    if (!(worst <= (c.tolerance ?? TOLERANCE))) {
      const frame = Math.floor(where / c.numBins);
      assert.unreachable(
        `max |diff| ${worst} at frame ${frame} bin ${where % c.numBins} (rote ${result.data[where]}, reference ${features[c.offset + where]})`,
      );
    }
  });
}

test.run();
