import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectModel, loadModel, transcribeFiles, withMetadata } from '../../src/asr/index.ts';
import { RoteError } from '../../src/util/errors.ts';
import { MODELS, speechFixtures, temporaryDirectory } from './helpers.ts';
import { readOnnxFile } from '../../src/asr/onnx-file.ts';
import { modelMelBins } from '../../src/asr/families/common.ts';

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => null,
    (e: Error) => e,
  );
  assert.ok(error, 'expected a failure');
  return error!;
}

/** NeMo vocab.txt from a sherpa tokens.txt (drop the blank, "▁x" -> "x", "y" -> "##y"). */
function nemoVocabTxt(tokens: string): string {
  return tokens
    .trim()
    .split('\n')
    .map((line) => line.slice(0, line.lastIndexOf(' ')))
    .filter((piece) => piece !== '<blk>')
    .map((piece) =>
      piece.startsWith('<') ? piece : piece.startsWith('\u2581') ? piece.slice(1) || '\u2581' : `##${piece}`,
    )
    .join('\n');
}

test('each fixture directory is detected as its family, with reasons', async () => {
  const expected = {
    'nemo-ctc': 'sherpa-nemo-ctc',
    transducer: 'sherpa-transducer',
    'sidecar-ctc': 'sidecar-ctc',
  } as const;
  for (const [dir, family] of Object.entries(expected)) {
    const detected = await detectModel(join(MODELS, dir));
    assert.is(detected.family, family, dir);
    assert.ok(detected.because.length >= 1);
  }
  const because = (await detectModel(join(MODELS, 'nemo-ctc'))).because.join(' ');
  assert.match(because, 'subsampling_factor=4');
  assert.match(because, 'tokens.txt');
});

test('loadModel: info for each family (frontend, vocabulary, subsampling, files)', async () => {
  const ctc = await loadModel(join(MODELS, 'nemo-ctc'), { provider: 'cpu', threads: 1 });
  assert.is(ctc.info.isCtc, true);
  assert.equal(ctc.info.frontend, { type: 'nemo-mel', numBins: 80, normalize: 'per_feature' });
  assert.equal(ctc.info.vocabulary, { size: 44, blankId: 43, kind: 'sentencepiece' });
  assert.is(ctc.info.subsampling, 4);
  assert.equal(
    ctc.info.files.map((f) => f.sha256.length),
    [64, 64],
  );
  await ctc.close();
  const sherpaLike = await loadModel(join(MODELS, 'nemo-ctc'), { provider: 'cpu', threads: 1, sherpaCompatible: true });
  assert.is(sherpaLike.info.frontend.type, 'sherpa-nemo-mel');
  await sherpaLike.close();
  const transducer = await loadModel(join(MODELS, 'transducer'), { provider: 'cpu', threads: 1 });
  assert.is(transducer.info.isCtc, false);
  assert.equal(transducer.info.vocabulary, { size: 45, blankId: 0, kind: 'sentencepiece' });
  assert.is(transducer.info.frontend.type, 'kaldi-fbank');
  await transducer.close();
  const sidecar = await loadModel(join(MODELS, 'sidecar-ctc'), { provider: 'cpu', threads: 1 });
  assert.equal(sidecar.info.vocabulary, { size: 29, blankId: 0, kind: 'characters' });
  await sidecar.close();
});

test('a plain NeMo export (no metadata, vocab.txt) is nemo-ctc; subsampling found by a probe run', async () => {
  const { dir, remove } = temporaryDirectory('plain');
  try {
    writeFileSync(
      join(dir, 'model.onnx'),
      await withMetadata(readFileSync(join(MODELS, 'nemo-ctc', 'model.onnx')), {}),
    );
    writeFileSync(join(dir, 'vocab.txt'), nemoVocabTxt(readFileSync(join(MODELS, 'nemo-ctc', 'tokens.txt'), 'utf8')));
    assert.is((await detectModel(dir)).family, 'nemo-ctc');
    const model = await loadModel(dir, { provider: 'cpu', threads: 1 });
    assert.is(model.info.subsampling, 4);
    assert.equal(model.info.vocabulary, { size: 44, blankId: 43, kind: 'sentencepiece' });
    assert.match(model.info.detectedBecause.join(' '), /probe run turned 256 input frames into 64/);
    await model.close();
  } finally {
    remove();
  }
});

