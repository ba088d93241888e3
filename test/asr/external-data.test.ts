/**
 * Models whose weights lie outside the .onnx file (ONNX external data, as large exports are saved):
 * test/fixtures/models/external-data holds nemo-ctc-128 and whisper-optimum-merged re-saved that way
 * (scripts/models/make_external_data_models.py). They must transcribe and score exactly as the
 * originals, their fingerprints must cover the data files, a missing, short or outside data file is
 * refused naming the model file and the data file, and inspect-model lists the data files.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { externalDataStatus, loadModel, readOnnxBytes, readOnnxFile, transcribeFiles } from '../../src/asr/index.ts';
import { modelRecord } from '../../src/audit/pipeline/audit.ts';
import { RoteError } from '../../src/util/errors.ts';
import { protoField } from '../../src/util/protobuf.ts';
import { MODELS, speechFixtures, temporaryDirectory } from './helpers.ts';

const EXTERNAL = join(MODELS, 'external-data');
const ROTE = fileURLToPath(new URL('../../bin/rote.js', import.meta.url));
const CTC_DATA = 'model.onnx.data';

async function transcribeDir(dir: string) {
  const model = await loadModel(dir, { provider: 'cpu', threads: 1 });
  try {
    const items = speechFixtures()
      .slice(0, 4)
      .map((s) => ({ id: s.id, path: s.path, reference: s.text }));
    const rows = [];
    for await (const row of transcribeFiles(model, items, { featureWorkers: 0 })) rows.push(row);
    // Rows come as their batches finish: compared in the order of the items.
    rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { info: model.info, rows };
  } finally {
    await model.close();
  }
}

async function refusal(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => null,
    (e: Error) => e,
  );
  assert.instance(error, RoteError);
  return error!;
}

test("readOnnxFile lists the data files, with every tensor: initializers, and those inside the merged decoder's If branches", async () => {
  const ctc = await readOnnxFile(join(EXTERNAL, 'nemo-ctc-128', 'model.onnx'));
  assert.equal(ctc.externalData, [
    { location: CTC_DATA, tensors: 28, minBytes: readFileSync(join(EXTERNAL, 'nemo-ctc-128', CTC_DATA)).length },
  ]);
  const decoder = await readOnnxFile(join(EXTERNAL, 'whisper-optimum-merged', 'decoder_model_merged.onnx'));
  // Optimum's merged decoder has no top-level initializer: all 45 sit in the subgraphs of its If node.
  assert.equal(
    decoder.externalData.map((file) => [file.location, file.tensors]),
    [['decoder_model_merged.onnx_data', 45]],
  );
  // The same model with its weights inside names no data file, and declares the same inputs and outputs.
  const original = await readOnnxFile(join(MODELS, 'whisper-optimum-merged', 'decoder_model_merged.onnx'));
  assert.equal(original.externalData, []);
  assert.equal(decoder.inputs, original.inputs);
  assert.equal(decoder.outputs, original.outputs);
});

/** A TensorProto whose data lies in `location` (data_location 14 = EXTERNAL 1, external_data 13 entries). */
function externalTensor(name: string, entries: Record<string, string>): number[] {
  return [
    ...protoField(8, name),
    ...Object.entries(entries).flatMap(([key, value]) =>
      protoField(13, [...protoField(1, key), ...protoField(2, value)]),
    ),
    ...protoField(14, 1),
  ];
}

