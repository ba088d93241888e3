/**
 * Canaries in other languages, end to end: German, Russian, Hindi and Mandarin sets
 * generated with espeak-ng's voices and the shipped word lists, audited by a character
 * CTC model whose vocabulary covers those scripts (scripts/models/make_multiscript_model.py),
 * and refused by the English-only character model (test/fixtures/models/sidecar-ctc).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCanarySet, loadWordList, readCanarySet } from '../../src/canary/index.ts';
import { canaryLanguage, languageWordlistPath } from '../../src/canary/languages.ts';
import { audit, checkCanaries } from '../../src/audit/index.ts';
import { loadModel, referenceFrameBudget } from '../../src/asr/index.ts';
import { errorRates } from '../../src/audit/stats/index.ts';
import { normalizeText } from '../../src/util/normalize-text.ts';
import { formatCanaryCheck } from '../../src/cli/check-canaries.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const MULTISCRIPT_MODEL = join(ROOT, 'test/fixtures/models/multiscript-ctc');
const ENGLISH_MODEL = join(ROOT, 'test/fixtures/models/sidecar-ctc');
const LANGUAGES = ['de', 'ru', 'hi', 'cmn'] as const;
const SCRIPT: Record<(typeof LANGUAGES)[number], RegExp> = {
  de: /^[a-zäöüß ]+$/u,
  ru: /^[а-яё ]+$/u,
  hi: /^[\u0900-\u097f ]+$/u,
  cmn: /^\p{Script=Han}+$/u,
};

let work = '';
const sets = new Map<string, string>();

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'rote-languages-'));
  for (const language of LANGUAGES) {
    const out = join(work, language);
    // 2x: the fixture model emits 25 frames/s; a few canaries per group keep synthesis small.
    await generateCanarySet({
      out,
      seed: `languages-${language}`,
      language,
      words: 3,
      repetitions: [1, 4],
      perGroup: 3,
      holdout: 4,
      speed: 2,
      concurrency: 1,
    });
    sets.set(language, out);
  }
});

test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('each set is in its language: recorded, real words of its list, its voices, its script (Mandarin without spaces)', async () => {
  for (const language of LANGUAGES) {
    const set = await readCanarySet(sets.get(language)!);
    assert.is(set.parameters.language, language);
    const words = new Set((await loadWordList(languageWordlistPath(canaryLanguage(language)))).words);
    for (const canary of set.canaries) {
      assert.match(canary.text, SCRIPT[language], `${language}: ${canary.text}`);
      assert.ok(canaryLanguage(language).voices.includes(canary.tts.voice), canary.tts.voice);
      if (language === 'cmn') {
        // Three list words joined without spaces: some split of the text into three list words exists.
        const text = canary.text;
        const splits = [...Array(text.length).keys()].flatMap((i) =>
          [...Array(text.length).keys()].map((j) => [text.slice(0, i), text.slice(i, j), text.slice(j)]),
        );
        assert.ok(
          splits.some((parts) => parts.every((part) => words.has(part))),
          `${text} is not three words of words-cmn.txt`,
        );
      } else {
        const parts = canary.text.split(' ');
        assert.is(parts.length, 3);
        for (const part of parts) assert.ok(words.has(part), `${part} is not in words-${language}.txt`);
      }
    }
  }
});

test('a model whose vocabulary covers the scripts can emit every canary; the audit scores them with the normalization', async () => {
  for (const language of LANGUAGES) {
    const dir = sets.get(language)!;
    const check = await checkCanaries({ canaries: dir, model: MULTISCRIPT_MODEL, provider: 'cpu' });
    assert.equal(check.missingCharacters, [], `${language}: ${check.missingCharacters.join(' ')}`);
    assert.is(check.infeasible, 0, `${language}: ${check.infeasible} infeasible`);
    const report = await audit({ canaries: dir, model: MULTISCRIPT_MODEL, provider: 'cpu', bootstrapResamples: 300 });
    assert.is(report.feasibility.infeasible, 0);
    assert.is(report.feasibility.missingCharacters, undefined);
    assert.is(report.rows.length, 10);
    for (const row of report.rows) {
      const expected = errorRates(row.reference, row.hypothesis);
      assert.is(row.cer, expected.cer);
      assert.is(row.wer, expected.wer);
      // Mandarin: WER counts characters (no spaces); the others: three words.
      assert.is(
        row.referenceWords,
        language === 'cmn' ? [...normalizeText(row.reference)].length : 3,
        `${language}: ${row.reference}`,
      );
    }
    assert.ok(report.verdict.status !== 'inconclusive' || !/vocabulary/.test(report.verdict.sentence));
  }
});

test('a model trained on English cannot be audited with Russian or Hindi canaries: check-canaries names the characters, the audit is inconclusive', async () => {
  for (const language of ['ru', 'hi'] as const) {
    const dir = sets.get(language)!;
    const check = await checkCanaries({ canaries: dir, model: ENGLISH_MODEL, provider: 'cpu' });
    assert.is(check.usable, false);
    assert.is(check.infeasible, 10);
    assert.is(check.unemittable, 10);
    const set = await readCanarySet(dir);
    const letters = new Set([...set.canaries.map((canary) => canary.text).join('')].filter((c) => c !== ' '));
    assert.equal(new Set(check.missingCharacters), letters, `${language}: every letter is missing`);
    // No character can be emitted at all: the check says so and names them, instead of a frame budget of 0 tokens.
    assert.is(check.tightest, null);
    const text = formatCanaryCheck(check);
    assert.not.match(text, /tightest needs|of its (output )?frames/);
    assert.match(text, /NOT usable: no canary text holds a single character this model's vocabulary can emit/);
    const groupLines = text.split('\n').filter((line) => /^ {2}(held-out|\d+ repetitions?) /.test(line));
    assert.is(groupLines.length, check.byGroup.length);
    check.byGroup.forEach((group, i) => {
      const line = groupLines[i]!;
      assert.match(
        line,
        /cannot be recognized: no character of their texts is one the model's vocabulary can emit \("/,
      );
      assert.ok(line.includes(JSON.stringify(group.missingCharacters[0])), line);
    });
    const report = await audit({ canaries: dir, model: ENGLISH_MODEL, provider: 'cpu', bootstrapResamples: 300 });
    assert.is(report.verdict.status, 'inconclusive');
    assert.is(report.feasibility.infeasible, 10);
    assert.ok(report.feasibility.missingCharacters!.length > 0);
    assert.ok(
      report.verdict.inconclusiveReasons.some((reason) => reason.includes('vocabulary cannot emit')),
      report.verdict.inconclusiveReasons.join('\n'),
    );
  }
});

test('a BPE vocabulary: a text that needs <unk> is infeasible, whether its script is unwritten or one letter has no piece', async () => {
  // The toy BPE model holds every letter a-z as a piece (as a real SentencePiece model holds every character
  // of its training text); a copy whose "k" and continuation "b" pieces write other letters has gaps in Latin.
  const gappy = join(work, 'nemo-ctc-gaps');
  await cp(join(ROOT, 'test/fixtures/models/nemo-ctc'), gappy, { recursive: true });
  const tokens = await readFile(join(gappy, 'tokens.txt'), 'utf8');
  await writeFile(join(gappy, 'tokens.txt'), tokens.replace(/^k (\d+)$/mu, 'é $1').replace(/^b (\d+)$/mu, 'ü $1'));
  for (const [dir, cases] of [
    [
      join(ROOT, 'test/fixtures/models/nemo-ctc'),
      [
        ['Дом kv', ['д', 'о', 'м']],
        ['kv job the', []],
      ],
    ],
    [
      gappy,
      [
        ['bat the', []],
        ['kv the', ['k']],
        ['bob', ['b']],
        ['Дом bob', ['д', 'о', 'м', 'b']],
      ],
    ],
  ] as const) {
    const model = await loadModel(dir, { provider: 'cpu' });
    try {
      for (const [text, missing] of cases) {
        const budget = referenceFrameBudget(model, text, 1000);
        assert.equal(budget.missingCharacters, missing, `${dir}: ${text}`);
        assert.is(budget.feasible, missing.length === 0, `${dir}: ${text}`);
      }
    } finally {
      await model.close();
    }
  }
  // German canaries on the gappy model: check-canaries and the audit count every text that needs <unk> (a "k", a
  // "b" inside a word, an "ä" or "ö") as infeasible and name those characters.
  const set = await readCanarySet(sets.get('de')!);
  const needsUnk = (text: string) => [
    ...new Set(
      [...normalizeText(text)].filter(
        (c, i, chars) => c === 'k' || c === 'ä' || c === 'ö' || (c === 'b' && i > 0 && chars[i - 1] !== ' '),
      ),
    ),
  ];
  const expected = set.canaries.filter((canary) => needsUnk(canary.text).length > 0).map((canary) => canary.id);
  assert.ok(expected.length > 0 && expected.length < set.canaries.length, `${expected.length} need <unk>`);
  const check = await checkCanaries({ canaries: sets.get('de')!, model: gappy, provider: 'cpu' });
  for (const canary of check.canaries)
    assert.equal(
      new Set(canary.budget.missingCharacters),
      new Set(needsUnk(set.canaries.find((c) => c.id === canary.id)!.text)),
      canary.id,
    );
  assert.is(check.unemittable, expected.length);
  assert.ok(check.missingCharacters.length > 0);
  // Some texts can be emitted: each group line counts those that cannot, names their characters and still gives a budget.
  const lines = formatCanaryCheck(check).split('\n');
  check.byGroup.forEach((group, i) => {
    if (group.unemittable === 0) return;
    assert.match(lines[i + 1]!, `(${group.unemittable} for characters the model's vocabulary cannot emit: "`);
    assert.match(lines[i + 1]!, /; tightest needs \d+% of its output frames$/);
  });
  const report = await audit({ canaries: sets.get('de')!, model: gappy, provider: 'cpu', bootstrapResamples: 300 });
  for (const id of expected) assert.ok(report.feasibility.infeasibleIds.includes(id), id);
  assert.equal(new Set(report.feasibility.missingCharacters), new Set(check.missingCharacters));
});

test('canary-set.json keeps the language through a read (the set id covers it)', async () => {
  const json = JSON.parse(await readFile(join(sets.get('hi')!, 'canary-set.json'), 'utf8')) as {
    parameters: { language: string };
  };
  assert.is(json.parameters.language, 'hi');
});

test.run();