test('mel bins from the declared audio_signal shape (128-bin model) and output lengths from its encoded_lengths output', async () => {
  assert.is((await detectModel(join(MODELS, 'nemo-ctc-128'))).family, 'nemo-ctc');
  const model = await loadModel(join(MODELS, 'nemo-ctc-128'), { provider: 'cpu', threads: 1 });
  try {
    assert.equal(model.info.frontend, { type: 'nemo-mel', numBins: 128 });
    const because = model.info.detectedBecause.join(' ');
    assert.match(because, '128 mel bins (declared audio_signal shape)');
    assert.match(because, "output frames per utterance from the model's encoded_lengths output");
    const items = speechFixtures()
      .slice(0, 3)
      .map((s) => ({ id: s.id, path: s.path, reference: s.text }));
    const rows = [];
    for await (const row of transcribeFiles(model, items, { featureWorkers: 0 })) rows.push(row);
    assert.ok(
      rows.some((r) => r.hypothesis.length > 0),
      'the 128-bin model transcribes',
    );
    assert.ok(rows.every((r) => r.referenceScore !== null && r.referenceScore.logLikelihood < 0));
  } finally {
    await model.close();
  }
  // metadata feat_dim that contradicts the declared shape is refused, naming both
  const { dir, remove } = temporaryDirectory('feat-dim');
  try {
    writeFileSync(
      join(dir, 'model.onnx'),
      await withMetadata(readFileSync(join(MODELS, 'nemo-ctc', 'model.onnx')), {
        vocab_size: '44',
        subsampling_factor: '4',
        feat_dim: '128',
      }),
    );
    copyFileSync(join(MODELS, 'nemo-ctc', 'tokens.txt'), join(dir, 'tokens.txt'));
    assert.match(
      (await failure(loadModel(dir, { provider: 'cpu' }))).message,
      /metadata feat_dim=128 but the input audio_signal .* declares 80 feature bins/,
    );
  } finally {
    remove();
  }
});

test('sherpa NeMo CTC from a hybrid model: vocab_size without the blank, tokens.txt with <blk> last', async () => {
  const { dir, remove } = temporaryDirectory('hybrid-ctc');
  try {
    writeFileSync(
      join(dir, 'model.onnx'),
      await withMetadata(readFileSync(join(MODELS, 'nemo-ctc', 'model.onnx')), {
        vocab_size: '43',
        subsampling_factor: '4',
        normalize_type: 'per_feature',
        model_type: 'EncDecHybridRNNTCTCBPEModel',
      }),
    );
    copyFileSync(join(MODELS, 'nemo-ctc', 'tokens.txt'), join(dir, 'tokens.txt'));
    const model = await loadModel(dir, { provider: 'cpu', threads: 1 });
    assert.equal(model.info.vocabulary, { size: 44, blankId: 43, kind: 'sentencepiece' });
    assert.match(model.info.detectedBecause.join(' '), 'vocab_size=43 counts no blank');
    await model.close();
    writeFileSync(
      join(dir, 'tokens.txt'),
      readFileSync(join(MODELS, 'nemo-ctc', 'tokens.txt'), 'utf8').replace('<blk>', '<eps>'),
    );
    assert.match((await failure(loadModel(dir, { provider: 'cpu' }))).message, /44 tokens but .*vocab_size=43/);
  } finally {
    remove();
  }
});

