/**
 * Ships the checkpoints a training run saved (train.py --save-steps; exported as
 * <run>/steps/step-<N>/model.onnx by the run when it finishes, or by `train.py export-steps`
 * while it trains) into models/trajectory/<series>/step-<N>/ (model.onnx + tokens.txt), and
 * records what was shipped in models/trajectory/<series>/steps.json; a step-<N> folder shipped earlier and not
 * listed now is removed.
 *
 *   node --import tsx scripts/reference/ship-steps.ts --series baseline --steps 167,334,668,1336,2672 <run dir>
 *
 * A step the run has not exported is refused. `rote trajectory --series baseline='models/trajectory/baseline/step-*'`
 * (and `npm start`) audit them.
 */
import { copyFile, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { temporarySibling, writeFileAtomic } from '../../src/util/atomic.ts';
import { sha256File } from '../../src/util/hash.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { series: { type: 'string' }, steps: { type: 'string' } },
  });
  const [runArg] = positionals;
  if (!values.series || !values.steps || !runArg || !/^[a-z0-9.-]+$/.test(values.series))
    throw new Error('usage: ship-steps.ts --series NAME --steps N,N,... <run dir>');
  const run = resolve(runArg);
  const steps = values.steps.split(',').map((step) => Number(step));
  for (const step of steps) {
    if (!Number.isInteger(step) || !existsSync(join(run, 'steps', `step-${step}`, 'model.onnx')))
      throw new Error(
        `${run}/steps/step-${step}/model.onnx not found: train with --save-steps, then train.py export-steps`,
      );
  }
  const target = join(ROOT, 'models', 'trajectory', values.series);
  const shipped: { step: number; sha256: string }[] = [];
  for (const step of steps) {
    const from = join(run, 'steps', `step-${step}`);
    const to = join(target, `step-${step}`);
    await mkdir(to, { recursive: true });
    for (const name of ['model.onnx', 'tokens.txt']) {
      const temporary = temporarySibling(join(to, name));
      await copyFile(join(from, name), temporary);
      await rename(temporary, join(to, name));
    }
    shipped.push({ step, sha256: await sha256File(join(to, 'model.onnx')) });
  }
  // A step shipped earlier but not listed now is removed, so the folders are what steps.json lists.
  for (const entry of await readdir(target)) {
    const step = /^step-(\d+)$/.exec(entry)?.[1];
    if (step !== undefined && !steps.includes(Number(step))) await rm(join(target, entry), { recursive: true });
  }
  const metricsPath = join(run, 'metrics.json');
  const metrics = existsSync(metricsPath)
    ? (JSON.parse(await readFile(metricsPath, 'utf8')) as { name: string; steps: number; history: unknown[] })
    : null;
  await writeFileAtomic(
    join(target, 'steps.json'),
    `${JSON.stringify(
      {
        series: values.series,
        run: basename(run),
        finished: metrics !== null,
        totalSteps: metrics?.steps ?? null,
        checkpoints: shipped,
      },
      null,
      1,
    )}\n`,
  );
  process.stdout.write(`shipped steps ${steps.join(', ')} of ${basename(run)} into ${target}\n`);
}

await main();
