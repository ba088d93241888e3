import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoteError } from '../../src/util/errors.ts';
import { rejectsWithRoteError } from './helpers.ts';
import { loadExcludedWords, loadWordList, makeCanaryTexts, maxDistinctCanaries } from '../../src/canary/index.ts';

test('shipped word list: thousands of plain lower-case words', async () => {
  const list = await loadWordList();
  assert.ok(list.words.length >= 3000, `only ${list.words.length} words`);
  for (const word of list.words) assert.ok(/^[a-z]{3,10}$/.test(word), word);
  assert.is(new Set(list.words).size, list.words.length);
  assert.match(list.sha256, /^[0-9a-f]{64}$/);
});

test('same seed gives the same texts; another seed other texts', async () => {
  const { words } = await loadWordList();
  const a = makeCanaryTexts({ count: 50, wordsPerCanary: 6, words, seed: 's1' });
  const b = makeCanaryTexts({ count: 50, wordsPerCanary: 6, words, seed: 's1' });
  const c = makeCanaryTexts({ count: 50, wordsPerCanary: 6, words, seed: 's2' });
  assert.equal(a, b);
  assert.not.equal(a, c);
});

test('texts are unique, of distinct words from the list', () => {
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
  // 5 * 4 * 3 = 60 possible texts: ask for all of them.
  const texts = makeCanaryTexts({ count: 60, wordsPerCanary: 3, words, seed: 'x' });
  assert.is(new Set(texts).size, 60);
  for (const text of texts) {
    const parts = text.split(' ');
    assert.is(parts.length, 3);
    assert.is(new Set(parts).size, 3, text);
    for (const part of parts) assert.ok(words.includes(part));
  }
  assert.is(maxDistinctCanaries(5, 3), 60);
});

test('a tiny word list is refused, saying how many canaries it can give', () => {
  try {
    makeCanaryTexts({
      count: 61,
      wordsPerCanary: 3,
      words: ['alpha', 'bravo', 'charlie', 'delta', 'echo'],
      seed: 'x',
      source: 'tiny.txt',
    });
    assert.unreachable('should refuse');
  } catch (error) {
    assert.instance(error, RoteError);
    assert.match((error as Error).message, /tiny\.txt has 5 usable words, which give at most 60 distinct canaries/);
  }
});

test('word list errors name file and line; exclusions read manifests', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rote-test-words-'));
  try {
    const bad = join(dir, 'bad.txt');
    await writeFile(bad, '# comment\napple\nU.S.A.\n');
    await rejectsWithRoteError(() => loadWordList(bad), /bad\.txt:3: "U\.S\.A\." is not a word/);
    const manifest = join(dir, 'train.jsonl');
    await writeFile(
      manifest,
      '{"audio_filepath": "a.wav", "duration": 1, "text": "Apple pie"}\n{"audio_filepath": "b.wav", "duration": 1, "text": "river"}\n',
    );
    const excluded = await loadExcludedWords(manifest);
    assert.equal([...excluded.words].sort(), ['apple', 'pie', 'river']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