test('unknown layout: the error lists what each family needs and the sidecar', async () => {
  const { dir, remove } = temporaryDirectory('unknown');
  try {
    writeFileSync(
      join(dir, 'model.onnx'),
      await withMetadata(readFileSync(join(MODELS, 'sidecar-ctc', 'model.onnx')), {}),
    );
    const error = await failure(detectModel(dir));
    assert.instance(error, RoteError);
    assert.match(error.message, 'unknown model layout');
    assert.match(error.message, 'inputs: feats, feats_len');
    assert.match(error.message, 'sherpa-nemo-ctc');
    assert.match(error.message, 'metadata vocab_size + subsampling_factor (not a transducer encoder)');
    assert.match(error.message, 'write rote-model.json');
  } finally {
    remove();
  }
});

test('missing tokens file, wrong vocabulary size, bad sidecar field: clear errors', async () => {
  const { dir, remove } = temporaryDirectory('bad');
  try {
    copyFileSync(join(MODELS, 'transducer', 'encoder.onnx'), join(dir, 'encoder.onnx'));
    copyFileSync(join(MODELS, 'transducer', 'decoder.onnx'), join(dir, 'decoder.onnx'));
    copyFileSync(join(MODELS, 'transducer', 'joiner.onnx'), join(dir, 'joiner.onnx'));
    assert.match((await failure(detectModel(dir))).message, /sherpa-transducer .*missing tokens\.txt/);
    writeFileSync(join(dir, 'tokens.txt'), '<blk> 0\na 1\n');
    assert.match((await failure(loadModel(dir, { provider: 'cpu' }))).message, /2 tokens but .*vocab_size=45/);

    const sidecarDir = temporaryDirectory('sidecar');
    try {
      copyFileSync(join(MODELS, 'sidecar-ctc', 'model.onnx'), join(sidecarDir.dir, 'model.onnx'));
      copyFileSync(join(MODELS, 'sidecar-ctc', 'chars.txt'), join(sidecarDir.dir, 'chars.txt'));
      const spec = JSON.parse(readFileSync(join(MODELS, 'sidecar-ctc', 'rote-model.json'), 'utf8'));
      writeFileSync(join(sidecarDir.dir, 'rote-model.json'), JSON.stringify({ ...spec, blankId: -1 }));
      assert.match(
        (await failure(detectModel(sidecarDir.dir))).message,
        /rote-model\.json: field "blankId" is -1; expected the blank token id/,
      );
      // model input mismatch: the sidecar claims a 64-bin frontend
      writeFileSync(
        join(sidecarDir.dir, 'rote-model.json'),
        JSON.stringify({ ...spec, frontend: { type: 'kaldi-fbank', numBins: 64 } }),
      );
      const mismatch = await failure(loadModel(sidecarDir.dir, { provider: 'cpu' }));
      assert.match(mismatch.message, 'model input mismatch');
      assert.match(mismatch.message, 'the model wants 80 feature bins, the frontend makes 64');
      assert.match(mismatch.message, 'rote feeds feats [B, T, 64] float32');
      assert.match(mismatch.message, 'the model declares feats [B, T, 80] float32');
      // and the wrong layout
      writeFileSync(
        join(sidecarDir.dir, 'rote-model.json'),
        JSON.stringify({ ...spec, inputs: { ...spec.inputs, layout: 'BFT' } }),
      );
      assert.match(
        (await failure(loadModel(sidecarDir.dir, { provider: 'cpu' }))).message,
        /model input mismatch .*feats \[B, 80, T\]/,
      );
      unlinkSync(join(sidecarDir.dir, 'chars.txt'));
      writeFileSync(join(sidecarDir.dir, 'rote-model.json'), JSON.stringify(spec));
      assert.match((await failure(detectModel(sidecarDir.dir))).message, /names files that are not in .*chars\.txt/);
    } finally {
      sidecarDir.remove();
    }
  } finally {
    remove();
  }
});

