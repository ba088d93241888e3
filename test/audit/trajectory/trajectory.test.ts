/**
 * rote trajectory on real models: the shipped reference models stand in for checkpoints (the control, which
 * never saw the canaries, as an early step; the baseline and the adaptive per-example clipped model as the
 * last). Every audit is real (canaries/demo through ONNX Runtime); a killed run resumes; a checkpoint of
 * another model family and an output folder of another canary set are refused.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trajectory, type TrajectoryReport } from '../../../src/audit/trajectory/index.ts';
import { compare } from '../../../src/audit/index.ts';
import { RoteError } from '../../../src/util/errors.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const CANARIES = join(ROOT, 'canaries/demo');
const MODELS = join(ROOT, 'models');
const TRANSDUCER = join(ROOT, 'test/fixtures/models/nemo-transducer');
let work = '';
let out = '';
let first: TrajectoryReport;

const series = () => [
  `baseline=100:${join(MODELS, 'control')},1000:${join(MODELS, 'baseline')}`,
  `clipped=100:${join(MODELS, 'control')},1000:${join(MODELS, 'adaptive-per-example-clip')}`,
];

async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, RoteError);
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable('expected a refusal');
}

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'rote-trajectory-'));
  out = join(work, 'out');
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('two series of real checkpoints: detection steps, per-step comparisons, the three files with step charts', async () => {
  const audited: string[] = [];
  const result = await trajectory({
    canaries: CANARIES,
    series: series(),
    out,
    provider: 'cpu',
    onCheckpoint: ({ series: name, step }) => audited.push(`${name}@${step}`),
  });
  first = result.report;
  const report = result.report;
  assert.equal(audited, ['baseline@100', 'baseline@1000', 'clipped@100', 'clipped@1000']);
  assert.is(report.kind, 'rote-trajectory-report');
  assert.is(report.family, 'sherpa-nemo-ctc');
  const [baseline, clipped] = report.series;
  // The same control model at step 100 in both series is audited once.
  assert.equal(
    [...baseline!.points, ...clipped!.points].map((point) => point.audit),
    ['audited', 'audited', 'reused', 'audited'],
  );
  assert.ok(clipped!.points[0]!.reusedFrom!.endsWith(join('audits', 'baseline', '100', 'report.json')));
  // The control (never saw the canaries) detects nothing; the baseline every group: first detected at 1000.
  assert.is(baseline!.points[0]!.verdict, 'not-detected');
  assert.equal(baseline!.points[1]!.detectedRepetitions, [1, 2, 4, 8, 16]);
  assert.equal(
    baseline!.detection.map((entry) => entry.firstStep),
    [1000, 1000, 1000, 1000, 1000],
  );
  // Held-out included, with intervals; the baseline's 16-repetition CER falls to 0 at 1000.
  const x16 = baseline!.points[1]!.groups.find((group) => group.repetitions === 16)!;
  assert.is(x16.cer.estimate, 0);
  assert.ok(baseline!.points[1]!.groups[0]!.repetitions === null && baseline!.points[1]!.groups[0]!.cer.low > 0.3);
  assert.ok(baseline!.points[1]!.membership.auc.estimate > baseline!.points[0]!.membership.auc.estimate + 0.2);
  // compare at both common steps: the same model at 100 (no difference), clipping memorizes less at 1000 on CER.
  assert.equal(
    report.comparisons.map((comparison) => comparison.step),
    [100, 1000],
  );
  const cerAt = (index: number) =>
    report.comparisons[index]!.pairs[0]!.primary.find((test) => test.score === 'cer')!.finding;
  assert.is.not(cerAt(0), 'other-memorizes-less');
  assert.is(cerAt(1), 'other-memorizes-less');
  assert.ok(existsSync(join(out, 'comparisons', 'step-1000', 'comparison.json')));
  // The files: JSON as returned, Markdown tables, HTML with one chart per group and score, AUC, TPR, exposure, comparison.
  assert.equal(JSON.parse(await readFile(result.paths.json, 'utf8')), report);
  const markdown = await readFile(result.paths.markdown, 'utf8');
  assert.match(markdown, /\| 16 repetitions \| step 1000 \| step 1000 \|/);
  const html = await readFile(result.paths.html, 'utf8');
  const charts = html.match(/<svg [^>]*class="chart step-chart"/g) ?? [];
  const groups = 6;
  const tprCharts = baseline!.points[0]!.membership.tprAtFpr.filter((entry) => entry.tpr).length;
  assert.is(charts.length, groups * report.scores.length + 1 + tprCharts + 2 + report.scores.length);
  assert.match(html, /step \(log scale\)/);
  assert.match(html, /data-series="clipped" data-step="1000"/);
});

test('a rerun reuses every audit; a killed audit resumes from its rows', async () => {
  let transcribed = 0;
  const again = await trajectory({
    canaries: CANARIES,
    series: series(),
    out,
    provider: 'cpu',
    onProgress: () => transcribed++,
  });
  assert.is(transcribed, 0);
  assert.ok(again.report.series.every((one) => one.points.every((point) => point.audit === 'reused')));
  // As if killed mid-audit: no report yet, 60 of 188 rows in the journal.
  const dir = join(out, 'audits', 'baseline', '1000');
  const lines = (await readFile(join(dir, 'rows.jsonl'), 'utf8')).split('\n');
  await writeFile(join(dir, 'rows.jsonl'), `${lines.slice(0, 61).join('\n')}\n`);
  for (const name of ['report.json', 'report.md', 'report.html', 'trajectory.json'])
    await rm(join(dir, name), { force: true });
  await rm(join(out, 'trajectory.json'));
  const progress: number[] = [];
  const resumed = await trajectory({
    canaries: CANARIES,
    series: series(),
    out,
    provider: 'cpu',
    onProgress: (done) => progress.push(done),
  });
  assert.is(progress[0], 60);
  assert.is(progress.length, 1 + 188 - 60);
  const point = resumed.report.series[0]!.points[1]!;
  assert.is(point.audit, 'resumed');
  assert.equal(point.groups, first.series[0]!.points[1]!.groups);
  assert.equal(resumed.report.comparisons, first.comparisons);
});

test('refused: a checkpoint of another model family, an output folder of another canary set', async () => {
  const elsewhere = join(work, 'mixed');
  await rejects(
    trajectory({
      canaries: CANARIES,
      series: [`a=1:${join(MODELS, 'control')},2:${TRANSDUCER}`],
      out: elsewhere,
      provider: 'cpu',
    }),
    /series a step 2 .* is a nemo-transducer model, but series a step 1 .* is sherpa-nemo-ctc/,
  );
  assert.not.ok(existsSync(elsewhere));
  // The same canaries in another canary-set.json (reformatted: another file, another hash).
  const other = join(work, 'other-set');
  await mkdir(other);
  const text = await readFile(join(CANARIES, 'canary-set.json'), 'utf8');
  await writeFile(join(other, 'canary-set.json'), JSON.stringify(JSON.parse(text)));
  await symlink(join(CANARIES, 'audio'), join(other, 'audio'));
  await rejects(
    trajectory({ canaries: other, series: series(), out, provider: 'cpu' }),
    /holds a trajectory audited with the canary set .* one trajectory, one canary set/,
  );
  // An audit folder of another canary set inside an otherwise fresh trajectory is refused too.
  const fresh = join(work, 'fresh');
  await trajectory({ canaries: other, series: [`a=5:${join(MODELS, 'control')}`], out: fresh, provider: 'cpu' });
  await mkdir(join(fresh, 'audits', 'b', '5'), { recursive: true });
  await copyFile(join(out, 'audits', 'baseline', '100', 'report.json'), join(fresh, 'audits', 'b', '5', 'report.json'));
  await rejects(
    trajectory({ canaries: other, series: [`b=5:${join(MODELS, 'control')}`], out: fresh, provider: 'cpu' }),
    /audited with another canary set/,
  );
});

test('fine-tuning: the pre-trained model is the control, compare --expect more finds the fine-tuned model memorizing more', async () => {
  // The shipped control (never saw the canaries) stands in for the pre-trained model, the baseline for the fine-tuned one.
  const comparison = await compare([join(out, 'audits', 'baseline', '100'), join(out, 'audits', 'baseline', '1000')], {
    names: ['pre-trained', 'fine-tuned'],
    expect: 'more',
  });
  const pair = comparison.pairs[0]!;
  assert.equal(
    pair.primary.map((test) => [test.alternative, test.finding]),
    [
      ['less', 'other-memorizes-more'],
      ['less', 'other-memorizes-more'],
    ],
  );
});

test.run();
