import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeValueInfo, readOnnxBytes, readOnnxFile, withMetadata } from '../../src/asr/index.ts';
import { RoteError } from '../../src/util/errors.ts';
import { MODELS, temporaryDirectory } from './helpers.ts';

test('reads sherpa-onnx metadata and declared inputs/outputs without loading weights', async () => {
  const facts = await readOnnxFile(join(MODELS, 'nemo-ctc', 'model.onnx'));
  assert.is(facts.metadata.vocab_size, '44');
  assert.is(facts.metadata.subsampling_factor, '4');
  assert.is(facts.metadata.normalize_type, 'per_feature');
  assert.equal(facts.inputs.map(describeValueInfo), ['audio_signal [B, 80, T] float32', 'length [B] int64']);
  assert.equal(facts.outputs.map(describeValueInfo), ['logprobs [B, T_out, 44] float32']);
  const decoder = await readOnnxFile(join(MODELS, 'transducer', 'decoder.onnx'));
  assert.equal(decoder.metadata, { vocab_size: '45', context_size: '2' });
});

test('withMetadata replaces metadata_props and keeps the rest byte for byte', async () => {
  const bytes = readFileSync(join(MODELS, 'sidecar-ctc', 'model.onnx'));
  const tagged = await withMetadata(bytes, { model_type: 'test', ключ: 'значение' });
  const facts = await readOnnxBytes(tagged);
  assert.equal(facts.metadata, { model_type: 'test', ключ: 'значение' });
  assert.equal(facts.inputs, (await readOnnxBytes(bytes)).inputs);
  const stripped = await withMetadata(tagged, {});
  assert.equal((await readOnnxBytes(stripped)).metadata, {});
  assert.is(stripped.length, bytes.length, 'the fixture has no metadata, so stripping restores its size');
});

test('a truncated or non-ONNX file is a RoteError naming the file', async () => {
  const { dir, remove } = temporaryDirectory('onnx');
  try {
    const bytes = readFileSync(join(MODELS, 'nemo-ctc', 'model.onnx'));
    const truncated = join(dir, 'truncated.onnx');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const text = join(dir, 'text.onnx');
    writeFileSync(text, 'this is not a model\n');
    for (const path of [truncated, text]) {
      const error = await readOnnxFile(path).then(
        () => null,
        (e: Error) => e,
      );
      assert.instance(error, RoteError);
      assert.match(error!.message, path);
      assert.match(error!.message, /not a readable ONNX model/);
    }
  } finally {
    remove();
  }
});

test.run();