test('sidecar sizes are bounded: numBins 1e8 (7 GB of mel banks), a huge frame or subsampling, named by file and field', async () => {
  const sidecarDir = temporaryDirectory('sidecar-bounds');
  try {
    copyFileSync(join(MODELS, 'sidecar-ctc', 'model.onnx'), join(sidecarDir.dir, 'model.onnx'));
    copyFileSync(join(MODELS, 'sidecar-ctc', 'chars.txt'), join(sidecarDir.dir, 'chars.txt'));
    const spec = JSON.parse(readFileSync(join(MODELS, 'sidecar-ctc', 'rote-model.json'), 'utf8'));
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { frontend: { type: 'kaldi-fbank', numBins: 1e8 } },
        /field "frontend\.numBins" is 100000000; expected a positive number of mel bins up to 1024/,
      ],
      [
        { frontend: { type: 'kaldi-fbank', frameLengthMs: 1e9 } },
        /field "frontend\.frameLengthMs" is 1000000000; expected .* up to 1000/,
      ],
      [{ frontend: { type: 'nemo-mel', nFft: 2 ** 30 } }, /field "frontend\.nFft" is 1073741824/],
      [{ frontend: { type: 'kaldi-fbank', sampleRate: 1e12 } }, /field "frontend\.sampleRate"/],
      [{ subsampling: 1e9 }, /field "subsampling" is 1000000000; expected .* from 1 to 1024/],
      [{ blankId: 1e12 }, /field "blankId" is 1000000000000/],
    ];
    for (const [change, expected] of cases) {
      writeFileSync(join(sidecarDir.dir, 'rote-model.json'), JSON.stringify({ ...spec, ...change }));
      const message = (await failure(detectModel(sidecarDir.dir))).message;
      assert.match(message, /rote-model\.json: /);
      assert.match(message, expected);
    }
  } finally {
    sidecarDir.remove();
  }
});

test('a model declaring (or feat_dim asking for) 1e8 mel bins is refused naming the file, before a frontend allocates them', async () => {
  const facts = await readOnnxFile(join(MODELS, 'nemo-ctc', 'model.onnx'));
  assert.is(modelMelBins(facts, 'audio_signal', 1).numBins, 80);
  const withBinAxis = (value: number | null) => ({
    ...facts,
    inputs: facts.inputs.map((input) =>
      input.name === 'audio_signal'
        ? { ...input, shape: input.shape!.map((dim, axis) => (axis === 1 ? { ...dim, value } : dim)) }
        : input,
    ),
  });
  assert.throws(
    () => modelMelBins(withBinAxis(1e8), 'audio_signal', 1),
    /model\.onnx: the input audio_signal.* declares 100000000 feature bins, more than the 1024 any frontend computes/,
  );
  assert.throws(
    () => modelMelBins({ ...withBinAxis(null), metadata: { feat_dim: '100000000' } }, 'audio_signal', 1),
    /model\.onnx: metadata feat_dim asks for 100000000 feature bins/,
  );
});

test('provider fallback: auto runs on cpu and says why cuda and webgpu did not; explicit cuda names the fix', async () => {
  const model = await loadModel(join(MODELS, 'sidecar-ctc'), { provider: 'auto', threads: 1 });
  assert.is(model.provider.used, 'cpu');
  assert.equal(
    model.provider.tried.map((t) => t.name),
    ['cuda', 'webgpu', 'cpu'],
  );
  const cuda = model.provider.tried[0]!;
  const webgpu = model.provider.tried[1]!;
  assert.ok(cuda.error && cuda.error.length > 10, `cuda reason: ${cuda.error}`);
  assert.ok(webgpu.error && webgpu.error.length > 10, `webgpu reason: ${webgpu.error}`);
  assert.is(model.provider.tried[2]!.error, undefined);
  await model.close();
  const error = await failure(loadModel(join(MODELS, 'sidecar-ctc'), { provider: 'cuda' }));
  assert.instance(error, RoteError);
  assert.match(error.message, 'provider cuda is not available');
  assert.match(error.message, 'npm run setup:cuda');
});

test.run();
