import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importCanarySet, readCanarySet } from '../../src/canary/index.ts';
import { rejectsWithRoteError } from './helpers.ts';

const SPEECH = new URL('../fixtures/models/speech/', import.meta.url).pathname;

function tsv(rows: string[][]): string {
  return `${rows.map((row) => row.join('\t')).join('\n')}\n`;
}

let work = '';
test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'rote-import-language-'));
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('import-canaries records the list language, or each row language when they differ', async () => {
  const list = join(work, 'list.tsv');
  await writeFile(
    list,
    tsv([
      ['id', 'text', 'repetitions', 'audio'],
      ['a', 'Haus Garten Straße', '1', 'utt-00.wav'],
      ['b', 'Tür Fenster', 'held-out', 'utt-01.wav'],
    ]),
  );
  const german = await importCanarySet({ list, audioDir: SPEECH, out: join(work, 'de'), language: 'de' });
  assert.is(german.set.parameters.language, 'de');
  assert.ok(german.set.canaries.every((canary) => canary.language === undefined));
  assert.is((await readCanarySet(join(work, 'de'))).parameters.language, 'de');

  const mixed = join(work, 'mixed.jsonl');
  await writeFile(
    mixed,
    [
      { id: 'a', text: 'дом хорошо', repetitions: 1, audio: 'utt-00.wav', language: 'ru' },
      { id: 'b', text: 'Haus Garten', repetitions: null, audio: 'utt-01.wav' },
      { id: 'c', text: '我们知道', repetitions: null, audio: 'utt-02.wav', language: 'CMN' },
    ]
      .map((row) => JSON.stringify(row))
      .join('\n'),
  );
  const result = await importCanarySet({ list: mixed, audioDir: SPEECH, out: join(work, 'mixed'), language: 'de' });
  assert.is(result.set.parameters.language, 'mul');
  const byText = new Map(result.set.canaries.map((canary) => [canary.text, canary.language]));
  assert.equal(Object.fromEntries(byText), { 'дом хорошо': 'ru', 'Haus Garten': 'de', 我们知道: 'cmn' });
  const read = await readCanarySet(join(work, 'mixed'));
  assert.equal(
    read.canaries.map((canary) => canary.language).sort(),
    ['cmn', 'de', 'ru'],
    'the per-canary language survives a read (and the set id covers it)',
  );
});

test('import-canaries refuses digits and malformed language codes, naming the line', async () => {
  const list = join(work, 'digits.tsv');
  await writeFile(
    list,
    tsv([
      ['id', 'text', 'repetitions', 'audio', 'language'],
      ['a', 'room twelve', '1', 'utt-00.wav', 'en'],
      ['b', 'कमरा १२', 'held-out', 'utt-01.wav', 'hi'],
    ]),
  );
  await rejectsWithRoteError(
    () => importCanarySet({ list, audioDir: SPEECH, out: join(work, 'x') }),
    /digits\.tsv:3: text "कमरा १२" holds a digit; .*write numbers as words/,
  );
  await writeFile(
    list,
    tsv([
      ['id', 'text', 'repetitions', 'audio', 'language'],
      ['a', 'room twelve', '1', 'utt-00.wav', 'English!'],
      ['b', 'room ten', 'held-out', 'utt-01.wav', ''],
    ]),
  );
  await rejectsWithRoteError(
    () => importCanarySet({ list, audioDir: SPEECH, out: join(work, 'x') }),
    /digits\.tsv:2: language "English!" is not a language code/,
  );
  await rejectsWithRoteError(
    () => importCanarySet({ list, audioDir: SPEECH, out: join(work, 'x'), language: 'german language' }),
    /--language: language "german language" is not a language code/,
  );
});

test.run();
