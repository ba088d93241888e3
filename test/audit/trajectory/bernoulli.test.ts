/**
 * A trajectory on a --membership bernoulli set carries the one-run ε lower bound of every checkpoint,
 * and its page plots ε̂ against step (a real set, a real model: the random-weight CTC test model).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCanarySet } from '../../../src/canary/index.ts';
import { trajectory } from '../../../src/audit/trajectory/index.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const CTC_MODEL = join(ROOT, 'test/fixtures/models/sidecar-ctc');
let work = '';

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'rote-trajectory-bernoulli-'));
  await generateCanarySet({
    out: join(work, 'set'),
    seed: 'trajectory-bernoulli',
    words: 3,
    membership: 'bernoulli',
    candidates: 40,
    speed: 2.5,
    concurrency: 1,
  });
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('bernoulli set: ε̂ and its maximum at every step, plotted against step', async () => {
  const { report, paths } = await trajectory({
    canaries: join(work, 'set'),
    series: [
      {
        name: 'tiny',
        checkpoints: [
          { step: 0, model: CTC_MODEL },
          { step: 50, model: CTC_MODEL },
        ],
      },
    ],
    out: join(work, 'out'),
    provider: 'cpu',
  });
  assert.is(report.canarySet.membership, 'bernoulli');
  const points = report.series[0]!.points;
  assert.equal(
    points.map((point) => point.audit),
    ['audited', 'reused'],
  );
  for (const point of points) {
    assert.ok(point.epsilon, `step ${point.step} has no ε̂`);
    assert.ok(point.epsilon!.epsilon >= 0 && point.epsilon!.maximumEpsilon > 0);
  }
  const html = await readFile(paths.html, 'utf8');
  assert.match(html, /<svg [^>]*id="epsilon"/);
  // Step 0 is on the axis: a linear step axis.
  assert.not.match(html, /step \(log scale\)/);
  assert.match(await readFile(paths.markdown, 'utf8'), /ε̂ \(max\)/);
});

test.run();
