import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectModel, loadModel, transcribeFiles, withMetadata } from '../../src/asr/index.ts';
import { engineOf } from '../../src/asr/model.ts';
import { padFeatures } from '../../src/asr/batching.ts';
import { loadNemoTransducer } from '../../src/asr/families/nemo-transducer.ts';
import { loadSherpaNemoTransducer } from '../../src/asr/families/sherpa-nemo-transducer.ts';
import { gatherDirectoryFacts } from '../../src/asr/families/registry.ts';
import { RoteError } from '../../src/util/errors.ts';
import { MODELS, speechFixtures, temporaryDirectory } from './helpers.ts';

interface ParityCase {
  model: 'rnnt' | 'tdt';
  utterance: number;
  featureOffset: number;
  numFrames: number;
  numBins: number;
  encoderFrames: number;
  greedyTokens: number[];
  targets: number[];
  logLikelihood: number;
}

const PARITY = join(MODELS, 'transducer-parity');
const reference = JSON.parse(readFileSync(join(PARITY, 'reference.json'), 'utf8')) as { cases: ParityCase[] };
const bytes = readFileSync(join(PARITY, 'data.f32'));
const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => null,
    (e: Error) => e,
  );
  assert.ok(error, 'expected a failure');
  return error!;
}

function matrices(cases: ParityCase[]) {
  return cases.map((c) => ({
    data: data.subarray(c.featureOffset, c.featureOffset + c.numFrames * c.numBins),
    numFrames: c.numFrames,
    numBins: c.numBins,
  }));
}

test('detection: NeMo export layout, sherpa-onnx layout and TDT, each with its reasons', async () => {
  const expected = {
    'nemo-transducer': 'nemo-transducer',
    'sherpa-nemo-transducer': 'sherpa-nemo-transducer',
    'nemo-tdt': 'nemo-transducer',
  } as const;
  for (const [dir, family] of Object.entries(expected))
    assert.is((await detectModel(join(MODELS, dir))).family, family, dir);
  const because = (await detectModel(join(MODELS, 'sherpa-nemo-transducer'))).because.join(' ');
  assert.match(because, 'pred_rnn_layers=2');
});

for (const [dir, modelName] of [
  ['nemo-transducer', 'rnnt'],
  ['sherpa-nemo-transducer', 'rnnt'],
  ['nemo-tdt', 'tdt'],
] as const) {
  test(`${dir}: greedy tokens = the torch reference (NeMo's greedy search), batched and alone; teacher-forced score within 1e-4`, async () => {
    const cases = reference.cases.filter((c) => c.model === modelName);
    const model = await loadModel(join(MODELS, dir), { provider: 'cpu', threads: 1 });
    try {
      assert.equal(
        model.info.decoder,
        modelName === 'tdt' ? { kind: 'tdt', durations: [0, 1, 2, 3, 4] } : { kind: 'rnnt' },
      );
      const engine = engineOf(model);
      const batched = await engine.run(
        padFeatures(matrices(cases)),
        cases.map((c) => c.targets),
      );
      for (let i = 0; i < cases.length; i++) {
        const c = cases[i]!;
        assert.is(batched[i]!.outFrames, c.encoderFrames, `utterance ${i}: encoded length`);
        assert.equal(batched[i]!.tokenIds, c.greedyTokens, `utterance ${i}: tokens in a padded batch`);
        const [alone] = await engine.run(padFeatures(matrices([c])));
        assert.equal(alone!.tokenIds, c.greedyTokens, `utterance ${i}: tokens alone`);
        assert.is(alone!.forcedLogLikelihood ?? null, null, 'no targets, no score');
        const score = batched[i]!.forcedLogLikelihood!;
        const relative = Math.abs(score - c.logLikelihood) / Math.abs(c.logLikelihood);
        assert.ok(relative <= 1e-4, `utterance ${i}: ${score} vs reference ${c.logLikelihood} (relative ${relative})`);
      }
      assert.ok(
        cases.some((c) => c.greedyTokens.length >= 5),
        'the fixture emits tokens',
      );
    } finally {
      await model.close();
    }
  });
}

