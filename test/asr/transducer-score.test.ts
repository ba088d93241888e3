import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  loadModel,
  rnntForcedLogLikelihood,
  statefulTransducerGreedy,
  tdtForcedLogLikelihood,
  type StatefulTransducerNetwork,
} from '../../src/asr/index.ts';
import { padFeatures } from '../../src/asr/batching.ts';
import { engineOf } from '../../src/asr/model.ts';
import { MODELS } from './helpers.ts';

interface ParityCase {
  model: 'rnnt' | 'tdt';
  utterance: number;
  targets: number[];
  latticeOffset: number;
  latticeShape: [number, number, number];
  logLikelihood: number;
  greedyTokens: number[];
}

const PARITY = join(MODELS, 'transducer-parity');
const reference = JSON.parse(readFileSync(join(PARITY, 'reference.json'), 'utf8')) as { cases: ParityCase[] };
const bytes = readFileSync(join(PARITY, 'data.f32'));
const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
const BLANK = 43;
const DURATIONS = [0, 1, 2, 3, 4];

function lattice(c: ParityCase): Float32Array {
  const [t, u, w] = c.latticeShape;
  return data.subarray(c.latticeOffset, c.latticeOffset + t * u * w);
}

test('RNNT forward on the fixture lattices = torchaudio rnnt_loss (relative difference <= 1e-4)', () => {
  const cases = reference.cases.filter((c) => c.model === 'rnnt');
  assert.is(cases.length, 3);
  for (const c of cases) {
    const [frames, , width] = c.latticeShape;
    const ours = rnntForcedLogLikelihood(lattice(c), frames, c.targets, BLANK, BLANK + 1, width);
    const relative = Math.abs(ours - c.logLikelihood) / Math.abs(c.logLikelihood);
    assert.ok(
      relative <= 1e-4,
      `utterance ${c.utterance}: ${ours} vs torchaudio ${c.logLikelihood} (relative ${relative})`,
    );
  }
});

test('TDT forward on the fixture lattices = the Python float64 reference (relative difference <= 1e-4)', () => {
  const cases = reference.cases.filter((c) => c.model === 'tdt');
  assert.is(cases.length, 3);
  for (const c of cases) {
    const [frames, , width] = c.latticeShape;
    const ours = tdtForcedLogLikelihood(lattice(c), frames, c.targets, BLANK, BLANK + 1, DURATIONS, width);
    const relative = Math.abs(ours - c.logLikelihood) / Math.abs(c.logLikelihood);
    assert.ok(
      relative <= 1e-4,
      `utterance ${c.utterance}: ${ours} vs reference ${c.logLikelihood} (relative ${relative})`,
    );
  }
});

test('icefall-style transducer: the teacher-forced score = torchaudio rnnt_loss on the same lattice and through the model (<= 1e-4)', async () => {
  const icefall = JSON.parse(readFileSync(join(PARITY, 'icefall.json'), 'utf8')) as {
    cases: {
      featureOffset: number;
      numFrames: number;
      numBins: number;
      encoderFrames: number;
      targets: number[];
      latticeOffset: number;
      latticeShape: [number, number, number];
      logLikelihood: number;
    }[];
  };
  const raw = readFileSync(join(PARITY, 'icefall.f32'));
  const values = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const close = (ours: number, theirs: number, what: string) =>
    assert.ok(Math.abs(ours - theirs) <= 1e-4 * Math.abs(theirs), `${what}: ${ours} vs torchaudio ${theirs}`);
  for (const c of icefall.cases) {
    const [frames, columns, width] = c.latticeShape;
    close(
      rnntForcedLogLikelihood(
        values.subarray(c.latticeOffset, c.latticeOffset + frames * columns * width),
        frames,
        c.targets,
        0,
        width,
      ),
      c.logLikelihood,
      'lattice',
    );
  }
  const model = await loadModel(join(MODELS, 'transducer'), { provider: 'cpu', threads: 1 });
  try {
    const matrices = icefall.cases.map((c) => ({
      data: values.subarray(c.featureOffset, c.featureOffset + c.numFrames * c.numBins),
      numFrames: c.numFrames,
      numBins: c.numBins,
    }));
    const outputs = await engineOf(model).run(
      padFeatures(matrices),
      icefall.cases.map((c) => c.targets),
    );
    icefall.cases.forEach((c, i) => {
      assert.is(outputs[i]!.outFrames, c.encoderFrames);
      close(outputs[i]!.forcedLogLikelihood!, c.logLikelihood, `utterance ${i} through the model`);
    });
  } finally {
    await model.close();
  }
});

