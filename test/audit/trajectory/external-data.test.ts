/**
 * Checkpoints saved with ONNX external data share one .onnx file byte for byte (it holds the graph; the
 * weights lie in the data file beside it). trajectory must not take one checkpoint's audit for another's:
 * the report's fingerprint covers the data file, and a report that lists the .onnx file without its data
 * file (written by an older rote) is audited again, not reused. Real audits of canaries/demo with the
 * tiny nemo-ctc-128 test model re-saved with external data (test/fixtures/models/external-data).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trajectory } from '../../../src/audit/trajectory/index.ts';
import type { AuditReport } from '../../../src/audit/report/types.ts';
import { sha256Hex } from '../../../src/util/hash.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const CANARIES = join(ROOT, 'canaries/demo');
const MODEL = join(ROOT, 'test/fixtures/models/external-data/nemo-ctc-128');
const DATA = 'model.onnx.data';

let work = '';
test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'rote-trajectory-external-'));
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('checkpoints differing only in their data file are each audited; a report without the data file is not reused', async () => {
  const early = join(work, 'step-100');
  const late = join(work, 'step-200');
  cpSync(MODEL, early, { recursive: true });
  cpSync(MODEL, late, { recursive: true });
  const data = readFileSync(join(late, DATA));
  data[data.length - 1] ^= 0x01; // the lowest bit of the last weight: another checkpoint, the same .onnx file
  writeFileSync(join(late, DATA), data);
  assert.equal(readFileSync(join(early, 'model.onnx')), readFileSync(join(late, 'model.onnx')));

  const out = join(work, 'out');
  const result = await trajectory({
    canaries: CANARIES,
    series: [`run=100:${early},200:${late}`],
    out,
    provider: 'cpu',
  });
  const points = result.report.series[0]!.points;
  assert.equal(
    points.map((point) => [point.step, point.audit]),
    [
      [100, 'audited'],
      [200, 'audited'],
    ],
  );
  assert.is.not(points[0]!.modelFingerprint, points[1]!.modelFingerprint);

  // The early checkpoint's report as an older rote wrote it: the .onnx file and the vocabulary, no data file.
  const earlyReport = JSON.parse(
    await readFile(join(out, 'audits', 'run', '100', 'report.json'), 'utf8'),
  ) as AuditReport;
  const files = earlyReport.model.files.filter((file) => file.path !== DATA);
  assert.equal(
    files.map((file) => file.path),
    ['model.onnx', 'vocab.txt'],
  );
  const legacy: AuditReport = {
    ...earlyReport,
    model: {
      ...earlyReport.model,
      files,
      fingerprint: sha256Hex(files.map((file) => `${file.path} ${file.sha256}\n`).join('')),
    },
  };
  const legacyDir = join(work, 'legacy');
  await mkdir(legacyDir);
  await writeFile(join(legacyDir, 'report.json'), JSON.stringify(legacy));
  // Offered for the late checkpoint, whose .onnx file and vocabulary match it byte for byte: audited anyway.
  let transcribed = 0;
  const again = await trajectory({
    canaries: CANARIES,
    series: [`run=200:${late}`],
    out: join(work, 'out-again'),
    provider: 'cpu',
    reuseAudits: [legacyDir],
    onProgress: () => transcribed++,
  });
  assert.equal(
    again.report.series[0]!.points.map((point) => point.audit),
    ['audited'],
  );
  assert.ok(transcribed > 0);
  assert.is(again.report.series[0]!.points[0]!.modelFingerprint, points[1]!.modelFingerprint);
});

test.run();