test('every place onnx keeps tensors is searched: initializers, subgraphs, node attributes, sparse initializers, functions', async () => {
  const inline = [...protoField(8, 'inline'), ...protoField(9, [1, 2, 3, 4]), ...protoField(14, 0)];
  const graph = [
    ...protoField(5, externalTensor('a', { location: 'w/a.bin', offset: '4096', length: '16' })),
    ...protoField(5, externalTensor('b', { location: 'w/a.bin', offset: '0', length: '8' })),
    ...protoField(5, inline),
    // a node whose attribute holds a subgraph (If/Loop bodies) with an initializer, and one holding a tensor
    ...protoField(1, protoField(5, protoField(6, protoField(5, externalTensor('sub', { location: 'sub.bin' }))))),
    ...protoField(1, protoField(5, protoField(5, externalTensor('const', { location: 'const.bin', length: '4' })))),
    // a sparse initializer's values
    ...protoField(15, protoField(1, externalTensor('sparse', { location: 'sparse.bin', offset: '8', length: '8' }))),
  ];
  const func = protoField(7, protoField(5, protoField(10, externalTensor('fn', { location: 'fn.bin' }))));
  const model = Uint8Array.from([...protoField(1, 8), ...protoField(7, graph), ...protoField(25, func)]);
  const facts = await readOnnxBytes(model, 'hand-made.onnx');
  assert.equal(facts.externalData, [
    { location: 'w/a.bin', tensors: 2, minBytes: 4112 },
    { location: 'sub.bin', tensors: 1, minBytes: 0 },
    { location: 'const.bin', tensors: 1, minBytes: 4 },
    { location: 'sparse.bin', tensors: 1, minBytes: 16 },
    { location: 'fn.bin', tensors: 1, minBytes: 0 },
  ]);
  const bad = Uint8Array.from([
    ...protoField(1, 8),
    ...protoField(7, protoField(5, externalTensor('w', { location: 'w.bin', offset: '-5' }))),
  ]);
  const error = await refusal(readOnnxBytes(bad, 'bad.onnx'));
  assert.match(error.message, 'bad.onnx: not a readable ONNX model (tensor "w" has external data offset "-5"');
  const nowhere = Uint8Array.from([...protoField(1, 8), ...protoField(7, protoField(5, externalTensor('w', {})))]);
  assert.match(
    (await refusal(readOnnxBytes(nowhere, 'n.onnx'))).message,
    'tensor "w" is stored as external data but names no location',
  );
});

for (const name of ['nemo-ctc-128', 'whisper-optimum-merged']) {
  test(`${name} with external data: the same transcripts and scores as with its weights inside, and the data files fingerprinted`, async () => {
    for (const file of readdirSync(join(EXTERNAL, name)).filter((f) => !/\.onnx([._]data)?$/.test(f)))
      assert.ok(
        readFileSync(join(EXTERNAL, name, file)).equals(readFileSync(join(MODELS, name, file))),
        `${name}/${file} differs from the original's: rerun scripts/models/make_external_data_models.py`,
      );
    const external = await transcribeDir(join(EXTERNAL, name));
    const inside = await transcribeDir(join(MODELS, name));
    assert.ok(
      inside.rows.some((row) => row.hypothesis.length > 0 && row.referenceScore !== null),
      'the original transcribes and scores',
    );
    const strip = (rows: typeof inside.rows) => rows.map(({ path: _path, ...row }) => row);
    assert.equal(strip(external.rows), strip(inside.rows));
    const dataFiles = external.info.files.map((file) => file.path).filter((path) => /\.onnx[._]data$/.test(path));
    const onnxFiles = external.info.files.filter((file) => file.path.endsWith('.onnx'));
    assert.is(dataFiles.length, onnxFiles.length, JSON.stringify(external.info.files));
    const sha = (path: string) => external.info.files.find((file) => file.path === path)!.sha256;
    for (const path of dataFiles) assert.match(sha(path), /^[0-9a-f]{64}$/);
  });
}

test('the fingerprint changes when one byte of the data file changes, and only the data file differs', async () => {
  const { dir, remove } = temporaryDirectory('external-fingerprint');
  try {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    cpSync(join(EXTERNAL, 'nemo-ctc-128'), a, { recursive: true });
    cpSync(join(EXTERNAL, 'nemo-ctc-128'), b, { recursive: true });
    const data = readFileSync(join(b, CTC_DATA));
    data[data.length - 1] ^= 0x01; // the lowest bit of the last weight
    writeFileSync(join(b, CTC_DATA), data);
    const recordOf = async (folder: string) => {
      const model = await loadModel(folder, { provider: 'cpu', threads: 1 });
      await model.close();
      return modelRecord(model.info, folder);
    };
    const [first, second] = [await recordOf(a), await recordOf(b)];
    assert.equal(
      first.files.map((file) => file.path),
      ['model.onnx', CTC_DATA, 'vocab.txt'],
    );
    assert.is.not(first.fingerprint, second.fingerprint);
    assert.equal(
      first.files.filter((file, i) => file.sha256 !== second.files[i]!.sha256).map((file) => file.path),
      [CTC_DATA],
    );
  } finally {
    remove();
  }
});