/** Deterministic pseudo-random logits. */
function randomLogits(count: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: count }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return (state / 2147483648) * 6 - 3;
  });
}

function logSoftmax(values: Float32Array, from: number, count: number): number[] {
  const row = Array.from(values.subarray(from, from + count));
  const max = Math.max(...row);
  const log = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
  return row.map((v) => v - log);
}

test('RNNT and TDT forward = the log of the sum over every path, enumerated (T = 3, U = 2)', () => {
  const [frames, classes, blank, targets] = [3, 4, 3, [1, 0]];
  const columns = targets.length + 1;
  // RNNT: paths are interleavings of T blanks and U tokens ending in a blank at the last frame.
  const rnntWidth = classes;
  const rnnt = randomLogits(frames * columns * rnntWidth, 7);
  const at = (t: number, u: number) => logSoftmax(rnnt, (t * columns + u) * rnntWidth, classes);
  let rnntSum = 0;
  const walk = (t: number, u: number, logP: number): void => {
    if (t === frames - 1 && u === targets.length) {
      rnntSum += Math.exp(logP + at(t, u)[blank]!);
      return;
    }
    if (u < targets.length) walk(t, u + 1, logP + at(t, u)[targets[u]!]!);
    if (t < frames - 1) walk(t + 1, u, logP + at(t, u)[blank]!);
  };
  walk(0, 0, 0);
  assert.ok(Math.abs(rnntForcedLogLikelihood(rnnt, frames, targets, blank, classes) - Math.log(rnntSum)) < 1e-9);

  // TDT: each step picks a token (any duration) or a blank (duration >= 1); the path ends on t = T exactly after a blank.
  const durations = [0, 1, 2];
  const width = classes + durations.length;
  const tdt = randomLogits(frames * columns * width, 11);
  const tok = (t: number, u: number) => logSoftmax(tdt, (t * columns + u) * width, classes);
  const dur = (t: number, u: number) => logSoftmax(tdt, (t * columns + u) * width + classes, durations.length);
  let tdtSum = 0;
  const tdtWalk = (t: number, u: number, logP: number): void => {
    durations.forEach((d, i) => {
      if (u < targets.length && t + d < frames) tdtWalk(t + d, u + 1, logP + tok(t, u)[targets[u]!]! + dur(t, u)[i]!);
      if (d > 0 && t + d < frames) tdtWalk(t + d, u, logP + tok(t, u)[blank]! + dur(t, u)[i]!);
      if (d > 0 && t + d === frames && u === targets.length)
        tdtSum += Math.exp(logP + tok(t, u)[blank]! + dur(t, u)[i]!);
    });
  };
  tdtWalk(0, 0, 0);
  assert.ok(
    Math.abs(tdtForcedLogLikelihood(tdt, frames, targets, blank, classes, durations) - Math.log(tdtSum)) < 1e-9,
  );
});

test('forced log-likelihoods refuse bad input with a RangeError', () => {
  assert.throws(() => rnntForcedLogLikelihood(new Float32Array(16), 2, [3], 3, 4), /not a token id/);
  assert.throws(() => rnntForcedLogLikelihood(new Float32Array(4), 2, [1], 3, 4), /fewer than 2 x 2 x 4/);
  assert.throws(() => tdtForcedLogLikelihood(new Float32Array(32), 2, [1], 3, 4, []), /durations must be/);
});