test('the cell-by-cell lattice (exports with fixed T/U axes) scores as the one-call lattice, in both layouts', async () => {
  const cases = reference.cases.filter((c) => c.model === 'rnnt');
  for (const dir of ['nemo-transducer', 'sherpa-nemo-transducer']) {
    const facts = await gatherDirectoryFacts(join(MODELS, dir));
    const split = dir.startsWith('sherpa');
    // The cell-by-cell path, as the layouts take it when an export fixes its T or U axis.
    const engine = await (split ? loadSherpaNemoTransducer : loadNemoTransducer)(
      facts,
      [],
      { provider: 'cpu', threads: 1 },
      true,
    );
    try {
      const outputs = await engine.run(
        padFeatures(matrices(cases)),
        cases.map((c) => c.targets),
      );
      cases.forEach((c, i) => {
        const relative = Math.abs(outputs[i]!.forcedLogLikelihood! - c.logLikelihood) / Math.abs(c.logLikelihood);
        assert.ok(relative <= 1e-4, `${dir} utterance ${i}: ${outputs[i]!.forcedLogLikelihood} vs ${c.logLikelihood}`);
      });
    } finally {
      await engine.close();
    }
  }
});

test('the two RNNT layouts (same weights) transcribe and score WAVs identically; references get a transducer score', async () => {
  const items = speechFixtures()
    .slice(0, 4)
    .map((s) => ({ id: s.id, path: s.path, reference: s.text }));
  const rows: Record<string, { hypothesis: string; score: number | null }[]> = {};
  for (const dir of ['nemo-transducer', 'sherpa-nemo-transducer']) {
    const model = await loadModel(join(MODELS, dir), { provider: 'cpu', threads: 1 });
    rows[dir] = [];
    for await (const row of transcribeFiles(model, items, { featureWorkers: 0 }))
      rows[dir]!.push({ hypothesis: row.hypothesis, score: row.referenceScore?.logLikelihood ?? null });
    await model.close();
  }
  const [nemo, sherpa] = [rows['nemo-transducer']!, rows['sherpa-nemo-transducer']!];
  assert.is(nemo.length, 4);
  for (let i = 0; i < nemo.length; i++) {
    assert.is(sherpa[i]!.hypothesis, nemo[i]!.hypothesis);
    assert.ok(
      nemo[i]!.score !== null && Number.isFinite(nemo[i]!.score) && nemo[i]!.score! < 0,
      `score ${nemo[i]!.score}`,
    );
    assert.ok(Math.abs(sherpa[i]!.score! - nemo[i]!.score!) <= 1e-4 * Math.abs(nemo[i]!.score!));
  }
  assert.ok(nemo.some((r) => r.hypothesis.length > 0));
});

test('nemo-transducer: vocab.txt or tokens.txt; a missing vocabulary or decoder_joint is named', async () => {
  const { dir, remove } = temporaryDirectory('nemo-rnnt');
  try {
    for (const name of ['encoder-model.onnx', 'decoder_joint-model.onnx'])
      copyFileSync(join(MODELS, 'nemo-transducer', name), join(dir, name));
    const missingVocab = await failure(detectModel(dir));
    assert.instance(missingVocab, RoteError);
    assert.match(missingVocab.message, /nemo-transducer .*missing tokens\.txt or vocab\.txt/);
    copyFileSync(join(MODELS, 'sherpa-nemo-transducer', 'tokens.txt'), join(dir, 'tokens.txt'));
    const model = await loadModel(dir, { provider: 'cpu', threads: 1 });
    assert.equal(model.info.vocabulary, { size: 44, blankId: 43, kind: 'sentencepiece' });
    await model.close();
    writeFileSync(join(dir, 'tokens.txt'), 'a 0\nb 1\n<blk> 2\n');
    assert.match(
      (await failure(loadModel(dir, { provider: 'cpu' }))).message,
      /tokens.txt: 3 tokens .*the joint outputs 44 values: 41 more than the tokens/,
    );

    const noJoint = temporaryDirectory('nemo-rnnt-encoder-only');
    try {
      copyFileSync(join(MODELS, 'nemo-transducer', 'encoder-model.onnx'), join(noJoint.dir, 'encoder-model.onnx'));
      copyFileSync(join(MODELS, 'nemo-transducer', 'vocab.txt'), join(noJoint.dir, 'vocab.txt'));
      assert.match(
        (await failure(detectModel(noJoint.dir))).message,
        /nemo-transducer .*missing a decoder_joint \.onnx/,
      );
    } finally {
      noJoint.remove();
    }
  } finally {
    remove();
  }
});

