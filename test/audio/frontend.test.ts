import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RoteError } from '../../src/util/errors.ts';
import {
  KALDI_FBANK_DEFAULTS,
  NEMO_MEL_DEFAULTS,
  createFrontend,
  kaldiFbank,
  nemoMel,
  sherpaNemoMel,
  type FeatureMatrix,
} from '../../src/audio/index.ts';
import { makeInput } from './fixtures.ts';

const speech = makeInput({ kind: 'wav', file: 'espeak-1.wav' });

function columnStats(m: FeatureMatrix, bin: number): { mean: number; variance: number } {
  let sum = 0;
  for (let f = 0; f < m.numFrames; f++) sum += m.data[f * m.numBins + bin]!;
  const mean = sum / m.numFrames;
  let squares = 0;
  for (let f = 0; f < m.numFrames; f++) squares += (m.data[f * m.numBins + bin]! - mean) ** 2;
  return { mean, variance: squares / m.numFrames };
}

test('defaults are the documented toolkit defaults', () => {
  assert.equal(
    { ...KALDI_FBANK_DEFAULTS },
    {
      ...KALDI_FBANK_DEFAULTS,
      numBins: 80,
      frameLengthMs: 25,
      frameShiftMs: 10,
      window: 'povey',
      removeDcOffset: true,
      preemphasis: 0.97,
      dither: 0,
      snipEdges: false,
      lowFreq: 20,
      highFreq: -400,
      energyFloor: 0,
      scale: 1,
    },
  );
  assert.is(NEMO_MEL_DEFAULTS.nFft, 512);
  assert.is(NEMO_MEL_DEFAULTS.logZeroGuard, 2 ** -24);
  assert.is(NEMO_MEL_DEFAULTS.variance, 'unbiased');
});

test('frame counts follow Kaldi (snip_edges false / true), NeMo (floor(n/hop) + 1, or floor(n/hop) from 2.5) and sherpa', () => {
  const kaldi = createFrontend({ type: 'kaldi-fbank' });
  const kaldiSnip = createFrontend({ type: 'kaldi-fbank', snipEdges: true });
  const nemo = createFrontend({ type: 'nemo-mel' });
  const nemo25 = createFrontend({ type: 'nemo-mel', padMode: 'constant', dropFinalFrame: true });
  const sherpa = createFrontend({ type: 'sherpa-nemo-mel' });
  for (const n of [1, 79, 80, 159, 160, 399, 400, 401, 16000, 16079, 16080, 46536]) {
    assert.is(kaldi.framesFor(n), Math.floor((n + 80) / 160), `kaldi ${n}`);
    assert.is(kaldiSnip.framesFor(n), n < 400 ? 0 : 1 + Math.floor((n - 400) / 160), `snip ${n}`);
    assert.is(nemo.framesFor(n), Math.floor(n / 160) + 1, `nemo ${n}`);
    assert.is(nemo25.framesFor(n), Math.floor(n / 160), `nemo 2.5 ${n}`);
    assert.is(sherpa.framesFor(n), Math.floor((n + 80) / 160), `sherpa ${n}`);
  }
  for (const frontend of [kaldi, kaldiSnip, nemo, nemo25, sherpa]) {
    assert.is(frontend.framesFor(0), 0);
    assert.is(frontend.compute(new Float32Array(0)).numFrames, 0);
  }
});

test('Kaldi fbank handles inputs shorter than one window by repeated reflection (as Kaldi does)', () => {
  for (const n of [1, 50, 130, 300]) {
    const m = kaldiFbank(speech.slice(8000, 8000 + n));
    assert.is(m.numFrames, Math.floor((n + 80) / 160));
    assert.ok(m.data.every(Number.isFinite));
  }
});

test('per-feature normalization: zero mean per bin; NeMo unbiased, sherpa population variance', () => {
  const nemo = nemoMel(speech);
  const sherpa = sherpaNemoMel(speech);
  for (const bin of [0, 17, 40, 79]) {
    const a = columnStats(nemo, bin);
    assert.ok(Math.abs(a.mean) < 1e-4, `nemo mean ${a.mean}`);
    const unbiased = (a.variance * nemo.numFrames) / (nemo.numFrames - 1);
    assert.ok(Math.abs(unbiased - 1) < 1e-3, `nemo unbiased variance ${unbiased}`);
    const b = columnStats(sherpa, bin);
    assert.ok(Math.abs(b.mean) < 1e-4, `sherpa mean ${b.mean}`);
    assert.ok(Math.abs(b.variance - 1) < 1e-3, `sherpa population variance ${b.variance}`);
  }
});