test('a missing, short or outside data file is refused before ONNX Runtime, naming the model file and the data file', async () => {
  const { dir, remove } = temporaryDirectory('external-missing');
  try {
    const model = join(dir, 'model.onnx');
    const data = join(dir, CTC_DATA);
    cpSync(join(EXTERNAL, 'nemo-ctc-128'), dir, { recursive: true });
    rmSync(data);
    let error = await refusal(loadModel(dir, { provider: 'cpu' }));
    assert.ok(error.message.startsWith(`${model}: keeps the data of 28 tensors in "${CTC_DATA}"`), error.message);
    assert.match(error.message, `${data} is missing (ENOENT)`);
    assert.not.match(error.message, 'ONNX Runtime');

    copyFileSync(join(EXTERNAL, 'nemo-ctc-128', CTC_DATA), data);
    truncateSync(data, 1000);
    error = await refusal(loadModel(dir, { provider: 'cpu' }));
    assert.match(error.message, `${data}: 1000 bytes, but ${model} reads tensor data up to byte`);
    assert.match(error.message, 'incomplete');

    // The same model pointing one folder up (a location of the same length, so the protobuf stays valid).
    const outside = '../model.o.data';
    assert.is(outside.length, CTC_DATA.length);
    const bytes = readFileSync(join(EXTERNAL, 'nemo-ctc-128', 'model.onnx'));
    writeFileSync(model, Buffer.from(bytes.toString('latin1').split(CTC_DATA).join(outside), 'latin1'));
    assert.equal(
      (await readOnnxFile(model)).externalData.map((file) => file.location),
      [outside],
    );
    error = await refusal(loadModel(dir, { provider: 'cpu' }));
    assert.match(
      error.message,
      `${model}: keeps the data of 28 tensors in "${outside}", which is not a path inside the model's folder`,
    );
    const [status] = await externalDataStatus(await readOnnxFile(model));
    assert.is(status!.path, null);
  } finally {
    remove();
  }
});

test('inspect-model lists each data file with its size and sha256, and says which one is missing', async () => {
  const run = promisify(execFile);
  const { stdout } = await run(process.execPath, [ROTE, 'inspect-model', join(EXTERNAL, 'whisper-optimum-merged')]);
  const encoderData = join(EXTERNAL, 'whisper-optimum-merged', 'encoder_model.onnx_data');
  assert.match(
    stdout,
    `    external data: encoder_model.onnx_data (18 tensors, ${readFileSync(encoderData).length} bytes)`,
  );
  assert.match(stdout, /external data: decoder_model_merged\.onnx_data \(45 tensors, \d+ bytes\)/);
  assert.match(stdout, new RegExp(`[0-9a-f]{64}  ${encoderData.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
  const { dir, remove } = temporaryDirectory('external-inspect');
  try {
    cpSync(join(EXTERNAL, 'nemo-ctc-128'), dir, { recursive: true });
    rmSync(join(dir, CTC_DATA));
    const listed = await run(process.execPath, [ROTE, 'inspect-model', dir, '--no-load', '--json']);
    const report = JSON.parse(listed.stdout) as {
      files: { path: string; externalData: { location: string; bytes: number | null; problem: string | null }[] }[];
    };
    const [file] = report.files;
    assert.is(file!.externalData[0]!.location, CTC_DATA);
    assert.is(file!.externalData[0]!.bytes, null);
    assert.match(file!.externalData[0]!.problem!, `${join(dir, CTC_DATA)} is missing`);
    const loading = await run(process.execPath, [ROTE, 'inspect-model', dir]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    assert.is(loading!.code, 2);
    assert.match(loading!.stderr, `${join(dir, 'model.onnx')}: keeps the data of 28 tensors in "${CTC_DATA}"`);
  } finally {
    remove();
  }
});

test.run();
