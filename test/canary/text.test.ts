import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoteError } from '../../src/util/errors.ts';
import { rejectsWithRoteError } from './helpers.ts';
import { loadExcludedWords, loadWordList, makeCanaryTexts, maxDistinctCanaries } from '../../src/canary/index.ts';
import { isExcluded } from '../../src/canary/words.ts';

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

test('word lists take letters of any script in lower-case NFC; exclusions work across scripts', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rote-test-words-'));
  try {
    const good = join(dir, 'good.txt');
    await writeFile(good, '# Russian, Hindi, Mandarin, German\nдом\nमतलब\n我们\nstraße\n');
    assert.equal((await loadWordList(good)).words, ['дом', 'मतलब', '我们', 'straße']);
    const upper = join(dir, 'upper.txt');
    await writeFile(upper, 'Дом\n');
    await rejectsWithRoteError(
      () => loadWordList(upper),
      /upper\.txt:1: "Дом" is not a word of letters in lower case \(NFC\) \(write it "дом"\)/,
    );
    const digits = join(dir, 'digits.txt');
    await writeFile(digits, 'कमरा१२\n');
    await rejectsWithRoteError(() => loadWordList(digits), /digits\.txt:1: .* \(no digits, punctuation or spaces\)/);
    const manifest = join(dir, 'train.jsonl');
    await writeFile(
      manifest,
      '{"audio_filepath": "a.wav", "duration": 1, "text": "我们知道了。"}\n{"audio_filepath": "b.wav", "duration": 1, "text": "ДОМ, хорошо!"}\n',
    );
    const excluded = await loadExcludedWords(manifest);
    assert.ok(isExcluded(excluded, 'дом', true), 'case-folded Cyrillic word');
    assert.not.ok(isExcluded(excluded, 'до', true), 'a spaced-script word must match whole');
    assert.ok(isExcluded(excluded, '知道', false), 'a Mandarin word inside an unspaced sentence');
    assert.not.ok(isExcluded(excluded, '现在', false));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('texts of scripts without spaces join their words directly; a text equal to another after joining is drawn again', () => {
  // 我+们我 and 我们+我 both spell 我们我: six ordered pairs, five distinct texts.
  const words = ['我', '们我', '我们'];
  const texts = makeCanaryTexts({ count: 5, wordsPerCanary: 2, words, seed: 's', separator: '' });
  assert.equal([...texts].sort(), ['们我我', '们我我们', '我们们我', '我们我', '我我们'].sort());
  assert.throws(
    () => makeCanaryTexts({ count: 6, wordsPerCanary: 2, words, seed: 's', separator: '' }),
    /only 5 distinct canaries of 2 words were found/,
  );
});

test.run();
