/**
 * FeatureCache: a second transcription of the same files with the same frontend takes every file's
 * features from the cache and gives the same rows; another frontend, or a file changed on disk,
 * computes them anew. On the committed fixtures (scripts/models/make_test_models.py).
 */
import { copyFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FeatureCache, loadModel, transcribeFiles, type TranscriptionRow } from '../../src/asr/index.ts';
import { MODELS, speechFixtures, temporaryDirectory } from './helpers.ts';

const work = temporaryDirectory('feature-cache');
test.after(() => work.remove());

async function transcribe(modelDir: string, cache: FeatureCache, paths: string[]): Promise<TranscriptionRow[]> {
  const model = await loadModel(modelDir, { provider: 'cpu' });
  const rows: TranscriptionRow[] = [];
  try {
    const items = paths.map((path, i) => ({ id: `u${i}`, path }));
    for await (const row of transcribeFiles(model, items, { featureWorkers: 0, featureCache: cache })) rows.push(row);
  } finally {
    await model.close();
  }
  return rows;
}

test('the same files and frontend: features from the cache, identical rows; another frontend or a changed file: computed', async () => {
  const paths = speechFixtures()
    .slice(0, 6)
    .map((fixture, i) => {
      const copy = join(work.dir, `${i}.wav`);
      copyFileSync(fixture.path, copy);
      return copy;
    });
  const cache = new FeatureCache();
  const first = await transcribe(join(MODELS, 'nemo-ctc'), cache, paths);
  assert.equal([cache.hits, cache.misses], [0, 6]);
  const second = await transcribe(join(MODELS, 'nemo-ctc'), cache, paths);
  assert.equal([cache.hits, cache.misses], [6, 6]);
  assert.equal(second, first);

  // 128 mel bins instead of 80: another frontend spec, never served the 80-bin features.
  await transcribe(join(MODELS, 'nemo-ctc-128'), cache, paths);
  assert.equal([cache.hits, cache.misses], [6, 12]);

  // A file rewritten since (its modification time moved): computed again.
  utimesSync(paths[0]!, new Date(), new Date(Date.now() + 5000));
  await transcribe(join(MODELS, 'nemo-ctc'), cache, paths);
  assert.equal([cache.hits, cache.misses], [11, 13]);
});

test("a row's notes are its own: the same canary scored again through the cache gets the same notes, not the earlier rows' too", async () => {
  const [fixture] = speechFixtures();
  const cache = new FeatureCache();
  const notes: string[][] = [];
  for (let round = 0; round < 3; round++) {
    const model = await loadModel(join(MODELS, 'nemo-ctc'), { provider: 'cpu' });
    try {
      // 中文: characters the vocabulary lacks, which scoring notes on the row.
      const items = [{ id: 'u0', path: fixture!.path, reference: `${fixture!.text} 中文` }];
      for await (const row of transcribeFiles(model, items, { featureWorkers: 0, featureCache: cache }))
        notes.push([...row.notes]);
    } finally {
      await model.close();
    }
  }
  assert.is(cache.hits, 2);
  assert.ok(
    notes[0]!.some((note) => note.includes('中')),
    notes[0]!.join('; '),
  );
  assert.equal(notes[1], notes[0]);
  assert.equal(notes[2], notes[0]);
});

test('bounded in bytes: the least recently used entries are dropped first', async () => {
  const paths = speechFixtures()
    .slice(0, 3)
    .map((fixture) => fixture.path);
  const unbounded = new FeatureCache();
  await transcribe(join(MODELS, 'nemo-ctc'), unbounded, paths);
  assert.is(unbounded.size, 3);
  const bounded = new FeatureCache(unbounded.bytes - 1);
  await transcribe(join(MODELS, 'nemo-ctc'), bounded, paths);
  assert.ok(bounded.size < 3 && bounded.size > 0 && bounded.bytes <= unbounded.bytes - 1, `${bounded.size} files`);
  // The first file was the least recently used: gone, so a third pass misses it.
  const misses = bounded.misses;
  await transcribe(join(MODELS, 'nemo-ctc'), bounded, paths.slice(0, 1));
  assert.is(bounded.misses, misses + 1);
});

test.run();
