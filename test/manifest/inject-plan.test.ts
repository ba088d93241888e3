/** The inject plan's pure steps (src/manifest/inject-plan.ts). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planCopies, withDurations } from '../../src/manifest/inject-plan.ts';
import type { TrainingCanary } from '../../src/canary/types.ts';

test('withDurations returns new copies with their lengths and leaves the plan it was given as it was', () => {
  const canaries: TrainingCanary[] = [
    { id: 'a1', text: 'amber basin', repetitions: 2, audio: 'audio/a1.wav', durationSec: 1, sha256: '0'.repeat(64) },
    { id: 'b2', text: 'cobalt dune', repetitions: 1, audio: 'audio/b2.wav', durationSec: 1, sha256: '1'.repeat(64) },
  ];
  let next = 0;
  const planned = planCopies(canaries, () => ({ recordId: `r${next++}`, speaker: 'rote' }), {
    audioDir: '/corpus/audio',
    sampleRate: 16000,
    textTemplate: undefined,
  });
  const before = JSON.stringify(planned);
  const samples: Record<string, number> = { a1: 24000, b2: 8000 };
  const copies = withDurations(planned, (id) => samples[id]!, 16000);
  assert.equal(
    copies.map((copy) => [copy.recordId, copy.numSamples, copy.durationSec]),
    [
      ['r0', 24000, 1.5],
      ['r1', 24000, 1.5],
      ['r2', 8000, 0.5],
    ],
  );
  assert.is(JSON.stringify(planned), before, 'the input plan is not modified');
  assert.ok(copies.every((copy, i) => copy !== planned[i]));
});

test.run();
