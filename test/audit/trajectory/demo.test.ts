/**
 * The demo shows the trajectory of models/trajectory/<series>/step-<N> after the comparison, and a
 * checkpoint whose files are a model the demo already audited reuses that audit (no second transcription).
 * A models folder laid out like the repository's, from the shipped models: the control as step 100, the
 * baseline as step 1000 of one series.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../../../src/audit/pipeline/demo.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
let work = '';

async function linkModel(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const name of ['model.onnx', 'tokens.txt']) await symlink(join(ROOT, 'models', from, name), join(to, name));
}

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'rote-demo-trajectory-'));
  const models = join(work, 'models');
  await linkModel('baseline', join(models, 'baseline'));
  await linkModel('control', join(models, 'control'));
  await linkModel('control', join(models, 'trajectory', 'baseline', 'step-100'));
  await linkModel('baseline', join(models, 'trajectory', 'baseline', 'step-1000'));
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('the demo runs the trajectory of models/trajectory, reusing its own audits of the same files', async () => {
  let rows = 0;
  const checkpoints: string[] = [];
  const result = await runDemo({
    out: join(work, 'out'),
    provider: 'cpu',
    modelsDir: join(work, 'models'),
    onProgress: (done) => (rows += done > 0 ? 1 : 0),
    onCheckpoint: ({ series, step }) => checkpoints.push(`${series}@${step}`),
  });
  // Two models audited (188 canaries each), nothing transcribed again for the two checkpoints.
  assert.equal(
    result.models.map((model) => model.name),
    ['baseline', 'control'],
  );
  assert.is(rows, 2 * 188);
  assert.equal(checkpoints, ['baseline@100', 'baseline@1000']);
  const trajectory = result.trajectory!;
  assert.equal(
    trajectory.report.series[0]!.points.map((point) => [point.step, point.audit, point.reusedFrom]),
    [
      [100, 'reused', join(result.out, 'control', 'report.json')],
      [1000, 'reused', join(result.out, 'baseline', 'report.json')],
    ],
  );
  assert.equal(
    trajectory.report.series[0]!.detection.map((entry) => entry.firstStep),
    [1000, 1000, 1000, 1000, 1000],
  );
  assert.is(trajectory.out, join(result.out, 'trajectory'));
  assert.ok(existsSync(join(trajectory.out, 'audits', 'baseline', '1000', 'report.html')));
  assert.match(readFileSync(trajectory.paths.html, 'utf8'), /<svg [^>]*class="chart step-chart"/);
});

test.run();
