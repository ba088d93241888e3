import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { relative, resolve } from 'node:path';
import { modelRecord } from '../../src/audit/pipeline/audit.ts';
import { loadModel } from '../../src/asr/model.ts';
import { modelScoreLabel } from '../../src/audit/report/score.ts';

async function infoOf(dir: string) {
  const model = await loadModel(dir, { provider: 'cpu' });
  await model.close();
  return model.info;
}

const MODEL = 'test/fixtures/models/sidecar-ctc';

test('modelRecord: the same model folder written relative or absolute gives the same fingerprint (a resumed audit from another directory keeps its rows)', async () => {
  const fromRelative = modelRecord(await infoOf(MODEL), MODEL);
  const fromAbsolute = modelRecord(await infoOf(resolve(MODEL)), resolve(MODEL));
  const fromElsewhere = relative(resolve('test'), resolve(MODEL));
  process.chdir('test');
  try {
    const fromOtherCwd = modelRecord(await infoOf(fromElsewhere), fromElsewhere);
    assert.is(fromOtherCwd.fingerprint, fromRelative.fingerprint);
  } finally {
    process.chdir('..');
  }
  assert.is(fromAbsolute.fingerprint, fromRelative.fingerprint);
  assert.equal(
    fromRelative.files.map((file) => file.path),
    fromAbsolute.files.map((file) => file.path),
  );
  assert.ok(
    fromRelative.files.every((file) => !file.path.includes('/')),
    JSON.stringify(fromRelative.files),
  );
});

test('the model score is named after the model: CTC, RNNT, TDT or (icefall stateless) transducer', async () => {
  const named = async (dir: string) => {
    const record = modelRecord(await infoOf(dir), dir);
    return [record.scoreKind, modelScoreLabel(record)];
  };
  assert.equal(await named(MODEL), ['ctc', 'CTC score']);
  assert.equal(await named('test/fixtures/models/nemo-transducer'), ['rnnt', 'RNNT score']);
  assert.equal(await named('test/fixtures/models/nemo-tdt'), ['tdt', 'TDT score']);
  assert.equal(await named('test/fixtures/models/sherpa-nemo-transducer'), ['rnnt', 'RNNT score']);
  assert.equal(await named('test/fixtures/models/transducer'), ['transducer', 'transducer score']);
  // Reports of older rotes have no scoreKind: named from isCtc.
  assert.is(modelScoreLabel({ isCtc: false }), 'transducer score');
  assert.is(modelScoreLabel({ isCtc: true }), 'CTC score');
});

test.run();