/**
 * A hand-made stateful network (vocab: 0..2 tokens, 3 blank; encoder dim 1; one state
 * float counting the tokens consumed): the frame holds the token it "wants"; a token is
 * emitted while the count is below the frame's quota (frame value / 10), else blank.
 */
function countingNetwork(calls: number[]): StatefulTransducerNetwork {
  return {
    stateSizes: [1],
    async step(frames, labels, states, n) {
      calls.push(n);
      const logits = new Float32Array(n * 4);
      const next = new Float32Array(n);
      for (let r = 0; r < n; r++) {
        const consumed = states[0]![r]! + (labels[r] === 3 ? 0 : 1);
        next[r] = consumed;
        const wanted = Math.round(frames[r]!) % 10;
        const quota = Math.floor(frames[r]! / 10);
        logits[r * 4 + (consumed < quota ? wanted : 3)] = 5;
      }
      return { logits, states: [next] };
    },
  };
}

test('stateful greedy (RNNT): state kept on blank, max symbols per frame, batched rows, padding ignored', async () => {
  // utterance 0: frame quota 1 (token 1), then quota 3 (token 2): emits 1, then 2, 2 (count 1 -> 3)
  // utterance 1 (1 valid frame of 2): quota 2 with token 0: emits 0, 0
  const encoder = Float32Array.from([11, 32, 20, 99]);
  const calls: number[] = [];
  const tokens = await statefulTransducerGreedy(encoder, [2, 1], 2, countingNetwork(calls), {
    blankId: 3,
    numClasses: 4,
    encoderDim: 1,
  });
  assert.equal(tokens, [
    [1, 2, 2],
    [0, 0],
  ]);
  assert.is(calls[0], 2, 'the first step covers both utterances');
  const limited = await statefulTransducerGreedy(encoder, [2, 1], 2, countingNetwork([]), {
    blankId: 3,
    numClasses: 4,
    encoderDim: 1,
    maxSymbolsPerFrame: 1,
  });
  assert.equal(limited, [[1, 2], [0]], 'one symbol per frame at most');
  const alone = await statefulTransducerGreedy(Float32Array.from([20]), [1], 1, countingNetwork([]), {
    blankId: 3,
    numClasses: 4,
    encoderDim: 1,
  });
  assert.equal(alone[0], tokens[1], 'the same result alone as in a padded batch');
});

test('stateful greedy (TDT): the frame advances by the predicted duration; blank with duration 0 advances 1', async () => {
  // vocab 0..1 tokens, 2 blank; durations [0, 1, 2]. Frame value v: token v % 10 (2 = blank), duration index floor(v / 10).
  const seen: number[] = [];
  const network: StatefulTransducerNetwork = {
    stateSizes: [1],
    async step(frames, _labels, states, n) {
      const logits = new Float32Array(n * 6);
      for (let r = 0; r < n; r++) {
        seen.push(frames[r]!);
        logits[r * 6 + (frames[r]! % 10)] = 5;
        logits[r * 6 + 3 + Math.floor(frames[r]! / 10)] = 5;
      }
      return { logits, states: [states[0]!] };
    },
  };
  // t0: token 1, duration 2 -> t2: blank, duration 0 (forced 1) -> t3: token 0, duration 1 -> end (4 frames)
  const tokens = await statefulTransducerGreedy(Float32Array.from([21, 7, 2, 10]), [4], 4, network, {
    blankId: 2,
    numClasses: 3,
    encoderDim: 1,
    durations: [0, 1, 2],
  });
  assert.equal(tokens, [[1, 0]]);
  assert.equal(seen, [21, 2, 10]);
  // a token with duration 0 repeats on the frame up to maxSymbolsPerFrame, then moves on
  const repeated = await statefulTransducerGreedy(Float32Array.from([1]), [1], 1, network, {
    blankId: 2,
    numClasses: 3,
    encoderDim: 1,
    durations: [0, 1, 2],
    maxSymbolsPerFrame: 3,
  });
  assert.equal(repeated, [[1, 1, 1]]);
});

test.run();
