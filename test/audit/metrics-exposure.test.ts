import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { editDistance, errorRates, normalizeTranscript } from '../../src/audit/stats/metrics.ts';
import {
  extrapolationExposures,
  interpolationExposure,
  interpolationExposures,
} from '../../src/audit/stats/exposure.ts';
import { sampleSkewNormal } from '../../src/audit/stats/skew-normal.ts';
import { SeededRandom } from '../../src/util/random.ts';

test('normalization: case, punctuation, apostrophes, spaces, SentencePiece marks', () => {
  assert.is(normalizeTranscript('  Hello,   World! '), 'hello world');
  assert.is(normalizeTranscript("Don't STOP-now"), 'dont stop now');
  assert.is(normalizeTranscript('▁purple▁monkey'), 'purple monkey');
  assert.is(normalizeTranscript('...'), '');
});

test('edit distance by hand', () => {
  assert.is(editDistance('kitten', 'sitting'), 3);
  assert.is(editDistance('', 'abc'), 3);
  assert.is(editDistance(['a', 'b'], []), 2);
  assert.is(editDistance('flaw', 'lawn'), 2);
});

test('CER and WER by hand', () => {
  const rates = errorRates('purple monkey dishwasher', 'Purple monkey dish washer.');
  // chars: 'purple monkey dishwasher' (24) vs 'purple monkey dish washer' (25): one insertion.
  assert.is(rates.referenceCharacters, 24);
  assert.is(rates.characterEdits, 1);
  assert.is(rates.cer, 1 / 24);
  // words: dishwasher -> dish washer: 1 substitution + 1 insertion.
  assert.is(rates.wordEdits, 2);
  assert.is(rates.wer, 2 / 3);
  assert.not.ok(rates.exactMatch);
  const exact = errorRates('Hello world', 'hello, world');
  assert.ok(exact.exactMatch);
  assert.is(exact.cer, 0);
  const empty = errorRates('two words', '');
  assert.is(empty.cer, 1);
  assert.is(empty.wer, 1);
  assert.throws(() => errorRates('!!', 'x'), /empty after normalization/);
});

test('interpolation exposure by hand, ties counted against the canary', () => {
  const references = [0.4, 0.2, 0.3, 0.1]; // |R| = 4, log2 = 2
  assert.equal(interpolationExposure(0.05, references), { rank: 1, exposure: 2 });
  assert.equal(interpolationExposure(0.1, references), { rank: 2, exposure: 1 }); // tie with 0.1 counts
  assert.equal(interpolationExposure(0.25, references), { rank: 3, exposure: 2 - Math.log2(3) });
  assert.equal(interpolationExposure(0.9, references), { rank: 5, exposure: 2 - Math.log2(5) });
  // All references tied with the canary: rank |R| + 1.
  assert.equal(interpolationExposures([1, 0], [1, 1, 1, 1, 1, 1, 1, 1]), [
    { rank: 9, exposure: 3 - Math.log2(9) },
    { rank: 1, exposure: 3 },
  ]);
  assert.throws(() => interpolationExposures([1], []), /no reference/);
});

test('extrapolated exposure: exceeds log2|R| for a canary far below the references, ~1 bit at the median', () => {
  const random = new SeededRandom('exposure-extrapolation');
  const truth = { location: 0.95, scale: 0.12, shape: -3 };
  const references = Array.from({ length: 200 }, () => sampleSkewNormal(random, truth));
  const sorted = [...references].sort((a, b) => a - b);
  const median = sorted[100]!;
  const { fit, exposures } = extrapolationExposures([0, median, 2], references);
  assert.ok(fit.ok);
  assert.ok(exposures[0]! > Math.log2(200), `far canary ${exposures[0]}`);
  assert.ok(Math.abs(exposures[1]! - 1) < 0.25, `median canary ${exposures[1]}`);
  assert.ok(exposures[2]! >= 0 && exposures[2]! < 1e-6, `worst canary ${exposures[2]}`);
  const degenerate = extrapolationExposures([0], [1, 1, 1]);
  assert.not.ok(degenerate.fit.ok);
  assert.equal(degenerate.exposures, [null]);
});

test.run();
