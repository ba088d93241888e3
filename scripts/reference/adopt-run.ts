/**
 * Brings a finished `train.py train` run into the repository.
 *
 *   record: copies <run>/metrics.json and the run's console log (default <run>.log)
 *           to scripts/reference/results/<round>/runs/<name>.{metrics.json,console.txt}
 *           (`*.log` is git-ignored, hence .txt).
 *   ship:   the C search chose this run for its variant: copies <run>/model.onnx to
 *           models/<variant>/model.onnx (tokens.txt must be identical and stays) and puts
 *           the PyTorch model's canary transcripts (<run>/transcripts.json) into
 *           test/fixtures/reference/pytorch-canary-transcripts.json.
 *
 *   node --import tsx scripts/reference/adopt-run.ts record --round cpu-d96x4-2-pass <run dir> [--log FILE]
 *   node --import tsx scripts/reference/adopt-run.ts ship --round cpu-d96x4-2-pass <run dir>
 * Then rerun model-cards.ts (it refuses cards whose shipped model is not the C rule's choice).
 */
import { copyFile, readFile, rename } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { temporarySibling, writeFileAtomic } from '../../src/util/atomic.ts';
import { sha256File } from '../../src/util/hash.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const RESULTS = join(ROOT, 'scripts', 'reference', 'results');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'reference', 'pytorch-canary-transcripts.json');

interface RunFiles {
  name: string;
  variant: string;
  device: string;
  torch: string;
}

export interface TranscriptFixture {
  note: string;
  models: Record<
    string,
    { run: string; source: string; computedOn: string; onnxSha256: string; hypotheses: Record<string, string> }
  >;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { round: { type: 'string' }, log: { type: 'string' } },
  });
  const [action, runArg] = positionals;
  if (!values.round || !runArg || (action !== 'record' && action !== 'ship')) {
    throw new Error('usage: adopt-run.ts record|ship --round <results folder name> <run dir> [--log FILE]');
  }
  const run = resolve(runArg);
  const roundDir = join(RESULTS, values.round);
  const metrics = JSON.parse(await readFile(join(run, 'metrics.json'), 'utf8')) as RunFiles;
  if (action === 'record') {
    const log = resolve(values.log ?? `${run}.log`);
    const console = await readFile(log, 'utf8');
    if (!console.includes(`${metrics.name}: done:`)) throw new Error(`${log}: the run has not logged "done"`);
    await writeFileAtomic(
      join(roundDir, 'runs', `${metrics.name}.metrics.json`),
      await readFile(join(run, 'metrics.json')),
    );
    await writeFileAtomic(join(roundDir, 'runs', `${metrics.name}.console.txt`), console);
    process.stdout.write(`recorded ${metrics.name} in ${join(roundDir, 'runs')}\n`);
    return;
  }
  if (!existsSync(join(roundDir, 'runs', `${metrics.name}.metrics.json`)))
    throw new Error(`record ${metrics.name} in ${values.round} first`);
  const modelDir = join(ROOT, 'models', metrics.variant);
  const runTokens = await readFile(join(run, 'tokens.txt'), 'utf8');
  if (existsSync(join(modelDir, 'tokens.txt'))) {
    if ((await readFile(join(modelDir, 'tokens.txt'), 'utf8')) !== runTokens)
      throw new Error(`${run}/tokens.txt differs from ${modelDir}/tokens.txt`);
  } else {
    await writeFileAtomic(join(modelDir, 'tokens.txt'), runTokens);
  }
  // train.py canary-transcripts: from the same fp32 features rote computes (transcripts.json's come from the fp16 store)
  const f32 = existsSync(join(run, 'transcripts-f32.json'));
  const transcripts = JSON.parse(
    await readFile(join(run, f32 ? 'transcripts-f32.json' : 'transcripts.json'), 'utf8'),
  ) as {
    canaries: { id: string; hypothesis: string }[];
  };
  const fixture = JSON.parse(await readFile(FIXTURE, 'utf8')) as TranscriptFixture;
  fixture.models[metrics.variant] = {
    run: metrics.name,
    source: values.round,
    computedOn: `${metrics.device}, torch ${metrics.torch}, ${f32 ? 'float32 canary features' : 'fp16 feature store'}`,
    onnxSha256: await sha256File(join(run, 'model.onnx')),
    hypotheses: Object.fromEntries(transcripts.canaries.map((c) => [c.id, c.hypothesis])),
  };
  const temporary = temporarySibling(join(modelDir, 'model.onnx'));
  await copyFile(join(run, 'model.onnx'), temporary);
  await rename(temporary, join(modelDir, 'model.onnx'));
  await writeFileAtomic(FIXTURE, `${JSON.stringify(fixture, null, 1)}\n`);
  process.stdout.write(`shipped ${metrics.name} as models/${metrics.variant}/model.onnx; transcripts in ${FIXTURE}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) await main();