test('normalized NeMo features of digital silence are exactly 0; unnormalized are log(2^-24)', () => {
  const silence = new Float32Array(16000);
  assert.ok(nemoMel(silence).data.every((v) => v === 0));
  const raw = nemoMel(silence, { normalize: 'none' });
  assert.ok(raw.data.every((v) => Math.abs(v - Math.log(2 ** -24)) < 1e-5));
  const kaldi = kaldiFbank(silence);
  assert.ok(kaldi.data.every((v) => Math.abs(v - Math.log(1.1920928955078125e-7)) < 1e-5));
});

test('one NeMo frame: the unbiased std is taken as 0 (NeMo maps the NaN to 0), giving zeros', () => {
  const m = nemoMel(speech.slice(8000, 8300), { padMode: 'constant', dropFinalFrame: true });
  assert.is(m.numFrames, 1);
  assert.ok(m.data.every((v) => v === 0));
});

test('scale multiplies samples first (WeNet: 32768) and shifts log energies by 2 ln(scale)', () => {
  const plain = kaldiFbank(speech);
  const scaled = kaldiFbank(speech, { scale: 32768 });
  const shift = 2 * Math.log(32768);
  let worst = 0;
  for (let i = 0; i < plain.data.length; i++)
    if (plain.data[i]! > -10) worst = Math.max(worst, Math.abs(scaled.data[i]! - plain.data[i]! - shift));
  assert.ok(worst < 1e-3, `worst ${worst}`);
});

test('dither is seeded: same seed, same features; another seed, different features', () => {
  const a = kaldiFbank(speech, { dither: 1e-4 });
  const b = kaldiFbank(speech, { dither: 1e-4 });
  const c = kaldiFbank(speech, { dither: 1e-4, ditherSeed: 'other' });
  assert.equal(Array.from(a.data.slice(0, 400)), Array.from(b.data.slice(0, 400)));
  assert.not.equal(Array.from(a.data.slice(0, 400)), Array.from(c.data.slice(0, 400)));
});

test('useEnergy adds a leading column; numBins and resolved options are reported', () => {
  const frontend = createFrontend({ type: 'kaldi-fbank', useEnergy: true, numBins: 40 });
  assert.is(frontend.numBins, 41);
  assert.is(frontend.compute(speech).numBins, 41);
  assert.is(frontend.sampleRate, 16000);
  assert.is(frontend.resolved.window, 'povey');
  assert.is(createFrontend({ type: 'nemo-mel', numBins: 64 }).numBins, 64);
});

test('a frontend is reusable: computing twice gives identical results', () => {
  const frontend = createFrontend({ type: 'nemo-mel' });
  const first = frontend.compute(speech.slice(0, 20000));
  frontend.compute(speech);
  const again = frontend.compute(speech.slice(0, 20000));
  assert.equal(Array.from(first.data), Array.from(again.data));
});

test('bad options are RoteErrors naming the option and what is accepted', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => createFrontend({ type: 'kaldi-fbank', window: 'gauss' as never }), /window.*povey/],
    [() => createFrontend({ type: 'kaldi-fbank', numBins: 0 }), /numBins/],
    [() => createFrontend({ type: 'kaldi-fbank', highFreq: 9000 }), /highFreq/],
    [() => createFrontend({ type: 'nemo-mel', nFft: 500 }), /nFft.*power of two/],
    [() => createFrontend({ type: 'nemo-mel', windowLength: 600 }), /windowLength/],
    [() => createFrontend({ type: 'nemo-mel', normalize: 'all_features' as never }), /normalize/],
    [() => createFrontend({ type: 'nemo-mel', numbins: 80 } as never), /unknown option "numbins"/],
    [() => createFrontend({ type: 'whisper' } as never), /unknown frontend type "whisper"/],
  ];
  for (const [fn, message] of cases) {
    try {
      fn();
      assert.unreachable(`no error for ${message}`);
    } catch (error) {
      assert.instance(error, RoteError);
      assert.match((error as Error).message, message);
    }
  }
});

test.run();
