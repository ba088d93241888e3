/** Series of checkpoints: steps from directory names, globs, given steps, and the refusals. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSeries, expandDirectories, parseSeriesSpec, stepFromName } from '../../../src/audit/trajectory/series.ts';
import { OptionError } from '../../../src/util/options.ts';
import { RoteError } from '../../../src/util/errors.ts';

async function rejects(promise: Promise<unknown>, expected: RegExp | (new (...args: never[]) => Error)): Promise<void> {
  try {
    await promise;
  } catch (error) {
    if (expected instanceof RegExp) assert.match((error as Error).message, expected);
    else assert.instance(error, expected);
    return;
  }
  assert.unreachable('expected a rejection');
}

let work = '';
test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'rote-series-'));
  for (const name of ['step-10', 'step-200', 'step-3000', 'notes', 'other-step-5'])
    await mkdir(join(work, 'run', name), { recursive: true });
  await mkdir(join(work, 'hf', 'checkpoint-1500'), { recursive: true });
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('the step is read from the directory name: step-N, checkpoint-N, Lightning names, else the last number', () => {
  assert.is(stepFromName('/x/step-1200'), 1200);
  assert.is(stepFromName('/x/step-1200/'), 1200);
  assert.is(stepFromName('checkpoint-350'), 350);
  assert.is(stepFromName('epoch=3-step=4400'), 4400);
  assert.is(stepFromName('ckpt_epoch12'), 12);
  assert.is(stepFromName('/runs/v2/final'), null);
});

test('a glob expands to directories sorted by step; given steps mix with globs', async () => {
  const series = await parseSeriesSpec(`base=${join(work, 'run', 'step-*')},7:${join(work, 'run', 'notes')}`);
  assert.is(series.name, 'base');
  const [checked] = checkSeries([series]);
  assert.equal(
    checked!.checkpoints.map((checkpoint) => checkpoint.step),
    [7, 10, 200, 3000],
  );
  assert.is(checked!.checkpoints[1]!.model, join(work, 'run', 'step-10'));
  assert.equal(await expandDirectories(join(work, '*', 'checkpoint-1???')), [join(work, 'hf', 'checkpoint-1500')]);
});

test('refused: no NAME=, a glob matching nothing, no step in a name, a step twice, names twice or unsafe', async () => {
  await rejects(parseSeriesSpec(join(work, 'run', 'step-*')), OptionError);
  await rejects(parseSeriesSpec(`a=${join(work, 'missing-*')}`), /matches no directory/);
  await rejects(parseSeriesSpec(`a=${join(work, 'run', 'no*')}`), /cannot read a step .* give it as STEP:/);
  assert.throws(
    () =>
      checkSeries([
        {
          name: 'a',
          checkpoints: [
            { step: 5, model: join(work, 'run', 'step-10') },
            { step: 5, model: join(work, 'run', 'step-200') },
          ],
        },
      ]),
    (error: unknown) => error instanceof RoteError && /step 5 is given twice/.test(error.message),
  );
  const one = { name: 'a', checkpoints: [{ step: 1, model: work }] };
  assert.throws(() => checkSeries([one, one]), /given twice/);
  assert.throws(() => checkSeries([{ ...one, name: '../x' }]), /names a folder/);
  assert.throws(() => checkSeries([]), /at least one series/);
});

test.run();
