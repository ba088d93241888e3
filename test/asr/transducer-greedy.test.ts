import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { transducerGreedy, type TransducerNetworks } from '../../src/asr/index.ts';

/**
 * Hand-made networks (vocab: 0 blank, 1 unk, 2..4 tokens; dim 1): an encoder frame
 * holds the token it "wants"; the decoder output holds the last context token;
 * the joiner prefers the wanted token unless it was just emitted (then blank).
 */
function networks(calls: { decoder: number[]; joiner: number[] }): TransducerNetworks {
  return {
    async decoder(contexts) {
      calls.decoder.push(contexts.length);
      return Float32Array.from(contexts.map((c) => c[c.length - 1]!));
    },
    async joiner(frames, decoded, n) {
      calls.joiner.push(n);
      const logits = new Float32Array(n * 5);
      for (let i = 0; i < n; i++) {
        const wanted = frames[i]!;
        const best = wanted === decoded[i]! ? 0 : wanted;
        logits[i * 5 + best] = 10;
      }
      return logits;
    },
  };
}

const options = { blankId: 0, contextSize: 2, vocabSize: 5, encoderDim: 1, decoderDim: 1 };

test('greedy transducer: one symbol per frame, batched over the active utterances', async () => {
  const calls = { decoder: [] as number[], joiner: [] as number[] };
  // utterance 0 (4 frames): 2 2 3 0 -> emits 2 then blank (same as context) then 3, then blank (wanted 0 = blank)
  // utterance 1 (2 frames, padded): 4 3
  const encoder = Float32Array.from([2, 2, 3, 0, 4, 3, 9, 9]);
  const result = await transducerGreedy(encoder, [4, 2], 4, networks(calls), options);
  assert.equal(result, [
    [2, 3],
    [4, 3],
  ]);
  assert.equal(calls.joiner, [2, 2, 1, 1], 'the joiner sees only utterances still active at each frame');
  assert.is(calls.decoder[0], 2, 'the initial decoder call covers the whole batch');
});

test('greedy transducer: max symbols per frame and unk-as-blank', async () => {
  // a joiner that always emits token 2 then 3 then blank, whatever the frame
  const sequence: TransducerNetworks = {
    async decoder(contexts) {
      return Float32Array.from(contexts.map((c) => c[c.length - 1]!));
    },
    async joiner(_frames, decoded, n) {
      const logits = new Float32Array(n * 5);
      for (let i = 0; i < n; i++) logits[i * 5 + (decoded[i] === 0 ? 2 : decoded[i] === 2 ? 3 : 0)] = 1;
      return logits;
    },
  };
  const enc = new Float32Array(1);
  assert.equal(await transducerGreedy(enc, [1], 1, sequence, { ...options, maxSymbolsPerFrame: 1 }), [[2]]);
  assert.equal(await transducerGreedy(enc, [1], 1, sequence, { ...options, maxSymbolsPerFrame: 3 }), [[2, 3]]);
  assert.equal(
    await transducerGreedy(enc, [1], 1, sequence, { ...options, maxSymbolsPerFrame: 3, unkId: 3 }),
    [[2]],
    'unk reads as blank',
  );
  const failure = await transducerGreedy(enc, [1], 1, sequence, { ...options, maxSymbolsPerFrame: 0 }).then(
    () => null,
    (error: Error) => error,
  );
  assert.match(failure?.message ?? '', /maxSymbolsPerFrame must be a positive integer/);
});

test('greedy transducer: the initial context is [-1, ..., blank]', async () => {
  const seen: number[][] = [];
  const spy: TransducerNetworks = {
    async decoder(contexts) {
      seen.push(...contexts);
      return new Float32Array(contexts.length);
    },
    async joiner(_f, _d, n) {
      return new Float32Array(n * 5);
    },
  };
  await transducerGreedy(new Float32Array(3), [3], 3, spy, { ...options, contextSize: 3 });
  assert.equal(seen, [[-1, -1, 0]]);
});

test.run();
