import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFrontend, resample, type FrontendSpec } from '../../src/audio/index.ts';
import {
  loadModel,
  transcribeFiles,
  type AsrModel,
  type TranscribeItem,
  type TranscribeOptions,
  type TranscribeStats,
  type TranscriptionRow,
} from '../../src/asr/index.ts';
import { extractFeatures } from '../../src/asr/feature-extract.ts';
import { defaultFeatureWorkers, FeaturePool } from '../../src/asr/feature-pool.ts';
import { RoteError } from '../../src/util/errors.ts';
import { encodeWav16, readWav } from '../../src/audio/wav.ts';
import { MODELS, speechFixtures, temporaryDirectory } from './helpers.ts';

const FAMILY_DIRS = ['nemo-ctc', 'transducer', 'sidecar-ctc'];
const SPEECH = speechFixtures().slice(0, 12);

async function rowsInOrder(
  model: AsrModel,
  items: TranscribeItem[],
  options: TranscribeOptions,
): Promise<TranscriptionRow[]> {
  const rows: TranscriptionRow[] = [];
  for await (const row of transcribeFiles(model, items, options)) rows.push(row);
  return rows;
}

test('defaultFeatureWorkers: none on cpu, cores - 1 (at most 8) on a GPU', () => {
  assert.is(defaultFeatureWorkers('cpu', 16), 0);
  assert.is(defaultFeatureWorkers('cuda', 16), 8);
  assert.is(defaultFeatureWorkers('webgpu', 4), 3);
  assert.is(defaultFeatureWorkers('cuda', 1), 0);
});

test("FeaturePool: features bit for bit equal to the main thread's, for every frontend, resampled audio included", async () => {
  const { dir, remove } = temporaryDirectory('feature-pool');
  try {
    const source = await readWav(SPEECH[0]!.path);
    const resampled = join(dir, 'rate22050.wav');
    writeFileSync(resampled, encodeWav16(resample(source.samples, 16000, 22050), 22050));
    const paths = [...SPEECH.slice(0, 4).map((s) => s.path), resampled];
    const specs: FrontendSpec[] = [
      { type: 'nemo-mel' },
      { type: 'kaldi-fbank', numBins: 80 },
      { type: 'sherpa-nemo-mel' },
      { type: 'nemo-mel', dither: 1e-5 },
    ];
    for (const spec of specs) {
      const frontend = createFrontend(spec);
      const pool = await FeaturePool.start(spec, 2);
      try {
        assert.is(pool.size, 2);
        const pooled = await Promise.all(paths.map((path) => pool.extract(path)));
        for (let i = 0; i < paths.length; i++) {
          const inline = await extractFeatures(frontend, paths[i]!);
          const label = `${spec.type} ${JSON.stringify(spec)} ${paths[i]}`;
          assert.is(pooled[i]!.matrix.numFrames, inline.matrix.numFrames, label);
          assert.is(pooled[i]!.matrix.numBins, inline.matrix.numBins, label);
          assert.ok(pooled[i]!.matrix.data.length > 0, label);
          assert.ok(
            Buffer.from(pooled[i]!.matrix.data.buffer).equals(Buffer.from(inline.matrix.data.buffer)),
            `${label}: bit-identical features`,
          );
          assert.equal(pooled[i]!.notes, inline.notes);
          assert.is(pooled[i]!.durationSec, inline.durationSec);
        }
        assert.equal(pooled[4]!.notes, ['resampled 22050 -> 16000 Hz']);
      } finally {
        await pool.close();
      }
    }
    const badSpec = await FeaturePool.start({ type: 'nemo-mel', numBins: -3 } as FrontendSpec, 1).then(
      () => null,
      (e: Error) => e,
    );
    assert.instance(badSpec, RoteError, "a bad frontend spec fails the pool start with the frontend's own error");
    const closed = await FeaturePool.start({ type: 'nemo-mel' }, 1);
    await closed.close();
    await closed.close();
    assert.instance(
      await closed.extract(paths[0]!).then(
        () => null,
        (e: Error) => e,
      ),
      Error,
      'a closed pool refuses work',
    );
  } finally {
    remove();
  }
});

test('transcribeFiles: the same rows, in the same order, with 0 and 2 feature workers, for every test model', async () => {
  const items = SPEECH.map((s) => ({ id: s.id, path: s.path, reference: s.text }));
  for (const dir of FAMILY_DIRS) {
    const model = await loadModel(join(MODELS, dir), { provider: 'cpu', threads: 1 });
    try {
      // Small batches so that several are prepared ahead at once.
      const statsSeen: TranscribeStats[] = [];
      const inline = await rowsInOrder(model, items, {
        featureWorkers: 0,
        batchFrames: 1500,
        onStats: (s) => statsSeen.push(s),
      });
      const pooled = await rowsInOrder(model, items, {
        featureWorkers: 2,
        batchFrames: 1500,
        onStats: (s) => statsSeen.push(s),
      });
      assert.is(inline.length, items.length, dir);
      assert.equal(pooled, inline, `${dir}: rows equal`);
      assert.equal(
        statsSeen.map((s) => [s.featureWorkers, s.featureUtterances]),
        [
          [0, items.length],
          [2, items.length],
        ],
        `${dir}: stats`,
      );
      for (const s of statsSeen)
        assert.ok(s.featureSec > 0 && s.featureWaitSec >= 0 && s.wallSec >= s.featureWaitSec, JSON.stringify(s));
    } finally {
      await model.close();
    }
  }
});

test('transcribeFiles with workers: a worker-side failure is skipped or raised as on the main thread; stopping early ends cleanly', async () => {
  const { dir, remove } = temporaryDirectory('feature-pool-bad');
  // kaldi fbank (snip_edges false) makes no frame from 10 samples: the header probe passes, feature extraction fails.
  const model = await loadModel(join(MODELS, 'sidecar-ctc'), { provider: 'cpu', threads: 1 });
  try {
    const tiny = join(dir, 'tiny.wav');
    writeFileSync(tiny, encodeWav16(new Float32Array(10).fill(0.1), 16000));
    const items = [...SPEECH.slice(0, 3).map((s) => ({ id: s.id, path: s.path })), { id: 'tiny', path: tiny }];
    const outcomes = [];
    for (const featureWorkers of [0, 2]) {
      const error = await rowsInOrder(model, items, { featureWorkers }).then(
        () => null,
        (e: Error) => e,
      );
      assert.instance(error, RoteError, `workers ${featureWorkers}`);
      const skipped: string[] = [];
      const rows = await rowsInOrder(model, items, {
        featureWorkers,
        skipBad: true,
        onSkip: (s) => skipped.push(`${s.id}: ${s.reason}`),
      });
      outcomes.push({ error: error!.message, skipped, rows });
    }
    assert.match(outcomes[0]!.error, /tiny\.wav: too short for one feature frame/);
    assert.equal(outcomes[1], outcomes[0], 'same error, same skips, same rows');
    assert.is(outcomes[0]!.rows.length, 3);

    let stats: TranscribeStats | null = null;
    let seen = 0;
    for await (const _row of transcribeFiles(
      model,
      SPEECH.map((s) => ({ id: s.id, path: s.path })),
      { featureWorkers: 2, batchFrames: 600, onStats: (s) => (stats = s) },
    )) {
      seen++;
      break;
    }
    assert.is(seen, 1);
    assert.ok(stats !== null, 'the generator ran its cleanup (pool closed) when the caller stopped early');
  } finally {
    await model.close();
    remove();
  }
});

test.run();