test('sherpa-nemo-transducer is not taken for a sherpa NeMo CTC model, and a wrong tokens.txt is named', async () => {
  const { dir, remove } = temporaryDirectory('sherpa-rnnt');
  try {
    for (const name of ['encoder.onnx', 'decoder.onnx', 'joiner.onnx'])
      copyFileSync(join(MODELS, 'sherpa-nemo-transducer', name), join(dir, name));
    const noTokens = await failure(detectModel(dir));
    assert.match(noTokens.message, /sherpa-nemo-transducer .*missing tokens\.txt/);
    assert.not.match(noTokens.message, /ambiguous/);
    writeFileSync(join(dir, 'tokens.txt'), 'a 0\n<blk> 1\n');
    assert.is((await detectModel(dir)).family, 'sherpa-nemo-transducer');
    assert.match(
      (await failure(loadModel(dir, { provider: 'cpu' }))).message,
      /2 tokens but .*vocab_size=43 \(\+ 1 blank\)/,
    );
    // the encoder without its transducer metadata and no decoder/joiner: not a CTC model either
    writeFileSync(
      join(dir, 'encoder.onnx'),
      await withMetadata(readFileSync(join(MODELS, 'sherpa-nemo-transducer', 'encoder.onnx')), {
        vocab_size: '43',
        subsampling_factor: '4',
      }),
    );
    copyFileSync(join(MODELS, 'sherpa-nemo-transducer', 'tokens.txt'), join(dir, 'tokens.txt'));
    assert.is((await detectModel(dir)).family, 'sherpa-nemo-transducer');
  } finally {
    remove();
  }
});

test('hybrid RNNT-CTC with both heads (NeMo and sherpa-onnx layouts): the transducer by default, --head ctc for the CTC head', async () => {
  const { dir, remove } = temporaryDirectory('hybrid');
  try {
    for (const name of ['encoder-model.onnx', 'decoder_joint-model.onnx', 'vocab.txt'])
      copyFileSync(join(MODELS, 'nemo-transducer', name), join(dir, name));
    writeFileSync(
      join(dir, 'model.onnx'),
      await withMetadata(readFileSync(join(MODELS, 'nemo-ctc', 'model.onnx')), {}),
    );
    const detected = await detectModel(dir);
    assert.is(detected.family, 'nemo-transducer');
    assert.match(
      detected.because[0]!,
      'hybrid RNNT-CTC: both heads are exported (nemo-ctc and nemo-transducer); using the transducer head (default; --head ctc uses the other)',
    );
    assert.is((await detectModel(dir, { head: 'ctc' })).family, 'nemo-ctc');
    const items = speechFixtures()
      .slice(0, 2)
      .map((s) => ({ id: s.id, path: s.path, reference: s.text }));
    for (const head of ['ctc', 'transducer'] as const) {
      const model = await loadModel(dir, { provider: 'cpu', threads: 1, head });
      assert.is(model.info.isCtc, head === 'ctc');
      assert.match(
        model.info.detectedBecause.join(' '),
        `using the ${head === 'ctc' ? 'CTC' : 'transducer'} head (--head)`,
      );
      for await (const row of transcribeFiles(model, items, { featureWorkers: 0 }))
        assert.ok(row.referenceScore && row.referenceScore.logLikelihood < 0, `${head}: scored`);
      await model.close();
    }
  } finally {
    remove();
  }
  const sherpa = temporaryDirectory('hybrid-sherpa');
  try {
    for (const name of ['encoder.onnx', 'decoder.onnx', 'joiner.onnx', 'tokens.txt'])
      copyFileSync(join(MODELS, 'sherpa-nemo-transducer', name), join(sherpa.dir, name));
    copyFileSync(join(MODELS, 'nemo-ctc', 'model.onnx'), join(sherpa.dir, 'model.onnx'));
    assert.is((await detectModel(sherpa.dir)).family, 'sherpa-nemo-transducer');
    assert.is((await detectModel(sherpa.dir, { head: 'ctc' })).family, 'sherpa-nemo-ctc');
  } finally {
    sherpa.remove();
  }
  // --head names what is missing on a single-head model
  assert.match(
    (await failure(detectModel(join(MODELS, 'nemo-transducer'), { head: 'ctc' }))).message,
    /--head ctc: this model \(nemo-transducer\) has no CTC head/,
  );
  assert.match(
    (await failure(detectModel(join(MODELS, 'nemo-ctc'), { head: 'transducer' }))).message,
    /has no transducer head/,
  );
});

test.run();
