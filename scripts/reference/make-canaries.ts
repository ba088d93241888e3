/**
 * The demo canary set the reference models are trained with, through rote's
 * generate API; the same as
 *   rote generate --out canaries/demo --per-group 12 --holdout 128 \
 *     --exclude-words .cache/reference/corpus/corpus-words.txt --seed rote-demo-1
 * (defaults otherwise: 6 words, repetitions 1,2,4,8,16, espeak-ng wasm at 100 wpm,
 * 3x tempo, 16 kHz). Words of the training corpus are excluded, so every canary
 * is out of the corpus's distribution in both its speed and its words.
 *
 *   node --import tsx scripts/reference/make-canaries.ts [--out canaries/demo] [--force]
 */
import { parseArgs } from 'node:util';
import { generateCanarySet } from '../../src/canary/index.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'canaries/demo' },
    'exclude-words': { type: 'string', default: '.cache/reference/corpus/corpus-words.txt' },
    'per-group': { type: 'string', default: '12' },
    holdout: { type: 'string', default: '128' },
    seed: { type: 'string', default: 'rote-demo-1' },
    concurrency: { type: 'string', default: '2' },
    force: { type: 'boolean', default: false },
  },
});

const result = await generateCanarySet({
  out: values.out!,
  excludeWords: values['exclude-words'],
  perGroup: Number(values['per-group']),
  holdout: Number(values.holdout),
  seed: values.seed,
  concurrency: Number(values.concurrency),
  force: values.force,
});
console.log(JSON.stringify(result, (key, value) => (key === 'canaries' ? undefined : value)));
